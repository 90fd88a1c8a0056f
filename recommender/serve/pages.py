"""The editors' page: ``GET /`` and its files at ``GET /static/{name}``, from the package.

The page (``recommender/serve/page/``: HTML, CSS and a few JavaScript modules, French and
English labels) is plain files served as they are: no build step, nothing loaded from
another host, so it works offline and on a newsroom's closed network. Its files are read
once, when the routes are added, and only those files are served: a name in the URL is
looked up among them, never used as a path.

Every answer of the page carries a strict Content-Security-Policy: scripts, styles, images,
fonts and calls only from this server, no inline script or style, no plugin, no framing.
The page itself puts every value that comes from an article (titles, words, ids) into the
document as text, never as markup; the policy is the second lock on that door.

Caching: each file has an ETag (a hash of its bytes) and ``Cache-Control: no-cache``, so a
browser asks again each time and gets an empty 304 while nothing changed. After an upgrade
of the package it gets the new files at once and never mixes an old module with a new one,
which a ``max-age`` would allow.
"""

from __future__ import annotations

import hashlib
from importlib import resources

from fastapi import FastAPI, Request
from starlette.responses import Response

from .answers import ServiceError

__all__ = ["CONTENT_TYPES", "SECURITY_HEADERS", "add_page_routes"]

#: The package folder of the page's files.
PAGE_FOLDER = "page"
#: The content type of each kind of file the page may hold (others are not served).
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".js": "text/javascript; charset=utf-8",
                 ".json": "application/json", ".svg": "image/svg+xml",
                 ".png": "image/png", ".ico": "image/x-icon"}
#: Sent with every file of the page.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


class _File:
    """One file of the page, held in memory with its type and ETag."""

    __slots__ = ("body", "content_type", "etag")

    def __init__(self, body: bytes, content_type: str):
        self.body = body
        self.content_type = content_type
        self.etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'

    def answer(self, request: Request) -> Response:
        headers = {**SECURITY_HEADERS, "ETag": self.etag}
        if self.etag in _etags(request.headers.get("if-none-match", "")):
            return Response(status_code=304, headers=headers)
        return Response(self.body, 200, headers, media_type=self.content_type)


def _etags(header: str) -> set:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _page_files() -> dict[str, _File]:
    """{name: file} of the page's folder in the package (files of a known type only)."""
    folder = resources.files(__package__) / PAGE_FOLDER
    files = {}
    for entry in folder.iterdir():
        suffix = "." + entry.name.rpartition(".")[2] if "." in entry.name else ""
        if entry.is_file() and suffix in CONTENT_TYPES and not entry.name.startswith("."):
            files[entry.name] = _File(entry.read_bytes(), CONTENT_TYPES[suffix])
    if "index.html" not in files:
        raise FileNotFoundError(f"the editors' page is missing from the package ({folder}"
                                f"/index.html): reinstall recommender")
    return files


def add_page_routes(app: FastAPI) -> None:
    """Serve the editors' page at ``/`` and its files at ``/static/{name}`` (read from the
    package now, once per worker)."""
    files = _page_files()
    index = files["index.html"]

    async def page(request: Request) -> Response:
        """The editors' page."""
        return index.answer(request)

    async def static(name: str, request: Request) -> Response:
        """A file of the page (by its name only: nothing else on the disk is reachable)."""
        found = files.get(name)
        if found is None:
            raise ServiceError(404, f"no file {name[:80]!r} in the editors' page: its files "
                                    f"are {', '.join(sorted(files))}")
        return found.answer(request)

    for path, endpoint in (("/", page), ("/static/{name}", static)):
        app.add_api_route(path, endpoint, methods=["GET", "HEAD"], include_in_schema=False)
