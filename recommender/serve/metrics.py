"""What the service counts, for Prometheus: requests, latencies, articles, changes.

``GET /metrics`` answers the Prometheus text format. With several worker processes each
one counts in its own files under ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's
multi-process mode; ``recommender serve`` sets that variable to a fresh temporary folder
and removes it at exit), and whichever worker answers ``/metrics`` adds them all up, so a
scrape sees the whole server, not one worker. Without the variable (an app made in a test
or a notebook) the counts are this process's.

The series:

- ``recommender_requests_total{route, method, status}``: answers, by route template (so
  ids do not make a series each) and status;
- ``recommender_request_seconds{route}``: a latency histogram, 0.5 ms to 5 s;
- ``recommender_articles``: the articles the model serves (the most recent value any
  worker set);
- ``recommender_articles_added_total``, ``..._updated_total``, ``..._withdrawn_total``:
  changes acknowledged through this server;
- ``recommender_model_refreshes_total``: a worker caught up with its folder (a change made
  by another process, a compaction, a retrained model, ``/admin/reload``).
"""

from __future__ import annotations

import logging
import os
import time

__all__ = ["Instrument", "Metrics"]

logger = logging.getLogger(__name__)

#: Latency buckets, in seconds: the service answers in about a millisecond.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """The series of one app (prometheus-client imported here, after the service has set
    ``PROMETHEUS_MULTIPROC_DIR``: the library reads it when the first series is made)."""

    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        if self.multiprocess and not _counts_in_files():
            logger.warning("prometheus-client was imported before PROMETHEUS_MULTIPROC_DIR "
                           "was set: /metrics counts this worker's requests only")
            self.multiprocess = False
        # Each app its own registry (two apps in one process must not clash); in
        # multi-process mode the series live in files and a scrape reads the files.
        self.registry = CollectorRegistry()
        registry = None if self.multiprocess else self.registry
        self.requests = Counter("recommender_requests", "Answers by route, method and status",
                                ("route", "method", "status"), registry=registry)
        self.latency = Histogram("recommender_request_seconds", "Time to answer, by route",
                                 ("route",), buckets=BUCKETS, registry=registry)
        self.articles = Gauge("recommender_articles", "Articles the model serves",
                              registry=registry, multiprocess_mode="mostrecent")
        self.added = Counter("recommender_articles_added", "Articles added", registry=registry)
        self.updated = Counter("recommender_articles_updated", "Articles updated",
                               registry=registry)
        self.withdrawn = Counter("recommender_articles_withdrawn", "Articles withdrawn",
                                 registry=registry)
        self.refreshes = Counter("recommender_model_refreshes",
                                 "Times a worker caught up with its model folder",
                                 registry=registry)
        self._counted: dict = {}  # (route, method, status) -> the child counter
        self._timed: dict = {}    # route -> the child histogram

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        counter = self._counted.get(key)
        if counter is None:
            counter = self._counted[key] = self.requests.labels(route, method, str(status))
        counter.inc()
        timer = self._timed.get(route)
        if timer is None:
            timer = self._timed[route] = self.latency.labels(route)
        timer.observe(seconds)

    def changed(self, changes) -> None:
        """Count the changes of one acknowledged add or withdraw."""
        if changes.added:
            self.added.inc(len(changes.added))
        if changes.updated:
            self.updated.inc(len(changes.updated))
        if changes.withdrawn:
            self.withdrawn.inc(len(changes.withdrawn))

    def exposition(self) -> bytes:
        """The Prometheus text of every worker (or of this process)."""
        from prometheus_client import CollectorRegistry, generate_latest, multiprocess

        if not self.multiprocess:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)


def _counts_in_files() -> bool:
    """Whether prometheus-client keeps its values in files (it chose so when imported)."""
    from prometheus_client import values

    return values.ValueClass is not values.MutexValue


class Instrument:
    """ASGI middleware: time and count every answer by route template, and name the worker
    that gave it (header ``X-Worker``: its process id), which lets a client (and the tests)
    see that several workers answer. A plain ASGI wrapper: Starlette's
    ``BaseHTTPMiddleware`` would cost more than the related list itself."""

    def __init__(self, app, metrics: Metrics):
        self.app = app
        self.metrics = metrics
        self.worker = str(os.getpid()).encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server's error middleware answers if the app raises
        worker = self.worker

        async def send_with_worker(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-worker", worker)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_worker)
        finally:
            route = scope.get("route")
            self.metrics.observe(getattr(route, "path", "(no route)"), scope["method"], status,
                                 time.perf_counter() - started)
