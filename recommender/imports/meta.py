"""What a page says about itself: its address, title, publication time, keywords, section
and render time, read from its head (meta tags, links, ``<title>``) and by htmldate.

These are read from the parsed tree directly, in one pass over its meta tags, rather than
by trafilatura's metadata extraction, which also looks for the author, the site's name and
the licence (nearly a third of its time) and which the corpus has no field for. The date is
htmldate's, as in trafilatura.

* **URL**: ``<link rel="canonical">``, else ``og:url``, else the source's address.
* **title**: ``og:title``, else ``twitter:title``, else ``<title>`` (without a final
  " - Site" or " | Site" when the site names itself in ``og:site_name``), else the first
  ``<h1>``.
* **published**: htmldate's original date (``article:published_time`` and the like, to
  the second with the page's own offset); when it gives a day alone or nothing, the
  byline's time ("publié le mercredi 01 juillet 2020 à 14h19", read by
  :func:`recommender.times.parse_time` in the import's time zone: see
  :mod:`recommender.imports.page`).
* **tags**: ``article:tag`` (each), ``keywords`` and ``news_keywords`` (comma-separated),
  each once, in the page's order.
* **section**: ``article:section``, lower case (the category when the URL has none).
* **render time**: :data:`RENDER_META`.
"""

from __future__ import annotations

from datetime import datetime, timezone

from ..errors import ParameterError
from ..times import parse_time
from .ids import absolute_url

__all__ = ["RENDER_META", "metas_of", "page_url", "published", "render_time", "section",
           "tags", "title"]

#: Meta tags (``name``, ``property`` or ``itemprop``) that say when the page was rendered,
#: by the end of their name, in this order: ``orange-generated-timestamp`` (seconds since
#: 1970: no time zone to guess), ``orange-generated-date``, and the like.
RENDER_META = ("generated-timestamp", "generated-date", "generation-date", "rendered-at",
               "render-date", "date-generated")
#: Where a page names its own address, in this order (an XPath union would give document
#: order instead).
_URL_XPATHS = ("//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content",
               "//meta[@name='og:url']/@content")
_META_XPATH = "//meta[@content]"
#: htmldate's parameters: the original (not the updated) date, to the second.
_DATE_PARAMS = {"original_date": True, "extensive_search": False,
                "outputformat": "%Y-%m-%dT%H:%M:%S%z"}


def metas_of(tree) -> dict[str, list[str]]:
    """The page's meta tags: ``name``, ``property`` or ``itemprop`` (lower case) -> their
    contents, in the page's order."""
    metas: dict[str, list[str]] = {}
    for meta in tree.xpath(_META_XPATH):
        name = meta.get("property") or meta.get("name") or meta.get("itemprop")
        if name:
            metas.setdefault(name.strip().lower(), []).append(meta.get("content"))
    return metas


def _first(metas: dict, *names: str) -> str:
    for name in names:
        for content in metas.get(name, ()):
            text = " ".join(content.split())
            if text:
                return text
    return ""


def page_url(tree, source_url: str) -> str:
    for xpath in _URL_XPATHS:
        for href in tree.xpath(xpath):
            url = absolute_url(str(href), source_url)
            if url:
                return url
    return absolute_url(source_url) if source_url else ""


def title(tree, metas: dict) -> str:
    found = _first(metas, "og:title", "twitter:title")
    if found:
        return found
    for element in tree.iter("title"):
        text = " ".join("".join(element.itertext()).split())
        site = _first(metas, "og:site_name")
        for separator in (" - ", " | ", " – ", " — "):
            if site and text.endswith(separator + site):
                text = text[:-len(separator + site)]
        if text:
            return text
    for element in tree.iter("h1"):
        text = " ".join("".join(element.itertext()).split())
        if text:
            return text
    return ""


def published(tree, url: str, byline_time: datetime | None, zone) -> datetime | None:
    """The publication time (see the module's docstring; ``byline_time`` is the byline's);
    None when neither htmldate nor a byline gives one."""
    from htmldate import find_date

    moment = None
    date = find_date(tree, url=url, **_DATE_PARAMS)
    if date:
        try:
            moment = parse_time(date, what="publication date", zone=zone)
        except ParameterError:
            moment = None
    if moment is not None and (moment.hour, moment.minute, moment.second) != (0, 0, 0):
        return moment
    return byline_time or moment


def render_time(metas: dict, zone) -> datetime | None:
    for suffix in RENDER_META:
        for name, contents in metas.items():
            if not name.endswith(suffix):
                continue
            for content in contents:
                text = content.strip()
                if not text:
                    continue
                try:
                    if text.isdigit():
                        return datetime.fromtimestamp(int(text), timezone.utc).astimezone(zone)
                    return parse_time(text, what="render time", zone=zone)
                except (ParameterError, OverflowError, OSError, ValueError):
                    continue
    return None


def tags(metas: dict) -> list[str]:
    out = [" ".join(t.split()) for t in metas.get("article:tag", ())]
    for name in ("keywords", "news_keywords"):
        for content in metas.get(name, ()):
            out.extend(" ".join(part.split()) for part in content.split(","))
    return list(dict.fromkeys(t for t in out if t))


def section(metas: dict) -> str:
    return _first(metas, "article:section").lower()
