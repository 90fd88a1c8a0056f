"""The app: its routes, and the factory that builds it in each worker.

Routes (JSON everywhere; every error is ``{"error": {"status", "message"}}``, see
:mod:`.answers`):

==========================================  ===================================================
``GET /articles/{id}/related``              the related list of an article of the model
``POST /related``                           the related list of an article that is not in it
``GET /articles/{id}``                      an article's id, title, category, published
``POST /articles``                          add or update one article or a batch (token)
``DELETE /articles/{id}``                   withdraw an article (token)
``PUT``, ``DELETE /articles/{id}/pins/…``   editors' pins and bans (token; :mod:`.editors`)
``GET /search``, ``/model``, ``/report/…``  what the editors' page reads (:mod:`.browse`)
``GET /``, ``GET /static/{name}``           the editors' page (:mod:`.pages`)
``POST /admin/reload``                      read the model folder again (token)
``GET /health``                             version, articles, last change, staleness
``GET /metrics``                            Prometheus text format
``GET /docs``, ``GET /openapi.json``        the OpenAPI description
==========================================  ===================================================

Statuses: 404 an unknown article id (or route), 422 a bad parameter or body (the message
names it), 413 a body or a batch over its limit (:mod:`.limits`), 405 a write to a
``--read-only`` server, 401 a write or admin call without a token, 403 with a wrong one,
503 a model folder that cannot be read (damaged since the worker loaded it) or whose change
log another process holds locked too long (a write then changes nothing).

The reads run on the event loop: a related list from the neighbour table costs about 60
µs, less than a hop to a thread would, and the analysis of a text for ``POST /related``
(about 2 ms) holds the interpreter's lock, so a thread would not run it beside the loop
anyway: the worker processes are the parallelism. Catching up with the folder, the writes
and the reload run in threads, so the loop never waits on a disk or a lock.
"""

from __future__ import annotations

import logging
import os
from functools import partial

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import Match, Route

from .. import __version__
from ..changelog import ChangeLogError, FolderReplaced
from ..errors import CorpusError, ModelFormatError, ParameterError, UnknownArticleError
from ..model.titles import folded_titles
from .answers import ServiceError, error_response, json_response, one_line
from .browse import add_browse_routes, previewed
from .editors import add_editor_routes
from .inputs import article_id, articles_of, read_json, related_query, text_article
from .limits import EXPLAIN_WORDS, MAX_ARTICLES, MAX_ARTICLES_BYTES, MAX_K, MAX_TEXT_BYTES
from .metrics import CONTENT_TYPE, Instrument, Metrics
from .pages import add_page_routes
from .security import Guard, read_token
from .settings import Settings
from .state import ServedModel
from .syncing import Syncer

__all__ = ["app_from_environment", "create_app"]

logger = logging.getLogger(__name__)


def app_from_environment() -> FastAPI:
    """The app of a worker process, from the settings in its environment (the factory that
    ``recommender serve`` gives uvicorn: ``recommender.serve.app:app_from_environment``)."""
    from .server import quiet_reloads

    quiet_reloads()
    return create_app(Settings.from_environ())


def create_app(settings: Settings, *, model=None) -> FastAPI:
    """The app serving ``settings.model_dir`` (or ``model``, already loaded from it)."""
    guard = Guard(read_token(settings.token_file), open_without_token=settings.loopback)
    metrics = Metrics()
    served = ServedModel(settings.model_dir, model=model, verify=settings.verify,
                         on_change=lambda now: metrics.articles.set(now.status["articles"]))
    folded_titles(served.current.model.catalogue_)  # the search's titles, now
    syncer = None
    if settings.sync_url:  # the site's table of lists, rewritten after each write
        syncer = Syncer(settings.sync_url, lambda: served.current.model.snapshot())
        served.on_write = syncer.poke
    app = FastAPI(title="recommender", version=__version__,
                  summary="Related articles of French news",
                  description=_DESCRIPTION, openapi_tags=_TAGS)
    app.state.served = served
    app.state.settings = settings
    app.state.syncer = syncer
    app.add_middleware(Instrument, metrics=metrics)
    _errors(app, served)
    _reads(app, served, metrics)
    _writes(app, served, metrics, guard, settings)
    _operations(app, served, metrics, guard, settings)
    add_page_routes(app)
    logger.info("worker %d serves %s (version %s, %d articles)%s", os.getpid(),
                settings.model_dir, served.current.version, served.current.status["articles"],
                ", read-only" if settings.read_only else "")
    return app


