"""Keeping the site's table of lists in step with the service's writes (``--sync URL``).

A CMS that reads its related lists from its own database (a table that a job keeps
filled, as YARPP's cache is) needs the table to change when the service changes the
model: an article added or withdrawn, a pin or a ban. After each write it acknowledges, a
worker pokes its :class:`Syncer`; a thread of the worker then runs
:func:`~recommender.batch.sync.sync_lists`, which rewrites only the lists that changed, in
one transaction, and records up to which change of the folder's log the table is current.
Writes that come while a sync runs are folded into the next one (a burst of adds costs a
sync or two, not one each). A sync that fails (the database away) is logged and retried
at the next write; ``/health`` shows the last sync and its error.

Each worker syncs after its own writes; two workers syncing at once are serialised by the
database (:func:`~recommender.batch.sync.sync_lists` takes the writers' lock), and the
second finds little or nothing left to write.
"""

from __future__ import annotations

import logging
import threading
import time

__all__ = ["Syncer"]

logger = logging.getLogger(__name__)

#: Seconds a poke waits for more writes before the sync starts (a burst, one sync).
SETTLE = 0.2


class Syncer:
    """Syncs ``url`` with the model that ``model()`` returns (a fresh snapshot each time,
    which the sync may refresh without touching what requests read)."""

    def __init__(self, url: str, model, *, settle: float = SETTLE):
        from ..batch.dburl import mask

        self.url, self.shown = url, mask(url)
        self._model = model
        self._settle = settle
        self._wanted = threading.Event()
        self._stop = threading.Event()
        self.last: dict | None = None
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="recommender-sync", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """A write was acknowledged: sync soon."""
        self._wanted.set()

    def status(self) -> dict:
        """The table synced, the last sync's figures and the last error (None if the last
        sync succeeded)."""
        return {"url": self.shown, "last": self.last, "error": self.error}

    def close(self) -> None:
        self._stop.set()
        self._wanted.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        from ..batch.sync import sync_lists

        while not self._stop.is_set():
            self._wanted.wait()
            if self._stop.is_set():
                return
            time.sleep(self._settle)
            self._wanted.clear()
            try:
                report = sync_lists(self._model(), self.url)
            except Exception as exc:  # the database away, a full disk: retried next write
                self.error = " ".join(str(exc).split()) or type(exc).__name__
                logger.error("sync of %s failed (retried at the next write): %s", self.shown,
                             self.error)
                continue
            self.error = None
            self.last = {"lists_changed": report.lists_changed,
                         "lists_removed": report.lists_removed,
                         "rows_written": report.rows_written, "position": report.position,
                         "model": report.model_version, "seconds": round(report.elapsed, 3)}
            logger.info("synced %s: %d lists changed, %d removed, current up to change %d",
                        self.shown, report.lists_changed, report.lists_removed,
                        report.position)
