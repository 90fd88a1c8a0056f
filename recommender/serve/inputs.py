"""What a request brings, checked: the query of a related list, JSON bodies within their
limits, and articles.

Each check raises :class:`~.answers.ServiceError` with a message that names the parameter
or the field, says what it takes and shows what came. The service parses the query itself
rather than through FastAPI's parameter models: the same messages as the rest of the
package, an unknown parameter refused instead of silently ignored (``?kk=3`` would
otherwise answer 5 items), and less work on the path of every request.
"""

from __future__ import annotations

import json
import math

from ..corpus import TEXT_FIELDS, Article, as_article
from ..errors import CorpusError
from ..times import NO_LIMIT
from .answers import ServiceError, one_line
from .limits import MAX_ARTICLES, MAX_ID_CHARS, MAX_K

__all__ = ["CONTROL_PARAMETERS", "RELATED_PARAMETERS", "Related", "article_id",
           "articles_of", "read_json", "related_query", "text_article"]

#: The query parameters of ``GET /articles/{id}/related`` and ``POST /related``.
RELATED_PARAMETERS = ("k", "as_of", "max_age", "since", "until", "category", "explain",
                      "half_life", "dedupe", "diversity", "min_score")
#: The newsroom controls a request may set for its own answer (a preview: never the model's).
CONTROL_PARAMETERS = ("half_life", "dedupe", "diversity", "min_score")
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")


class Related:
    """The query of a related list: ``k``, the filters (keyword arguments of
    ``recommend`` and ``similar``), whether to explain each item, and the newsroom
    controls set for this answer only (:func:`~recommender.model.controls.check_controls`'s
    names; checked by the model)."""

    __slots__ = ("k", "filters", "explain", "controls")

    def __init__(self, k: int = 5, filters: dict | None = None, explain: bool = False,
                 controls: dict | None = None):
        self.k = k
        self.filters = filters or {}
        self.explain = explain
        self.controls = controls or {}


_DEFAULT = Related()


def related_query(query) -> Related:
    """The :class:`Related` query of a request's query parameters (a Starlette
    ``QueryParams``: ``multi_items()`` in order)."""
    items = query.multi_items()
    if not items:
        return _DEFAULT
    single: dict[str, str] = {}
    categories = []
    for name, value in items:
        if name == "category":
            if value:
                categories.append(value)
            continue
        if name not in RELATED_PARAMETERS:
            raise ServiceError(422, f"unknown query parameter {name[:40]!r}: this route "
                                    f"takes {', '.join(RELATED_PARAMETERS)}")
        if name in single:
            raise ServiceError(422, f"query parameter {name} is given twice; give it once "
                                    f"(only category may repeat)")
        single[name] = value
    filters = {}
    for name in ("as_of", "since", "until"):
        if single.get(name):  # an empty value is no filter, as if it were left out
            filters[name] = single[name]
    if single.get("max_age"):
        filters["max_age"] = _max_age(single["max_age"])
    if categories:
        filters["categories"] = categories
    controls = {name: _control(single[name], name) for name in CONTROL_PARAMETERS
                if single.get(name)}
    return Related(_k(single.get("k")), filters, _flag(single.get("explain"), "explain"),
                   controls)


def _k(text: str | None) -> int:
    if text is None or text == "":
        return 5
    try:
        k = int(text)
    except ValueError:
        k = 0
    if not 1 <= k <= MAX_K:
        raise ServiceError(422, f"k must be an integer from 1 to {MAX_K}, got {text[:40]!r}")
    return k


def _max_age(text: str) -> float:
    if text.lower() in ("none", "inf"):
        return NO_LIMIT
    try:
        days = float(text)
    except ValueError:
        days = math.nan
    if not (days > 0 and math.isfinite(days)):
        raise ServiceError(422, f"max_age must be a positive number of days, or 'none' for no "
                                f"limit, got {text[:40]!r}")
    return days


def _control(text: str, name: str):
    """A control's value: a number, or None for 'none' (off); the model checks its range."""
    if text.lower() in ("none", "off"):
        return None if name != "diversity" else 0.0
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise ServiceError(422, f"{name} must be a number, or 'none' for off, got "
                                f"{text[:40]!r}")
    return value


def _flag(text: str | None, name: str) -> bool:
    if text is None:
        return False
    value = text.lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ServiceError(422, f"{name} must be true or false, got {text[:40]!r}")