def _fresh(served: ServedModel, metrics: Metrics):
    """``await fresh()``: the current snapshot, after catching up with the folder if another
    process changed it (in a thread: a replay or a reload must not stop the loop)."""

    async def fresh():
        if served.stale():
            if await run_in_threadpool(served.refresh):
                metrics.refreshes.inc()
        return served.current

    return fresh


# -- reads ------------------------------------------------------------------------------------
def _reads(app: FastAPI, served: ServedModel, metrics: Metrics) -> None:
    fresh = _fresh(served, metrics)

    async def related(request: Request) -> Response:
        """The articles most related to an article of the model, best first (never
        itself). With the default filters and ``k`` within the model's neighbour table the
        list is read from the table."""
        source = article_id(request.path_params["article"])
        query = related_query(request.query_params)
        now = await fresh()
        model = previewed(now.model, query.controls)
        ids, scores = model.recommend(source, query.k, **query.filters)
        explain = partial(model.explain, source, n_terms=EXPLAIN_WORDS) if query.explain \
            else None
        return json_response({"id": source, "items": _items(now, ids, scores, explain, source),
                              "model": now.version})

    # The busiest route is a plain Starlette route: FastAPI's handling of a request
    # (parameters, dependencies, exit stack) cost 65 µs of a list's 220 µs in the app
    # (measured). The router tries routes in order, so the FastAPI declaration after it is
    # never reached: it only describes the route in the OpenAPI document.
    app.router.routes.append(_NamedRoute(_RELATED, related, methods=["GET"]))
    app.add_api_route(_RELATED, related, methods=["GET"], tags=["related"],
                      openapi_extra={"parameters": [_ARTICLE_PARAMETER, *_RELATED_QUERY]})

    @app.post("/related", tags=["related"],
              openapi_extra={"parameters": _RELATED_QUERY, "requestBody": _TEXT_BODY})
    async def related_to_text(request: Request) -> Response:
        """The articles most related to an article that is not in the model (a draft, a
        page being written): a JSON object with ``title``, ``heading``, ``body``, and
        optionally ``published``, ``category``, ``id``. Same answer as the GET route, with
        ``id`` the one given (or null); an article of the model with that id (the page
        being edited) is left out of the list."""
        query = related_query(request.query_params)
        body = await read_json(request, MAX_TEXT_BYTES, "a POST /related body")
        article = text_article(body)
        given = article.id if body.get("id") else None
        filters = query.filters if given is None else {**query.filters, "exclude": (given,)}
        now = await fresh()
        model = previewed(now.model, query.controls)
        ids, scores = model.similar(article, query.k, **filters)
        explain = None
        if query.explain:
            explain = partial(model.explain_vector, model.vectorize(article),
                              n_terms=EXPLAIN_WORDS)
        return json_response({"id": given, "items": _items(now, ids, scores, explain),
                              "model": now.version})

    @app.get("/articles/{article}", tags=["articles"])
    async def article_info(article: str) -> Response:
        """An article of the model: ``id``, ``title``, ``category``, ``published`` (ISO 8601,
        or null). 404 for an unknown or withdrawn id."""
        source = article_id(article)
        now = await fresh()
        return json_response({**now.model.article_info(source), "model": now.version})


class _NamedRoute(Route):
    """A Starlette route that names itself in the request's scope, as FastAPI's routes do
    (the metrics label each request with its route's path)."""

    def matches(self, scope):
        match, child = super().matches(scope)
        if match is not Match.NONE:
            child["route"] = self
        return match, child


def _items(now, ids, scores, explain, source=None) -> list:
    items = []
    pins = now.model.pins_
    for other, score in zip(ids.tolist(), scores.tolist()):
        info = now.info(other)
        item = {"id": other, "score": round(score, 6), "title": info["title"],
                "published": info["published"], "category": info["category"]}
        if pins and pins.position(source, other) is not None:
            item["pinned"] = True  # there by an editor's choice, not by its score
        if explain is not None:
            item["explain"] = [{"word": word, "weight": round(weight, 6)}
                               for word, weight in explain(other)]
        items.append(item)
    return items


