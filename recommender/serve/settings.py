"""The settings of a server, and how they reach its worker processes.

With ``--workers N`` uvicorn starts each worker as a new Python process that builds the
app with :func:`~.app.app_from_environment`: the settings travel as environment variables
(:meth:`Settings.environ` and :meth:`Settings.from_environ`). The token itself is not among
them: a worker reads it again from ``--token-file``, or finds ``RECOMMENDER_TOKEN`` in the
environment it inherits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..errors import ParameterError

__all__ = ["Settings"]

_MODEL, _READ_ONLY, _TOKEN_FILE, _LOOPBACK, _SYNC = (
    "RECOMMENDER_SERVE_MODEL", "RECOMMENDER_SERVE_READ_ONLY", "RECOMMENDER_SERVE_TOKEN_FILE",
    "RECOMMENDER_SERVE_LOOPBACK", "RECOMMENDER_SERVE_SYNC")


@dataclass(frozen=True)
class Settings:
    """``model_dir``: the model folder served; ``read_only``: refuse writes (405);
    ``token_file``: where the token is (None: ``RECOMMENDER_TOKEN``, or no token);
    ``loopback``: whether the server listens on a loopback address only (then, without a
    token, the write and admin calls are open); ``verify``: check the sha256 of the
    folder's files when a worker loads it (the command checks them once, before starting
    the workers); ``sync_url``: the database whose table of lists each write brings up to
    date (:mod:`.syncing`; None: none)."""

    model_dir: str
    read_only: bool = False
    token_file: str | None = None
    loopback: bool = True
    verify: bool = False
    sync_url: str | None = None

    def environ(self) -> dict:
        """The environment variables that carry these settings to a worker."""
        return {_MODEL: str(self.model_dir), _READ_ONLY: "1" if self.read_only else "0",
                _TOKEN_FILE: self.token_file or "", _LOOPBACK: "1" if self.loopback else "0",
                _SYNC: self.sync_url or ""}

    @classmethod
    def from_environ(cls, environ=None) -> "Settings":
        """The settings :meth:`environ` wrote, in a worker."""
        environ = os.environ if environ is None else environ
        model_dir = environ.get(_MODEL)
        if not model_dir:
            raise ParameterError(f"{_MODEL} is not set: start the service with "
                                 f"'recommender serve MODEL_DIR', which sets it")
        return cls(model_dir=model_dir, read_only=environ.get(_READ_ONLY) == "1",
                   token_file=environ.get(_TOKEN_FILE) or None,
                   loopback=environ.get(_LOOPBACK, "1") == "1",
                   sync_url=environ.get(_SYNC) or None)
