"""Batch scoring: the related list of every article (or of listed ones) written to a file.

The output is written in chunks of articles, to a temporary file renamed into place when
complete (:func:`recommender._files.atomic_file`: a kill leaves the old file whole; while it
runs it holds the lock ``.FILE.lock``, so a second writer of the file fails at once, and it
first removes the temporary files of killed runs), in one of the formats of
:mod:`.sinks`: JSON lines ``{"id": …, "related": [{"id": …, "score": …}, …]}`` or CSV rows
``id,rank,related_id,score``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .._files import atomic_file
from ..errors import ParameterError
from .sinks import SUFFIXES, writer_for

__all__ = ["CHUNK", "score_to_file"]

#: Articles scored per call of ``recommend_batch``: bounds the output held in memory.
CHUNK = 4096


def score_to_file(model, out, *, k: int = 10, ids=None, as_of=None, max_age=None, since=None,
                  until=None, categories=None, progress: bool = False) -> int:
    """Write the top-``k`` related articles of ``ids`` (default: every article served) to
    ``out``.

    ``as_of`` is one time for all or one per id; time filters restrict the candidates,
    never the articles scored. The format follows the suffix: ``.jsonl`` or ``.csv``.
    Returns the number of articles written. Raises
    :class:`~recommender.errors.ParameterError` for another suffix, and
    :class:`~recommender.errors.UnknownArticleError` for an unknown id, before anything
    is written, and :class:`BlockingIOError` if another process is writing ``out``.
    """
    out = Path(out)
    kind = out.suffix.lower()
    if kind not in SUFFIXES:
        raise ParameterError(f"cannot write {out}: the output must end in .jsonl or .csv")
    ids = list(model.served_ids()) if ids is None else list(ids)
    model.rows_of(ids)  # unknown ids fail before anything is written
    per_id = as_of is not None and not isinstance(as_of, str) and np.ndim(as_of) == 1
    with atomic_file(out, "w", newline="") as fh:
        write = writer_for(fh, kind)
        for start in _chunks(len(ids), progress):
            part = ids[start:start + CHUNK]
            times = as_of[start:start + CHUNK] if per_id else as_of
            related, scores = model.recommend_batch(
                part, k, as_of=times, max_age=max_age, since=since, until=until,
                categories=categories)
            for source, row_ids, row_scores in zip(part, related, scores):
                found = np.isfinite(row_scores)
                write(source, row_ids[found].tolist(), row_scores[found].tolist())
    return len(ids)


def _chunks(n: int, progress: bool):
    """The first index of each chunk of ``n`` articles, with a progress bar if asked."""
    chunks = range(0, n, CHUNK)
    if progress:
        from tqdm import tqdm  # imported only when a progress bar is asked for

        chunks = tqdm(chunks, total=len(chunks), unit=" chunks", desc="scoring",
                      disable=None)
    return chunks