# -- writes ------------------------------------------------------------------------------------
def _writes(app: FastAPI, served: ServedModel, metrics: Metrics, guard: Guard,
            settings: Settings) -> None:

    def allowed(request: Request, allow: str) -> None:
        """A write passes here first: 405 on a read-only server, then the token."""
        if settings.read_only:
            raise ServiceError(405, "this server is read-only (started with --read-only): "
                                    "it does not add or withdraw articles; change the folder "
                                    "with 'recommender add' or 'recommender withdraw' (this "
                                    "server follows it), or serve it without --read-only",
                               {"Allow": allow})
        guard.check(request.headers.get("authorization"))

    @app.post("/articles", tags=["articles"], openapi_extra={"requestBody": _ARTICLES_BODY})
    async def add_articles(request: Request) -> Response:
        """Add articles, or update those whose id the model knows: one article object, or
        ``{"articles": [...]}`` (at most 1,000). Durable when answered, and served by every
        worker from the next request on. Needs the token."""
        allowed(request, "")
        body = await read_json(request, MAX_ARTICLES_BYTES, "a POST /articles body")
        articles = articles_of(body)
        changes, version = await run_in_threadpool(served.add, articles)
        metrics.changed(changes)
        return json_response(_changes(changes, version))

    @app.delete("/articles/{article}", tags=["articles"])
    async def withdraw_article(article: str, request: Request) -> Response:
        """Withdraw an article: it leaves every related list at once, on every worker from
        the next request on. 404 if the model does not know it. Needs the token."""
        allowed(request, "GET")
        source = article_id(article)
        changes, version = await run_in_threadpool(served.withdraw, [source])
        metrics.changed(changes)
        return json_response(_changes(changes, version))

    add_editor_routes(app, served, _fresh(served, metrics), allowed)
    add_browse_routes(app, _fresh(served, metrics))


def _changes(changes, version: str) -> dict:
    return {"added": list(changes.added), "updated": list(changes.updated),
            "withdrawn": list(changes.withdrawn), "position": changes.position,
            "reference": changes.reference, "model": version}


# -- operations -----------------------------------------------------------------------------
def _operations(app: FastAPI, served: ServedModel, metrics: Metrics, guard: Guard,
                settings: Settings) -> None:
    fresh = _fresh(served, metrics)

    @app.get("/health", tags=["operations"])
    async def health() -> Response:
        """The model served: version, article count, last change, reference time ("now"
        of the freshness window) and staleness (articles since the fit, share of their
        words the vocabulary does not know, idf drift, and advice on retraining)."""
        now = await fresh()
        staleness = await run_in_threadpool(served.staleness)
        status = now.status
        return json_response({"status": "ok", "model": now.version,
                              "articles": now.status["articles"],
                              "last_change": status.get("last_change"),
                              "reference": status.get("reference"),
                              "staleness": staleness, "read_only": settings.read_only,
                              "worker": os.getpid(),
                              **({"sync": app.state.syncer.status()}
                                 if app.state.syncer is not None else {})})

    @app.get("/metrics", tags=["operations"])
    async def prometheus() -> Response:
        """Counts and latencies in the Prometheus text format (every worker's)."""
        return Response(await run_in_threadpool(metrics.exposition),
                        media_type=CONTENT_TYPE)

    @app.post("/admin/reload", tags=["operations"])
    async def reload(request: Request) -> Response:
        """Read the model folder again: a model retrained into it (``recommender train
        --out MODEL_DIR``) is served from the answer on. Requests already running finish
        on the model they started with; the other workers follow at their next request.
        Needs the token."""
        guard.check(request.headers.get("authorization"))
        old = served.current.version
        now = await run_in_threadpool(served.reload)
        metrics.refreshes.inc()
        return json_response({"model": now.version, "previous": old,
                              "articles": now.status["articles"]})


