"""What the editors' page reads besides the lists: search, the site's own box, the model's
facts, its evaluation report.

==============================================  =============================================
``GET /search?q=WORDS&limit=20``                articles by id or by words of their title
``GET /articles/{id}/site``                     the site's own box of an article (corpus)
``GET /model``                                  version, controls, tuning table, report link
``GET /report/{file}``                          the model's HTML evaluation report
==============================================  =============================================

The search folds case and accents (:mod:`recommender.model.titles`); the site's box is the
``related`` list of the corpus the model was fitted on; the report is the folder that
``recommender evaluate MODEL … --report DIR`` wrote and recorded in the model folder, served
file by file from that folder only.
"""

from __future__ import annotations

import copy
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import FileResponse, Response

from ..model.controls import CONTROLS, check_controls
from ..model.titles import find_articles
from .answers import ServiceError, json_response
from .inputs import article_id

__all__ = ["add_browse_routes", "previewed"]

#: The most articles a search answers.
MAX_FOUND = 100
#: Sent with the report's files: no script at all, nothing from another host; the page's
#: own inline style and its plots (inline ``data:`` images) allowed.
REPORT_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'self' 'unsafe-inline'; "
                                "img-src 'self' data:; base-uri 'none'; form-action 'none'; "
                                "frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def add_browse_routes(app: FastAPI, fresh) -> None:
    """Add the routes to ``app``; ``await fresh()`` is the worker's current snapshot."""

    @app.get("/search", tags=["editors"])
    async def search(q: str = "", limit: int = 20) -> Response:
        """Articles by id or by words of their title: the article whose id is ``q``
        first, then those whose title holds every word of ``q`` (case and accents
        ignored), newest first."""
        if not 1 <= limit <= MAX_FOUND:
            raise ServiceError(422, f"limit must be from 1 to {MAX_FOUND}, got {limit}")
        if len(q) > 200:
            raise ServiceError(422, f"q has {len(q):,} characters; a search has at most 200")
        now = await fresh()
        found = find_articles(now.model, q, limit)
        return json_response({"query": q, "items": [now.info(i) for i in found],
                              "model": now.version})

    @app.get("/articles/{article}/site", tags=["editors"])
    async def site_list(article: str) -> Response:
        """The site's own related box of an article, as the corpus the model was fitted on
        recorded it (an id the model does not serve has a null title)."""
        source = article_id(article)
        now = await fresh()
        items = []
        for other in now.model.site_list(source):
            if other in now.model:
                items.append(now.info(other))
            else:
                items.append({"id": other, "title": None, "published": None,
                              "category": None})
        return json_response({"id": source, "items": items, "model": now.version})

    @app.get("/model", tags=["editors"])
    async def model_facts() -> Response:
        """The model served: version, articles, its newsroom controls (null: off), the
        last position a pin may take, the table of ``recommender tune`` (null when it was
        not tuned) and the link to its evaluation report (null when none was written)."""
        now = await fresh()
        model = now.model
        controls = {"max_age": model.max_age_days_,
                    **{name: getattr(model, name) for name in CONTROLS}}
        report = model.report_
        return json_response({
            "version": now.version, "articles": now.status["articles"],
            "created": now.status["base_created"], "controls": controls,
            "max_pin_position": model.max_pin_position(), "tuning": model.tuning_,
            "report": f"/report/{Path(report).name}" if report and Path(report).is_file()
            else None})

    @app.get("/report/{name:path}", tags=["editors"], include_in_schema=False)
    async def report_file(name: str) -> Response:
        """A file of the model's HTML evaluation report."""
        now = await fresh()
        page = now.model.report_
        if not page:
            raise ServiceError(404, "this model has no evaluation report: write one with "
                                    "'recommender evaluate MODEL GROUND_TRUTH --report DIR'")
        folder = Path(page).parent.resolve()
        file = (folder / name).resolve()
        if not file.is_relative_to(folder) or not file.is_file():
            raise ServiceError(404, f"the report has no file {name[:80]!r}")
        return FileResponse(file, headers=REPORT_HEADERS)


def previewed(model, controls: dict):
    """``model`` with the newsroom controls a request set for its own answer (a copy: the
    served model never changes); ParameterError (422) names a bad value."""
    if not controls:
        return model
    other = copy.copy(model)
    for name, value in check_controls(**{**model.controls(), **controls}).items():
        setattr(other, name, value)
    return other
