"""One page to one article record: the HTML parsed once, the box taken first, then
trafilatura on what is left.

The page is parsed once, by lxml. The same tree gives, in this order:

1. the page's **URL** and what its head says (title, publication time, keywords, section,
   render time: :mod:`recommender.imports.meta`); the **id** and **category** come from
   the URL (:mod:`recommender.imports.ids`; the category from ``article:section`` when the
   URL has no folder);
2. the **related box** (:mod:`recommender.imports.box`), whose elements are then removed;
3. the text, by trafilatura's ``bare_extraction`` on the tree (``fast``: no second
   extractor to compare with; it copies the tree it is given and works on that copy).

The text is cut into blocks (paragraphs, headings, lists, quotes) and lines (at line
breaks). The blocks that trafilatura keeps at the top and that are not the article's text
are dropped: the title repeated, a byline ("AFP, publié le lundi 11 mai 2020 à 12h08":
one short line whose end, from "publié le", "mis en ligne le", "mis à jour le" or "modifié
le", is a date that :func:`recommender.times.parse_time` reads; it gives the publication
time when the head gives none), an author line ("Par Jeanne Martin": one short line
without a sentence's end). The **heading** (the lead, chapô) is the bold text that opens
the first block left (a lead set in bold, followed by the text in the same paragraph),
else that whole block; the **body** is every line after it, one per line.
``related_at`` is the page's render time, else its source's capture time (a WARC record's
date), else the import's ``shown_at``. A page without a title and a text is skipped.
"""

from __future__ import annotations

import re
from datetime import datetime

from ..errors import ParameterError
from ..times import parse_time
from . import meta
from .ids import category_of
from .sources import MAX_PAGE_BYTES

__all__ = ["MAX_PAGE_BYTES", "MIN_TEXT_CHARS", "PageSkipped", "parse_html", "read_page"]

#: Below this many characters, trafilatura takes its extraction for a failure and reads the
#: page's whole text instead (its default, 250, is longer than a short news item: a quiz's
#: lead alone came out glued to the photo's caption, the box and the byline).
MIN_TEXT_CHARS = 100
#: Where a byline's date starts; the first two kinds give the publication time.
_DATED = re.compile(r"\b(?:(publi[ée]|mis en ligne)|mis à jour|modifi[ée]|actualis[ée])\s+le\s",
                    re.IGNORECASE)
#: An author line: "Par" and a few words, no sentence's end.
_AUTHOR = re.compile(r"(?:par|by)\s+[^.!?]{1,60}", re.IGNORECASE)
#: A byline is short, and its date comes early: a longer line is text ("Le rapport publié
#: le 3 mai par l'OMS montre que …"), whatever words it holds.
_MAX_BYLINE, _MAX_BEFORE_DATE = 160, 80
_LINE_BREAK = "\u2029"  # the paragraph separator (one in a page's text splits a line too)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)""", re.IGNORECASE)


class PageSkipped(Exception):
    """A page that gives no article; the message is the one-line reason."""


def parse_html(data: bytes, charset: str | None = None):
    """The lxml tree of ``data``, decoded by ``charset`` (a server's), else the page's
    ``<meta charset>``, else UTF-8 if it decodes, else Windows-1252."""
    import lxml.etree
    import lxml.html

    if b"\x00" in data[:4096]:  # text never holds a NUL byte (UTF-16 pages aside)
        raise PageSkipped("not an HTML page (binary data)")
    encoding = charset
    if encoding is None:
        declared = _CHARSET.search(data, 0, 4096)
        encoding = declared.group(1).decode("ascii").lower() if declared else None
    if encoding is None or encoding.replace("-", "") == "utf8":
        try:
            data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "windows-1252"
    try:
        parser = _parser(encoding)
    except LookupError:
        parser = _parser("utf-8")
    try:
        tree = lxml.html.document_fromstring(data, parser=parser)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise PageSkipped(f"not an HTML page ({' '.join(str(exc).split()) or 'empty'})") \
            from None
    if tree is None or len(tree) == 0:
        raise PageSkipped("not an HTML page (empty)")
    return tree


_parsers: dict = {}


def _parser(encoding: str):
    import codecs

    import lxml.html

    name = codecs.lookup(encoding).name  # LookupError for an unknown charset
    if name not in _parsers:
        _parsers[name] = lxml.html.HTMLParser(
            encoding=name, collect_ids=False, default_doctype=False, remove_comments=True,
            remove_pis=True)
    return _parsers[name]


