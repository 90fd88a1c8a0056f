"""Start the service: uvicorn, one process or ``workers`` processes, and the run's folders.

With one worker the app is built here, on the model the command has already loaded and
checked. With several, uvicorn's multi-process mode starts each worker as a new process
that builds its own app with the factory :func:`~.app.app_from_environment`, from the
settings this module puts in the environment (:mod:`.settings`); each worker loads the
model folder itself (memory-mapped: the workers share its pages) and follows it
(:mod:`.state`).

The Prometheus counts of a run live in a fresh temporary folder (``PROMETHEUS_MULTIPROC_DIR``)
made before the first worker starts and removed when the server stops, so a run never
counts another's requests.
"""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import logging
import os
import shutil
import signal
import socket
import tempfile
import warnings

from ..errors import MissingDependencyError, ParameterError, UndatedWarning
from .settings import Settings

__all__ = ["FACTORY", "check_port", "quiet_reloads", "require", "run"]

logger = logging.getLogger(__name__)

#: The app factory uvicorn imports in each worker process.
FACTORY = "recommender.serve.app:app_from_environment"
#: The install hint of the service's packages.
INSTALL = "pip install 'recommender[serve]'"


def require() -> None:
    """Raise :class:`~recommender.errors.MissingDependencyError` (with the install hint)
    unless FastAPI, uvicorn and prometheus-client are installed. They are looked up, not
    imported: prometheus-client chooses its multi-process mode when it is first imported,
    which must come after :func:`run` has set ``PROMETHEUS_MULTIPROC_DIR``."""
    for module, package in (("fastapi", "fastapi"), ("uvicorn", "uvicorn"),
                            ("prometheus_client", "prometheus-client")):
        if importlib.util.find_spec(module) is None:
            raise MissingDependencyError(f"the HTTP service needs {package}, which is not "
                                         f"installed: {INSTALL}") from None


def check_port(host: str, port: int) -> None:
    """Fail in one line (ParameterError) if ``host:port`` cannot be listened on, before any
    worker starts (uvicorn would log it among its start-up lines and exit 1)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ParameterError(f"cannot listen on {host}: {exc.strerror}; give --host an "
                             f"address such as 127.0.0.1") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ParameterError(f"port {port} on {host} is in use: choose another "
                                     f"--port, or stop the server that holds it") from None
            raise ParameterError(f"cannot listen on {host}:{port}: "
                                 f"{exc.strerror or exc}") from None


def run(settings: Settings, *, host: str, port: int, workers: int = 1, model=None,
        quiet: bool = False, access_log: bool = False) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM). ``model``: the model of
    ``settings.model_dir``, already loaded (served as is with one worker; the workers of
    a multi-process server load their own)."""
    import uvicorn

    metrics_dir = tempfile.mkdtemp(prefix="recommender-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    options = dict(host=host, port=port, log_config=_log_config(quiet),
                   access_log=access_log, timeout_graceful_shutdown=10, server_header=False)
    # uvicorn stops gracefully on SIGTERM, then raises the signal again for the handler it
    # found: by default that ends the process at once, before the folder is removed. This
    # one leaves through the ``finally`` below, with status 0.
    terminate = signal.signal(signal.SIGTERM, _stopped)
    try:
        if workers == 1:
            from .app import create_app

            quiet_reloads()
            uvicorn.run(create_app(settings, model=model), **options)
        else:
            os.environ.update(settings.environ())  # each worker loads its own model
            uvicorn.run(FACTORY, factory=True, workers=workers, **options)
    finally:
        signal.signal(signal.SIGTERM, terminate)
        for name in settings.environ():
            os.environ.pop(name, None)
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        with contextlib.suppress(OSError):
            shutil.rmtree(metrics_dir)


def _stopped(signum, frame):
    raise SystemExit(0)


def quiet_reloads() -> None:
    """In a server process: no UndatedWarning at each load of the folder (a catch-up, a
    reload). ``recommender serve`` reported it once, when it checked the folder."""
    warnings.filterwarnings("ignore", category=UndatedWarning)


def _log_config(quiet: bool) -> dict:
    """uvicorn's logging, with the package's own lines (a worker catching up, a reload) in
    the same form. uvicorn applies it in every worker process."""
    from uvicorn.config import LOGGING_CONFIG

    level = "WARNING" if quiet else "INFO"
    config = {**LOGGING_CONFIG, "loggers": {
        **LOGGING_CONFIG["loggers"],
        "uvicorn": {**LOGGING_CONFIG["loggers"]["uvicorn"], "level": level},
        "uvicorn.error": {"level": level},
        "recommender": {"handlers": ["default"], "level": level, "propagate": False}}}
    return config
