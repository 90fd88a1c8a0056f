"""Who may change the model: the token, its check, and the refusal to expose an open server.

The write calls (``POST /articles``, ``DELETE /articles/{id}``) and the admin call
(``POST /admin/reload``) need the header ``Authorization: Bearer TOKEN`` when the server
has a token: without the header they are answered 401, with another token 403 (compared
with :func:`hmac.compare_digest`, in constant time). The token comes from ``--token-file``
(its first line, stripped) or else from the environment variable ``RECOMMENDER_TOKEN``.

A server without a token accepts those calls from anyone who can reach it, so it may only
listen on a loopback address (a developer's machine): on any other address, with writes
enabled and no token, ``recommender serve`` refuses to start. A read-only server without a
token on such an address refuses the admin call instead (403).
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from pathlib import Path

from ..errors import ParameterError
from .answers import ServiceError

__all__ = ["TOKEN_VARIABLE", "Guard", "check_exposure", "is_loopback", "read_token"]

#: The environment variable that holds the token (``--token-file`` wins over it).
TOKEN_VARIABLE = "RECOMMENDER_TOKEN"
#: The most bytes read of a token file: a token is a line, not a document.
_MAX_TOKEN_BYTES = 4096


def read_token(token_file=None, environ=None) -> str | None:
    """The token: the first line of ``token_file`` if given (a missing, unreadable or empty
    file is a :class:`~recommender.errors.ParameterError`), else ``RECOMMENDER_TOKEN`` if
    set and not blank, else None."""
    environ = os.environ if environ is None else environ
    if token_file is not None:
        path = Path(token_file)
        if not path.is_file():
            raise ParameterError(f"token file not found: {path} (write the token in it, or "
                                 f"set {TOKEN_VARIABLE})")
        try:
            with open(path, "rb") as fh:
                data = fh.read(_MAX_TOKEN_BYTES + 1)
        except OSError as exc:
            raise ParameterError(f"cannot read the token file {path}: "
                                 f"{exc.strerror or exc}") from None
        if len(data) > _MAX_TOKEN_BYTES:
            raise ParameterError(f"the token file {path} has more than {_MAX_TOKEN_BYTES:,} "
                                 f"bytes; it should hold one line, the token")
        try:
            lines = data.decode("utf-8").strip().splitlines()
        except UnicodeDecodeError:
            raise ParameterError(f"the token file {path} is not UTF-8 text") from None
        token = lines[0].strip() if lines else ""
        if not token:
            raise ParameterError(f"the token file {path} is empty: write the token on its "
                                 f"first line")
        return token
    token = environ.get(TOKEN_VARIABLE, "").strip()
    return token or None


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1, or ``localhost``). Any
    other name counts as exposed: it may resolve to a public address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, *, read_only: bool, token: str | None) -> None:
    """Refuse (ParameterError) to serve writes without a token on a non-loopback host."""
    if not read_only and token is None and not is_loopback(host):
        raise ParameterError(
            f"refusing to listen on {host} with writes enabled and no token: anyone who can "
            f"reach it could add and withdraw articles; set {TOKEN_VARIABLE} or give "
            f"--token-file, or serve with --read-only")


class Guard:
    """The check of the write and admin calls: :meth:`check` raises the 401 or 403
    :class:`~.answers.ServiceError`. ``open_without_token``: whether a server without a
    token accepts them (it listens on a loopback address)."""

    def __init__(self, token: str | None, *, open_without_token: bool):
        self._token = None if token is None else token.encode("utf-8")
        self.open_without_token = open_without_token

    @property
    def has_token(self) -> bool:
        return self._token is not None

    def check(self, authorization: str | None) -> None:
        """Pass, or raise 401 (no credentials) or 403 (wrong ones, or none can be right)."""
        if self._token is None:
            if self.open_without_token:
                return
            raise ServiceError(403, f"this server has no token, so it refuses write and "
                                    f"admin calls on a non-loopback address; restart it with "
                                    f"{TOKEN_VARIABLE} or --token-file")
        if not authorization:
            raise ServiceError(401, "this call needs the header 'Authorization: Bearer "
                                    "TOKEN' (the server's token)",
                               {"WWW-Authenticate": "Bearer"})
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise ServiceError(401, "the Authorization header must be 'Bearer TOKEN'",
                               {"WWW-Authenticate": "Bearer"})
        if not hmac.compare_digest(given.strip().encode("utf-8"), self._token):
            raise ServiceError(403, "wrong token: this call needs the server's token "
                                    "(Authorization: Bearer TOKEN)")
