"""The neighbour table: every article's precomputed top list, read instead of scored.

Row ``i`` holds the rows and scores of the ``width`` articles most related to article
``i`` under the model's default filters, best first, -1 / -inf padded: exactly what scoring
returns (with numba a list does not depend on ``k``, so its first ``k`` entries are the
top-``k``). The arrays are saved with the model and memory-mapped on load. This is where
the table's update will live when articles are added and withdrawn.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NeighbourTable"]


class NeighbourTable:
    """``indices`` (int32) and ``scores`` (float32) of shape ``(n_articles, width)``.

    ``learned`` records whether the lists are those of a learned re-ranker: a table built
    before :meth:`~recommender.ArticleRecommender.learn` does not answer for the learned
    model, nor the reverse.
    """

    def __init__(self, indices: np.ndarray, scores: np.ndarray, *, learned: bool = False):
        self.indices = indices
        self.scores = scores
        self.learned = learned

    @property
    def width(self) -> int:
        return int(self.indices.shape[1])

    def lists(self, rows: np.ndarray, k: int):
        """The first ``k`` entries of the lists of ``rows``: ``(rows int64, scores float32)``
        of shape ``(len(rows), k)``, -1 / -inf padded (``k`` may exceed the width)."""
        idx = np.full((len(rows), k), -1, np.int64)
        scores = np.full((len(rows), k), -np.inf, np.float32)
        take = min(k, self.width)
        idx[:, :take] = self.indices[rows, :take]
        scores[:, :take] = self.scores[rows, :take]
        return idx, scores
