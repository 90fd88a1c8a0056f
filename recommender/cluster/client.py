"""A Dask client for one command: to an existing scheduler, or to a cluster on this machine.

Dask is imported only here and only when a command asks for a cluster, so that the local
paths never pay for it (nor need it installed).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import socket

from ..errors import ClusterError, MissingDependencyError, ParameterError

__all__ = ["CLOSE_TIMEOUT", "CONNECT_TIMEOUT", "INSTALL", "LOCAL_CONFIG", "cluster_client",
           "require"]

logger = logging.getLogger(__name__)

#: The install hint of the cluster's packages.
INSTALL = "pip install 'recommender[distributed]'"
#: Seconds to wait for a scheduler to answer before the address is called unreachable.
CONNECT_TIMEOUT = 10
#: Seconds to wait for a local cluster to close: Dask's close can wait for ever on a worker
#: its nanny is restarting (one killed as the run ended), which only this process's exit
#: ends.
CLOSE_TIMEOUT = 30
#: Dask's settings for a cluster made on this machine (its nanny, scheduler and workers read
#: them when they start; the process's own settings are not changed). It has no dashboard,
#: so its workers keep no statistical profile for one (Dask samples each worker's threads
#: every 10 ms, in its event loop), and its monitors poll less often. On two cores, where
#: Dask's threads share the cores with the work, a worker's event loop then used 0.3 s of
#: CPU every 10 s instead of 0.45, and 2 workers scored 1.79 times the lists of 1 worker
#: instead of 1.69 (BENCHMARKS.md). A cluster the user started (``--scheduler``) keeps the
#: user's settings.
LOCAL_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",  # the event loop's health check (20 ms)
    "distributed.admin.system-monitor.interval": "2s",  # CPU and memory figures (500 ms)
    "distributed.worker.memory.monitor-interval": "500ms",  # the memory limits (100 ms)
}
#: Dask's loggers, kept to warnings: its start-up lines would drown the command's own.
_LOGGERS = ("distributed", "dask")


def require(what: str = "running on a Dask cluster"):
    """The ``distributed`` module; :class:`~recommender.errors.MissingDependencyError`
    with the install hint when Dask (or dask.distributed) cannot be imported."""
    try:
        importlib.import_module("dask")
        return importlib.import_module("distributed")
    except ImportError as exc:
        name = getattr(exc, "name", None) or "dask.distributed"
        raise MissingDependencyError(
            f"{what} needs dask.distributed, which is not installed "
            f"({name} cannot be imported): {INSTALL}") from None


@contextlib.contextmanager
def cluster_client(scheduler: str | None = None, workers: int | None = None, *,
                   timeout: float = CONNECT_TIMEOUT):
    """A ``distributed.Client``, closed on exit: to the scheduler at ``scheduler``
    (``tcp://HOST:8786``), or to a new cluster of ``workers`` processes of one thread each
    on the loopback interface (closed too). Exactly one of the two.

    One thread a worker: the work is NumPy/SciPy and numba on blocks, and processes keep
    one block's GIL-holding Python parts from stalling another's. The cluster's Dask
    settings are :data:`LOCAL_CONFIG`'s. Raises ParameterError for
    a bad ``workers`` or address, or both/neither given, and ClusterError naming the
    address when no scheduler answers there within ``timeout`` seconds.
    """
    if (scheduler is None) == (workers is None):
        raise ParameterError("give either a scheduler address or a number of workers, "
                             "not both nor neither")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ParameterError(f"the number of workers must be a positive integer, got "
                             f"{workers!r}")
    distributed = require()
    with _quiet():
        if scheduler is not None:
            client = _connect(distributed, scheduler, timeout)
            try:
                yield client
            finally:
                client.close()
            return
        with importlib.import_module("dask").config.set(LOCAL_CONFIG):
            cluster = distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address=None, silence_logs=logging.WARNING,
                # no dashboard; the scheduler's small HTTP server on a free loopback port,
                # not on 8787 where another cluster may be
                scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"})
        try:
            client = distributed.Client(cluster)
            try:
                yield client
            finally:
                client.close()
        finally:
            try:
                cluster.close(timeout=CLOSE_TIMEOUT)
            except TimeoutError:
                logger.warning("the local Dask cluster did not close within %d s (a worker "
                               "was restarting); its processes end with this one",
                               CLOSE_TIMEOUT)


def _connect(distributed, address: str, timeout: float):
    """A client of the scheduler at ``address``, or a one-line error that names it."""
    if not isinstance(address, str) or not address.strip():
        raise ParameterError(f"expected a scheduler address such as tcp://HOST:8786, got "
                             f"{address!r}")
    try:
        _probe(distributed, address, timeout)
        return distributed.Client(address, timeout=f"{timeout}s")
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"no Dask scheduler answered at {address} ({_reason(exc)}; waited "
                           f"up to {timeout:g} s): start one with 'dask scheduler', or "
                           f"check the address") from None
    except ValueError as exc:
        raise ParameterError(f"bad scheduler address {address!r} ({_reason(exc)}): "
                             f"expected tcp://HOST:PORT") from None


def _probe(distributed, address: str, timeout: float) -> None:
    """Fail fast when nothing listens at a TCP ``address``: a refused connection is known at
    once, where the client would retry until its timeout (and leave a half-made client
    that complains when the interpreter exits)."""
    scheme, location = distributed.comm.parse_address(address)  # ValueError if malformed
    if scheme != "tcp":
        return
    host, port = distributed.comm.parse_host_port(location)
    with socket.create_connection((host, port), timeout=timeout):
        pass


def _reason(exc: Exception) -> str:
    return " ".join((str(exc) or type(exc).__name__).split())[:160]


@contextlib.contextmanager
def _quiet():
    """Dask's loggers at warnings only while the client lives, restored after."""
    loggers = [logging.getLogger(name) for name in _LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
