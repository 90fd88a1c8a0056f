"""The editors' routes: pin an article in a list, ban one from a list or from all.

==============================================  =============================================
``GET /articles/{id}/pins``                     the pins and bans of an article's list
``PUT /articles/{id}/pins/{pinned}``            pin ``pinned`` in its list (token);
                                                ``?position=P`` or ``{"position": P}``, 1 by
                                                default
``DELETE /articles/{id}/pins/{pinned}``         unpin it (token)
``PUT /articles/{id}/bans/{banned}``            keep ``banned`` out of its list (token)
``DELETE /articles/{id}/bans/{banned}``         lift that ban (token)
``PUT /bans/{banned}``, ``DELETE …``            keep it out of every list, or lift that (token)
``GET /pins``                                   every pin and ban (the folder's ``pins.json``)
==============================================  =============================================

Each edit is written to the model folder before it is answered and every worker obeys it
from its next request (:mod:`.state`). An edit answers the list's pins and bans as they are
now and the new version of the model. Statuses: 404 for an unknown article, or an unpin or
unban of what was not pinned or banned; 409 for a position another pin holds; 422 for a bad
position.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ..model.pins import NotPinnedError, PositionTakenError
from .answers import ServiceError, error_response, json_response
from .inputs import article_id, read_json

__all__ = ["add_editor_routes"]

#: The largest body of a pin (``{"position": 3}``).
_MAX_PIN_BODY = 1024


def add_editor_routes(app: FastAPI, served, fresh, allowed) -> None:
    """Add the routes to ``app``: ``served`` is the worker's ServedModel, ``await fresh()``
    its current snapshot, ``allowed(request, allow)`` the check of a write (read-only
    server, token)."""

    async def edit(request: Request, name: str, source, *args) -> Response:
        allowed(request, "")
        pins, version = await run_in_threadpool(served.edit, name, *args)
        body = pins.of(source) if source is not None else {}
        return json_response({"id": source, **body, "model": version})

    @app.get("/articles/{article}/pins", tags=["editors"])
    async def pins_of(article: str) -> Response:
        """The pins (id and position) and bans of an article's list, and whether the
        article itself is banned from every list."""
        source = article_id(article)
        now = await fresh()
        now.model.rows_of([source])  # 404 for an unknown article
        return json_response({"id": source, **now.model.pins_.of(source),
                              "model": now.version})

    @app.put("/articles/{article}/pins/{pinned}", tags=["editors"])
    async def pin(article: str, pinned: str, request: Request) -> Response:
        """Show ``pinned`` at a position of the article's list, whatever its score:
        ``?position=P`` or the body ``{"position": P}`` (1, the first, by default). Needs
        the token."""
        position = await _position(request)
        return await edit(request, "pin", article_id(article), article_id(article),
                          article_id(pinned), position)

    @app.delete("/articles/{article}/pins/{pinned}", tags=["editors"])
    async def unpin(article: str, pinned: str, request: Request) -> Response:
        """Undo a pin. Needs the token."""
        return await edit(request, "unpin", article_id(article), article_id(article),
                          article_id(pinned))

    @app.put("/articles/{article}/bans/{banned}", tags=["editors"])
    async def ban(article: str, banned: str, request: Request) -> Response:
        """Keep ``banned`` out of the article's list. Needs the token."""
        return await edit(request, "ban", article_id(article), article_id(banned),
                          article_id(article))

    @app.delete("/articles/{article}/bans/{banned}", tags=["editors"])
    async def unban(article: str, banned: str, request: Request) -> Response:
        """Lift a ban from the article's list. Needs the token."""
        return await edit(request, "unban", article_id(article), article_id(banned),
                          article_id(article))

    @app.put("/bans/{banned}", tags=["editors"])
    async def ban_everywhere(banned: str, request: Request) -> Response:
        """Keep an article out of every list (a pin of it in one list still shows it
        there). Needs the token."""
        return await edit(request, "ban", article_id(banned), article_id(banned), None)

    @app.delete("/bans/{banned}", tags=["editors"])
    async def unban_everywhere(banned: str, request: Request) -> Response:
        """Lift a ban from every list. Needs the token."""
        return await edit(request, "unban", article_id(banned), article_id(banned), None)

    @app.get("/pins", tags=["editors"])
    async def every_pin() -> Response:
        """Every pin and ban, as the model folder's ``pins.json`` holds them."""
        now = await fresh()
        return json_response({**now.model.pins_.to_json(), "model": now.version})

    @app.exception_handler(NotPinnedError)
    async def not_pinned(request, exc):
        return error_response(404, str(exc))

    @app.exception_handler(PositionTakenError)
    async def taken(request, exc):
        return error_response(409, str(exc))


async def _position(request: Request) -> int:
    """The position of a pin: the query's ``position``, or the body's, or 1."""
    given = request.query_params.get("position")
    if given is None and request.headers.get("content-length") not in (None, "0"):
        body = await read_json(request, _MAX_PIN_BODY, 'a pin\'s body ({"position": P})')
        if not isinstance(body, dict) or set(body) - {"position"}:
            raise ServiceError(422, 'a pin\'s body is {"position": P} (or none: position 1)')
        given = body.get("position")
    if given is None:
        return 1
    try:
        position = int(given)
    except (TypeError, ValueError):
        position = None
    if position is None or isinstance(given, (bool, float)) or position < 1:
        raise ServiceError(422, f"position must be a whole number from 1, got {given!r:.40}")
    return position
