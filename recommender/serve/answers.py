"""The service's answers: JSON bodies, and the one shape of every error.

Every answer is JSON (UTF-8, not ASCII-escaped). An error, whatever raised it (an unknown
id, a bad parameter, a body too large, a missing token, a route that does not exist, a
bug), has one shape, so that a client reads one field::

    {"error": {"status": 404, "message": "Unknown article id 'CNT…': not among the …"}}

The message is one line that says what was wrong and how to fix it; ``status`` repeats the
HTTP status. The bodies are built with :func:`json.dumps` rather than response models: a
related list is answered in well under a millisecond, and a validation layer on the way
out would cost more than the list itself.
"""

from __future__ import annotations

import json

import numpy as np
from starlette.responses import Response

__all__ = ["ServiceError", "error_body", "error_response", "json_response", "one_line"]


class ServiceError(Exception):
    """A request the service refuses, with its HTTP status, message and headers."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


def json_response(content, status: int = 200, headers: dict | None = None) -> Response:
    """``content`` as a JSON answer (numpy numbers as plain ones)."""
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":"), allow_nan=False,
                      default=_plain)
    return Response(body.encode("utf-8"), status, headers, media_type="application/json")


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


def error_body(status: int, message: str) -> dict:
    return {"error": {"status": status, "message": one_line(message)}}


def error_response(status: int, message: str, headers: dict | None = None) -> Response:
    """An error answer in the service's one shape."""
    return json_response(error_body(status, message), status, headers)


def one_line(message) -> str:
    """A message on one line (an exception's text may hold line breaks)."""
    return " ".join(str(message).split())
