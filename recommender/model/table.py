"""The neighbour table: every article's precomputed top list, read instead of scored.

Row ``i`` holds the rows and scores of the ``width`` articles most related to article
``i`` under the model's default filters, best first, -1 / -inf padded: exactly what scoring
returns (with numba a list does not depend on ``k``, so its first ``k`` entries are the
top-``k``). The arrays are saved with the model and memory-mapped on load. This is where
the table's update will live when articles are added and withdrawn.

:func:`table_lists` scores any block of rows as the table holds them, so that a cluster's
workers build a table block by block (:mod:`recommender.cluster.fit`) with the function the
local build uses.
"""

from __future__ import annotations

import numpy as np

from .search import search_rows

__all__ = ["NeighbourTable", "table_lists"]


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


def table_lists(model, rows: np.ndarray, width: int):
    """The lists of the table for the model's ``rows``: ``(rows, scores)`` of shape
    ``(len(rows), width)``, what scoring returns for them with the default filters (the
    model's ``max_age``, no ``as_of``), each list its own article left out. A row's list
    does not depend on the other rows asked with it, so blocks of rows make the whole
    table."""
    return search_rows(model, model.row_queries(rows), width,
                       model.default_request(len(rows)), skip=rows)