# -- errors -----------------------------------------------------------------------------------
def _errors(app: FastAPI, served: ServedModel) -> None:

    @app.exception_handler(ServiceError)
    async def refused(request, exc: ServiceError):
        return error_response(exc.status, exc.message, exc.headers)

    @app.exception_handler(UnknownArticleError)
    async def unknown(request, exc):
        return error_response(404, str(exc))

    async def bad_value(request, exc):
        return error_response(422, str(exc))

    app.add_exception_handler(ParameterError, bad_value)
    app.add_exception_handler(CorpusError, bad_value)

    async def unreadable(request, exc):
        return error_response(503, f"the model folder cannot be read: {one_line(exc)}; "
                                   f"restore or retrain it (this worker still holds version "
                                   f"{served.current.version})")

    for kind in (ModelFormatError, ChangeLogError, FolderReplaced, OSError):
        app.add_exception_handler(kind, unreadable)

    @app.exception_handler(TimeoutError)
    async def busy(request, exc):  # the change log's lock, held by a long compaction
        return error_response(503, f"{one_line(exc)} (nothing was changed)",
                              {"Retry-After": "10"})

    @app.exception_handler(HTTPException)
    async def http_error(request, exc: HTTPException):
        message = exc.detail
        if exc.status_code == 404:
            message = (f"no route {request.method} {request.url.path[:80]}: see /docs for "
                       f"the routes")
        elif exc.status_code == 405:
            message = (f"{request.method} is not allowed on {request.url.path[:80]}: see "
                       f"/docs for the routes")
        return error_response(exc.status_code, message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return error_response(422, f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(Exception)
    async def bug(request, exc):
        logger.exception("%s %s failed", request.method, request.url.path)
        return error_response(500, f"internal error ({type(exc).__name__}); the server's log "
                                   f"has the details")


# -- the OpenAPI description ----------------------------------------------------------------
_DESCRIPTION = f"""Related articles of French news (More Like This or TF-IDF cosine), with
articles added and withdrawn as they are published.

Every answer is JSON; every error is `{{"error": {{"status": ..., "message": "..."}}}}`.
Limits: `k` from 1 to {MAX_K}; a `POST /related` body of at most {MAX_TEXT_BYTES:,} bytes;
a `POST /articles` body of at most {MAX_ARTICLES_BYTES:,} bytes and {MAX_ARTICLES:,}
articles. Write and admin calls need `Authorization: Bearer TOKEN` when the server has a
token. The header `X-Worker` names the worker process that answered."""

_TAGS = [{"name": "related", "description": "Related lists"},
         {"name": "articles", "description": "The articles of the model, and live changes"},
         {"name": "editors", "description": "Editors' pins and bans"},
         {"name": "operations", "description": "Health, metrics, reload"}]


_RELATED = "/articles/{article}/related"
_ARTICLE_PARAMETER = {"name": "article", "in": "path", "required": True,
                      "schema": {"type": "string"}, "description": "an article id"}


def _parameter(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description}


_RELATED_QUERY = [
    _parameter("k", {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 5},
               "how many articles"),
    _parameter("as_of", {"type": "string"},
               "ISO 8601: only articles published before it, freshness counted from it"),
    _parameter("max_age", {"type": "string"},
               "only articles at most this many days old (default: the model's); 'none' "
               "for no limit"),
    _parameter("since", {"type": "string"}, "ISO 8601: only articles published from then"),
    _parameter("until", {"type": "string"}, "ISO 8601: only articles published before then"),
    {**_parameter("category", {"type": "array", "items": {"type": "string"}},
                  "only articles of this category (repeat for several)"),
     "style": "form", "explode": True},
    _parameter("explain", {"type": "boolean", "default": False},
               "the shared words behind each item, and their weight in its score"),
]

_ARTICLE_SCHEMA = {"type": "object", "properties": {
    name: {"type": "string"} for name in ("id", "title", "heading", "body", "published",
                                          "category", "url")}}
_TEXT_BODY = {"required": True, "content": {"application/json": {"schema": _ARTICLE_SCHEMA}}}
_ARTICLES_BODY = {"required": True, "content": {"application/json": {"schema": {"oneOf": [
    {**_ARTICLE_SCHEMA, "required": ["id"]},
    {"type": "object", "required": ["articles"], "properties": {
        "articles": {"type": "array", "maxItems": MAX_ARTICLES,
                     "items": {**_ARTICLE_SCHEMA, "required": ["id"]}}}}]}}}}