def read_page(data: bytes, *, url: str = "", charset: str | None = None,
              captured_at: datetime | None = None, ids, box, zone, shown_at=None) -> dict:
    """The article record of one page (a dict of the corpus fields, ``related`` the
    box's link URLs, or None without a box: :mod:`recommender.imports.run` turns them
    into ids); raises :class:`PageSkipped` with the reason when the page gives none.

    ``url`` is the source's address of the page, ``ids`` an :class:`~.ids.Ids`, ``box`` a
    :class:`~.box.Box`, ``zone`` the tzinfo of times without an offset, ``shown_at`` the
    render time of pages that do not say theirs.
    """
    if len(data) > MAX_PAGE_BYTES:
        raise PageSkipped(f"larger than {MAX_PAGE_BYTES:,} bytes")
    tree = parse_html(data, charset)
    address = meta.page_url(tree, url)
    if not address:
        raise PageSkipped("no URL (the page has no canonical link and its source gives none)")
    article_id = ids(address)
    if article_id is None:
        raise PageSkipped(f"no id ({address}"
                          + (f" does not match --id-pattern '{ids.pattern}')"
                             if ids.pattern else " is not a URL an id is made of)"))
    metas = meta.metas_of(tree)
    title = meta.title(tree, metas)
    related_at = meta.render_time(metas, zone) or captured_at or shown_at
    links = box(tree, address)
    blocks = _blocks(_extract(tree, address))
    byline_time = None
    while blocks:
        is_byline, when = _byline(blocks[0], zone)
        if not is_byline and not _is_title(blocks[0], title):
            break
        byline_time = byline_time or when
        blocks.pop(0)
    heading, lines = _lead(blocks)
    if not title and not heading:
        raise PageSkipped("no title and no text")
    return {
        "id": article_id,
        "url": address,
        "title": title,
        "heading": heading,
        "body": "\n".join(lines),
        "published": _iso(meta.published(tree, address, byline_time, zone)),
        "category": category_of(address) or meta.section(metas),
        "tags": meta.tags(metas),
        "related": links,
        "related_at": _iso(related_at),
    }


def _extract(tree, url: str):
    """trafilatura's text of ``tree``, as its XML body (None when it finds no text)."""
    from trafilatura import bare_extraction

    # output_format="xml": the body as an XML tree alone; "python" would also render it as
    # text (a copy of it, with markdown), which the import does not read.
    document = bare_extraction(
        tree, url=url, fast=True, with_metadata=False, include_comments=False,
        include_tables=True, include_formatting=True, include_images=False,
        output_format="xml", config=_config())
    return None if document is None else document.body


def _config():
    """trafilatura's settings, with :data:`MIN_TEXT_CHARS` for its "too short" threshold."""
    global _trafilatura_config
    if _trafilatura_config is None:
        from copy import deepcopy

        from trafilatura.settings import DEFAULT_CONFIG

        _trafilatura_config = deepcopy(DEFAULT_CONFIG)
        _trafilatura_config["DEFAULT"]["MIN_EXTRACTED_SIZE"] = str(MIN_TEXT_CHARS)
    return _trafilatura_config


_trafilatura_config = None
def _blocks(body) -> list[tuple[str, list[str]]]:
    """The text of trafilatura's body as blocks (paragraphs, headings, lists, quotes,
    tables), each ``(bold_start, lines)``: its lines (cut at line breaks, spaces collapsed,
    empty ones left out) and the bold text that opens it, if any ("" else)."""
    if body is None:
        return []
    for line_break in body.iter("lb"):
        line_break.text = _LINE_BREAK
    blocks = []
    for block in body:
        lines = [line for line in (" ".join(part.split()) for part in
                                   "".join(block.itertext()).split(_LINE_BREAK)) if line]
        if lines:
            blocks.append((_bold_start(block), lines))
    return blocks


def _bold_start(block) -> str:
    """The text of the bold element that opens ``block`` (no text before it), or ""."""
    if (block.text or "").strip() or not len(block):
        return ""
    first = block[0]
    if first.tag != "hi" or "#b" not in (first.get("rend") or ""):
        return ""
    return " ".join("".join(first.itertext()).replace(_LINE_BREAK, " ").split())


def _byline(block, zone) -> tuple[bool, datetime | None]:
    """Whether ``block`` is a byline or an author line (see the module's docstring), and
    the publication time the byline gives."""
    lines = block[1]
    if len(lines) != 1 or len(lines[0]) > _MAX_BYLINE:
        return False, None
    line = lines[0]
    if _AUTHOR.fullmatch(line):
        return True, None
    found = _DATED.search(line)
    if found is None or found.start() > _MAX_BEFORE_DATE:
        return False, None
    try:
        moment = parse_time(line[found.start():], what="byline", zone=zone)
    except ParameterError:
        return False, None
    return True, moment if found.group(1) else None


def _is_title(block, title: str) -> bool:
    """A block that repeats the title (the article's ``<h1>`` inside its text)."""
    return bool(title) and "".join("".join(block[1]).split()) == "".join(title.split())


def _lead(blocks) -> tuple[str, list[str]]:
    """The heading and the body's lines: the heading is the bold text that opens the first
    block (a lead set in bold, followed by the text in the same paragraph), else that whole
    block; the body is every line after it."""
    if not blocks:
        return "", []
    bold, lines = blocks[0]
    whole = " ".join(lines)
    rest = []
    if bold and whole.startswith(bold) and len(whole) > len(bold):
        remainder = "\n".join(lines)[len(bold):]
        rest = [line for line in (" ".join(part.split()) for part in remainder.split("\n"))
                if line]
        heading = bold
    else:
        heading = whole
    return heading, rest + [line for _bold, more in blocks[1:] for line in more]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


