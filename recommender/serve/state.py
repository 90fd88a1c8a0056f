"""The model one worker serves, and how it follows its folder.

Every worker process (uvicorn ``--workers N``) loads the model folder itself: the large
arrays are memory-mapped, so the workers share their pages. Changes never travel from one
worker's memory to another's; they go through the folder. ``model.add`` and
``model.withdraw`` append to the folder's change log and return once it is on disk, and
every request of every worker starts with :meth:`ServedModel.stale`: the
``needs_refresh()`` of the snapshot it would read, two ``stat`` calls that tell whether the
log grew or the folder was replaced (compacted, retrained) since that snapshot was taken.
If so the worker catches up (:meth:`ServedModel.refresh`) before it answers. So a change
acknowledged by one worker is in the answers of every worker from the next request on
(read-your-writes across workers): the acknowledgement comes after the log is written, and
the next request, wherever it lands, sees the log grown and replays it.

The worker answers from a :meth:`~recommender.ArticleRecommender.snapshot` of its model:
a shallow copy that the later ``add``, ``withdraw`` and ``refresh`` of the model never
change (they assign new arrays, never modify them in place). A request reads
:attr:`ServedModel.current` once, at its start, and keeps that snapshot to its end: a
reload or a catch-up in the middle of a request swaps the worker's snapshot, never the
request's. Changing the model (catch-up, write, reload) is serialised by one lock per
worker; reading the current snapshot takes no lock.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from pathlib import Path
from typing import Callable, NamedTuple

from ..model.estimator import ArticleRecommender

__all__ = ["INFO_CACHE", "Served", "ServedModel"]

logger = logging.getLogger(__name__)


class Served(NamedTuple):
    """What a request reads: a snapshot of the model, its version and live status as they
    were when it was taken, and ``info(id)``: ``model.article_info(id)`` remembered for the
    :data:`INFO_CACHE` most recent ids (a list shows titles and dates of the same popular
    articles again and again; the dict returned must not be changed)."""

    model: ArticleRecommender
    version: str
    status: dict
    info: Callable[[str], dict]


#: How many articles' facts (title, date, category) each snapshot remembers.
INFO_CACHE = 1 << 16


class ServedModel:
    """The model of ``path`` as one worker serves it (see the module's docstring).

    ``model``: an already loaded model of that folder (else it is loaded, the sha256 of its
    files checked with ``verify``). ``on_change(served)`` is called after each swap of the
    snapshot (the metrics' article gauge), ``on_write()`` after each write acknowledged
    (the sync of the site's table)."""

    def __init__(self, path, *, model: ArticleRecommender | None = None, verify: bool = False,
                 on_change=None, on_write=None):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._on_change = on_change
        self.on_write = on_write
        self._staleness: tuple[str, dict] | None = None
        self._base = model if model is not None else ArticleRecommender.load(path,
                                                                            verify=verify)
        self.current = self._served(self._base)
        self._changed()

    # -- reading ----------------------------------------------------------------------------
    def stale(self) -> bool:
        """Whether the folder changed since the current snapshot was taken (two ``stat``
        calls). Asked of the snapshot, not of the model it was taken from: that model
        catches up with the log inside every write, before this worker serves the result,
        and a reader that asked it then would be told "fresh" and read the old snapshot
        (found by the slow test of concurrent writers and readers)."""
        return self.current.model.needs_refresh()

    def staleness(self) -> dict:
        """``model.staleness()`` of the current snapshot, computed once per version."""
        served = self.current
        cached = self._staleness
        if cached is None or cached[0] != served.version:
            cached = self._staleness = (served.version, served.model.staleness())
        return cached[1]

    # -- changing -----------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Catch up with the folder (the log grown, the folder replaced); True if the
        snapshot changed. Call it when :meth:`stale` is True, outside the event loop."""
        with self._lock:
            if not self.stale():
                return False  # another request of this worker caught up meanwhile
            # The model changes under the lock only, and its snapshot is served before the
            # lock is let go: behind the folder together, or not at all.
            self._base.refresh()
            self._install(self._base)
            logger.info("worker %d caught up with %s: version %s, %d articles", os.getpid(),
                        self.path, self.current.version, self.current.status["articles"])
            return True

    def add(self, articles):
        """``model.add(articles)``, durable when it returns; its Changes and the version that
        holds them."""
        return self._write(lambda model: model.add(articles))

    def withdraw(self, ids):
        """``model.withdraw(ids)``, durable when it returns; its Changes and the version."""
        return self._write(lambda model: model.withdraw(ids))

    def edit(self, name: str, *args):
        """An editors' call of the model (``pin``, ``unpin``, ``ban``, ``unban``), durable
        when it returns; the pins and the version that holds them."""
        return self._write(lambda model: getattr(model, name)(*args))

    def _write(self, change):
        with self._lock:
            try:
                # Start from the folder's latest state: another worker may have changed it.
                if self._base.needs_refresh():
                    self._base.refresh()
                changes = change(self._base)
            finally:
                if self.stale():  # changed, or caught up before a refused change
                    self._install(self._base)
        if self.on_write is not None:
            self.on_write()
        return changes, self.current.version

    def reload(self, *, verify: bool = True) -> Served:
        """Serve the folder as it is now (a retrained model swapped in at ``path``):
        catch up if it changed since this worker read it (as the next request would), else
        read it again whole. Requests already running finish on the snapshot they hold.
        The whole read is done outside the lock, so this worker keeps answering meanwhile."""
        if self.stale():
            self.refresh()
            return self.current
        model = ArticleRecommender.load(self.path, verify=verify)
        model.snapshot().warm_up()
        with self._lock:
            if model.needs_refresh():  # written to while it loaded
                model.refresh()
            self._install(model)
        logger.info("worker %d reloaded %s: version %s, %d articles", os.getpid(), self.path,
                    self.current.version, self.current.status["articles"])
        return self.current

    def _install(self, model: ArticleRecommender) -> None:
        """Serve a new snapshot of ``model`` (under the lock)."""
        self._base = model
        self.current = self._served(model)
        self._changed()

    @staticmethod
    def _served(model: ArticleRecommender) -> Served:
        snapshot = model.snapshot()
        # One thread per request: the workers are the parallelism. A model trained with
        # --jobs 2 would split each request's scoring over a pool of threads, which costs
        # more than it saves on one request (POST /related: 3.0 ms -> 1.7 ms per text).
        snapshot.n_jobs = 1
        snapshot.warm_up()  # the id look-up and the postings of the new rows, now
        status = snapshot.live_status()
        return Served(snapshot, status["version"], status,
                      functools.lru_cache(INFO_CACHE)(snapshot.article_info))

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self.current)
