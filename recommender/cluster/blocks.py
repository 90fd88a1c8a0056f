"""Model folders as the workers see them: opened once per worker process, by path.

A task of the cluster takes a model folder's PATH (a str) and a block of rows or ids, never
a model: shipping a model per task would cost its size on every block, and the workers read
the folder from storage they share with the client (a local disk for a cluster on this
machine, NFS or the like for a real one). :func:`open_folder` keeps the models it loaded
and follows their folders (a change logged, pins edited, a new folder swapped in at the
path: :meth:`~recommender.ArticleRecommender.refresh`), so a long-lived worker serves the
folder as it is now.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

__all__ = ["forget", "open_block", "open_folder", "worker_threads"]

#: Models kept per worker process, least recently used dropped first.
KEEP = 4

_models: OrderedDict = OrderedDict()
_lock = threading.Lock()


def open_folder(path, *, rows: bool = True):
    """The model of the folder ``path``, loaded once per process and brought up to date
    with its folder on each call (three ``stat`` calls when nothing changed). Shared by the
    tasks of a process: take a :meth:`~recommender.ArticleRecommender.snapshot` before
    setting anything on it. ``rows=False``: of a sharded folder, the model without its rows
    (:func:`open_block` gives those a block reads); of another folder, the whole model."""
    from ..model.estimator import ArticleRecommender  # the engine, imported on the worker

    key = (str(Path(path).resolve()), rows)
    with _lock:
        model = _models.get(key)
        if model is None or (not rows and model.needs_refresh()):
            # without rows, a refresh would replay the changes over no rows: load again
            model = ArticleRecommender.from_folder(key[0], keep=None if rows else ())
        elif model.needs_refresh():
            model.refresh()
        return _keep(key, model)


def open_block(path, ids, filters: dict):
    """The model to score the block ``ids`` with under ``filters`` (those of
    ``recommend_batch``): of a sharded folder, a snapshot holding the rows of the shards
    that the block's windows touch and those of the articles pinned to its articles (kept
    while blocks need the same shards), and the block's own articles (their queries only,
    for More Like This without a re-ranker; else their shards); of another folder, or of
    one with live changes, the whole model (:func:`open_folder`)."""
    import numpy as np

    base = open_folder(path, rows=False)
    if base.shards_ is None or base.live_ is not None:
        return base if base.shards_ is None else open_folder(path)
    rows = base.rows_of(ids)
    lo, hi = base.candidate_windows(filters.get("as_of"), n=len(rows),
                                    **{name: filters.get(name)
                                       for name in ("max_age", "since", "until")})
    # the candidates: the windows, and the articles pinned to the block's (a pinned
    # article is shown with its score for the source)
    pinned = [other for source in ids for other, _ in base.pins_.pins_of(str(source))
              if base.catalogue_.row_or_none(other) is not None]
    pinned = base.rows_of(pinned).astype(np.int64)
    # More Like This without a re-ranker reads only the sources' queries: their shards
    # need not be read, and blocks of one window share one set of shards
    queries_only = base.content_.is_bm25 and base.reranker_ is None
    sources = np.zeros(0, np.int64) if queries_only else rows
    keep = tuple(base.shards_.touching(np.r_[lo, pinned, sources],
                                       np.r_[hi, pinned + 1, sources + 1]).tolist())
    key = (str(Path(path).resolve()), base.version(), id(base), keep)
    with _lock:
        model = _models.get(key)
        if model is None:
            model = base.with_shards(keep)
        model = _keep(key, model)
    return model.with_query_rows(rows) if queries_only else model


def _keep(key, model):
    _models[key] = model
    _models.move_to_end(key)
    while len(_models) > KEEP:
        _models.popitem(last=False)
    return model


def forget() -> None:
    """Drop the models this process keeps (tests; a worker that must free the memory)."""
    with _lock:
        _models.clear()


def worker_threads() -> int:
    """The threads of the worker running this task (1 outside a worker): what a task scores
    with, whatever ``n_jobs`` the folder's model was saved with (a worker of one thread
    that ran the kernel on two would take a second core from the other worker)."""
    try:
        from distributed import get_worker

        return int(get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):
        return 1
