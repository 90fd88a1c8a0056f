"""Article ids and sections from URLs: one rule for a page and for every link to it.

A box links to articles by URL, and most of those articles' pages are not in the import;
the link's target is an id only if it is made from the link's URL exactly as the page's id
is made from the page's URL. :class:`Ids` is that one rule:

* by default the id is the **canonical form of the URL** (courlan's ``normalize_url``:
  lower-case scheme and host, no default port, no tracking query parameters such as
  ``utm_source``; and no ``./`` or ``../`` segments in the path), without its fragment
  (``#comments`` is the same article) and with ``http`` read as ``https`` (a site's pages
  and its links mix the two);
* with ``pattern`` (``--id-pattern``), the site's own id: the first group of the regular
  expression searched in the URL (the whole match when it has no group), for example
  ``(CNT\\w+)\\.html`` reads ``CNT000001rhbSJ`` from
  ``https://actu.orange.fr/societe/sante/la-chine-…-CNT000001rhbSJ.html``. A URL it does
  not match has no id: a page is skipped, a link is counted as "not an article".

The **category** is the section path of the URL: its folders, without the page's own name
and without the folders that are numbers (dates and ids, as in ``/2020/07/03/slug``):
``politique/france`` for ``https://actu.orange.fr/politique/france/slug-CNT….html``,
``""`` for a page at the top of its site.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from ..corpus import check_id
from ..errors import CorpusError, ParameterError

__all__ = ["Ids", "absolute_url", "category_of", "compile_pattern"]

_NUMBER = re.compile(r"\d+")


def compile_pattern(pattern: str | None) -> re.Pattern | None:
    """``--id-pattern`` compiled; a ParameterError naming it when it is not a regular
    expression."""
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ParameterError(f"--id-pattern {pattern!r} is not a regular expression: {exc}; "
                             f"for example '(CNT\\w+)\\.html'") from None


def absolute_url(href: str, base: str = "") -> str:
    """``href`` made absolute against the page's URL ``base`` (``""`` when it is not a web
    address: ``javascript:``, ``mailto:``, an anchor alone, or relative without a base)."""
    href = href.strip()
    if not href or href.startswith("#"):
        return ""
    url = urljoin(base, href) if base else href
    if url.startswith("//"):
        url = "https:" + url
    return url if url[:7].lower() == "http://" or url[:8].lower() == "https://" else ""


def category_of(url: str) -> str:
    """The section path of ``url`` (see the module's docstring)."""
    path = urlsplit(url).path
    folders = [unquote(part) for part in path.split("/")[:-1] if part]
    if path.endswith("/") and folders:  # ``/section/slug/``: the page's own name
        folders.pop()
    return "/".join(part for part in folders if not _NUMBER.fullmatch(part))


class Ids:
    """The id of a URL, by courlan's canonical form or by ``pattern``; ids are checked as
    the corpus reader checks them (printable, at most 512 characters)."""

    def __init__(self, pattern: str | None = None):
        self.pattern = pattern
        self._regex = compile_pattern(pattern)
        from courlan import normalize_url  # the optional package: imported when used
        self._normalize = normalize_url

    def __call__(self, url: str) -> str | None:
        """The id of the absolute ``url``; None when ``pattern`` does not match it, when
        the URL cannot be read, or when the id would not be a valid corpus id."""
        if not url:
            return None
        if self._regex is not None:
            found = self._regex.search(url)
            if found is None:
                return None
            article_id = found.group(1) if self._regex.groups else found.group(0)
        else:
            parts = urlsplit(url)
            if "/." in parts.path:  # "./" and "../" segments: RFC 3986 resolves them
                url = urljoin(url, urlunsplit(("", "", parts.path, parts.query, "")))
            try:
                canonical = self._normalize(url)
            except ValueError:  # a port that is not a number, a bad IPv6 host
                return None
            scheme, netloc, path, query, _fragment = urlsplit(canonical)
            if scheme == "http":
                scheme = "https"
            article_id = urlunsplit((scheme, netloc, path, query, ""))
        try:
            return check_id(article_id.strip()) or None
        except CorpusError:
            return None

    def __getstate__(self):  # sent to worker processes: the module function is not
        return {"pattern": self.pattern}

    def __setstate__(self, state):
        self.__init__(state["pattern"])
