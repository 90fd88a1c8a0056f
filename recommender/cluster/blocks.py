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

__all__ = ["forget", "open_folder"]

#: Models kept per worker process, least recently used dropped first.
KEEP = 4

_models: OrderedDict = OrderedDict()
_lock = threading.Lock()


def open_folder(path):
    """The model of the folder ``path``, loaded once per process and brought up to date
    with its folder on each call (three ``stat`` calls when nothing changed). Shared by the
    tasks of a process: take a :meth:`~recommender.ArticleRecommender.snapshot` before
    setting anything on it."""
    from ..model.estimator import ArticleRecommender  # the engine, imported on the worker

    key = str(Path(path).resolve())
    with _lock:
        model = _models.get(key)
        if model is None:
            model = ArticleRecommender.load(key)
        elif model.needs_refresh():
            model.refresh()
        _models[key] = model
        _models.move_to_end(key)
        while len(_models) > KEEP:
            _models.popitem(last=False)
        return model


def forget() -> None:
    """Drop the models this process keeps (tests; a worker that must free the memory)."""
    with _lock:
        _models.clear()