def article_id(text: str) -> str:
    """An article id from a URL, checked for length only: it is looked up in the model,
    never used as a path or a file name."""
    if len(text) > MAX_ID_CHARS:
        raise ServiceError(422, f"article id {text[:40]!r}... has {len(text):,} characters; "
                                f"an id has at most {MAX_ID_CHARS}")
    return text


async def read_json(request, limit: int, what: str):
    """The JSON body of ``request``, read within ``limit`` bytes.

    The declared ``Content-Length`` is checked before reading, and the bytes actually
    received as they come (a chunked body, or a client that sends more than it declared),
    so a worker never holds more than ``limit`` bytes of one body. 413 beyond, 422 for a
    body that is not UTF-8 JSON."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise ServiceError(400, f"Content-Length must be a number of bytes, got "
                                    f"{declared[:40]!r}") from None
        if size > limit:
            raise ServiceError(413, _too_large(size, limit, what))
    chunks, received = [], 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise ServiceError(413, _too_large(limit, limit, what, more=True))
        chunks.append(chunk)
    body = b"".join(chunks)
    if not body.strip():
        raise ServiceError(422, f"the body is empty: send {what} as JSON")
    try:
        text = body.decode("utf-8")  # json.loads would also take UTF-16 and UTF-32
    except UnicodeDecodeError as exc:
        raise ServiceError(422, f"the body is not UTF-8 (byte {exc.start:,}): send {what} as "
                                f"JSON in UTF-8") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ServiceError(422, f"the body is not JSON ({exc.msg} at line {exc.lineno}, "
                                f"column {exc.colno}): send {what} as JSON") from None
    except (ValueError, RecursionError) as exc:  # huge integers, deep nesting
        raise ServiceError(422, f"the body cannot be read as JSON ({one_line(exc)[:80]}): "
                                f"send {what} as plain JSON") from None


def _too_large(size: int, limit: int, what: str, more: bool = False) -> str:
    return (f"the body has {'more than ' if more else ''}{size:,} bytes; {what} may have "
            f"at most {limit:,} "
            f"bytes{' (split the batch)' if 'articles' in what else ''}")


def text_article(record) -> Article:
    """The article of ``POST /related``: a JSON object with some text (an ``id`` is
    optional: the article need not be in the model)."""
    if not isinstance(record, dict):
        raise ServiceError(422, f"the body must be a JSON object (an article with "
                                f"{', '.join(TEXT_FIELDS)}, published, category), got "
                                f"{_kind(record)}")
    record = {**record, "id": record.get("id") or "(text)"}
    try:
        article = as_article(record)
    except CorpusError as exc:
        raise ServiceError(422, str(exc)) from None
    if not article.has_text:
        raise ServiceError(422, f"the article has no text: give at least one of "
                                f"{', '.join(TEXT_FIELDS)}")
    return article


def articles_of(body) -> list[Article]:
    """The articles of ``POST /articles``: one article object, or ``{"articles": [...]}``
    with at most :data:`~.limits.MAX_ARTICLES`, each with its own id."""
    if isinstance(body, dict) and "articles" in body:
        records = body["articles"]
        if not isinstance(records, list):
            raise ServiceError(422, f"'articles' must be a list of article objects, got "
                                    f"{_kind(records)}")
        where = "articles[{}]"
    elif isinstance(body, dict):
        records, where = [body], "the article"
    else:
        raise ServiceError(422, f"the body must be an article object or "
                                f'{{"articles": [...]}}, got {_kind(body)}')
    if not records:
        raise ServiceError(422, "'articles' is empty: give at least one article")
    if len(records) > MAX_ARTICLES:
        raise ServiceError(413, f"{len(records):,} articles in one request; at most "
                                f"{MAX_ARTICLES:,} may be sent at once (split the batch)")
    articles, seen = [], {}
    for i, record in enumerate(records):
        name = where.format(i)
        try:
            article = as_article(record)
        except CorpusError as exc:
            raise ServiceError(422, f"{name}: {exc}") from None
        if article.id in seen:
            raise ServiceError(422, f"{name}: id {article.id!r} is also that of "
                                    f"articles[{seen[article.id]}]; send each article once")
        seen[article.id] = i
        articles.append(article)
    return articles


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")
