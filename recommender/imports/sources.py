"""What the import reads: HTML files, folders, tar archives, WARC files and RSS/Atom feeds,
each as a stream of :class:`Page` (an address and the page's bytes), one page in memory at
a time.

A SOURCE is, by what it holds (its first bytes, not its name alone):

* an **HTML file**;
* a **folder** (a ``wget --mirror``): its HTML files, recursively, in the order of their
  paths;
* a **tar archive** (``.tar``, ``.tar.gz``, ``.tgz``, ``.tar.bz2``, ``.tar.xz``): its
  HTML files, in the archive's order, read as a stream (never unpacked);
* a **WARC file** (``.warc``, ``.warc.gz``; warcio): its HTML responses, with their
  addresses, server charsets and capture dates. Other records (requests, images, scripts)
  are not pages and are passed over; an HTML response that is not a success (a redirect, a
  404) is skipped, with its status;
* an **RSS or Atom feed** (feedparser): each item becomes a page of its title, link, date,
  tags and content (or summary), read as any page is (a feed holds no related box).

In a folder or an archive, a file is a page when its name ends in ``.html``, ``.htm``,
``.xhtml`` or ``.shtml``, or when its first bytes are HTML (``<!doctype html`` or
``<html``: a mirror's pages without an extension); other files are counted, not read.
A page's address is, in this order, its own canonical link (read later, from the page),
the address its source gives (a WARC record's, a feed item's link), or its path in a
mirror's layout: from the first folder named like a host (``actu.orange.fr/societe/…``
reads as ``https://actu.orange.fr/societe/…``).
"""

from __future__ import annotations

import html
import os
import re
import tarfile
from calendar import timegm
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from ..errors import ParameterError

__all__ = ["HTML_SUFFIXES", "MAX_PAGE_BYTES", "NotAPage", "Page", "check_sources", "kind_of",
           "mirror_url", "read_sources"]

HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".shtml")
#: The most of a page that is read; a longer page is skipped as too large (a crawl's stray
#: video or archive named .html), and never held whole.
MAX_PAGE_BYTES = 20_000_000
#: A folder name that reads as a host: the root of a mirror's layout.
_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}", re.IGNORECASE)
_HTML_START = re.compile(rb"<!doctype\s+html|<html[\s>]", re.IGNORECASE)
_FEED_START = re.compile(rb"<rss[\s>]|<feed[\s>]|<rdf:rdf[\s>]", re.IGNORECASE)
_SNIFF = 2048


@dataclass(frozen=True, slots=True)
class Page:
    """One page to read: ``name`` (where it was found, for messages), its bytes, the
    address and charset its source gives, and when it was captured (a WARC's date)."""

    name: str
    data: bytes
    url: str = ""
    charset: str | None = None
    captured_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class NotAPage:
    """A member of a source that is not read: ``reason`` says why (``"not HTML"`` for the
    files, records and members that are not pages; anything else is a skipped page)."""

    name: str
    reason: str


def kind_of(path: Path) -> str:
    """``"folder"``, ``"tar"``, ``"warc"``, ``"feed"`` or ``"html"``: what the source
    ``path`` holds, from its first bytes (and a tar's structure)."""
    if path.is_dir():
        return "folder"
    with path.open("rb") as fh:
        head = fh.read(_SNIFF)
    if head[:2] == b"\x1f\x8b":  # gzip: a .warc.gz or a .tar.gz
        import gzip

        with gzip.open(path, "rb") as fh:
            try:
                head = fh.read(_SNIFF)
            except (OSError, EOFError):
                head = b""
    if head.startswith(b"WARC/"):
        return "warc"
    if _is_tar(path):
        return "tar"
    if _FEED_START.search(head) and not _HTML_START.search(head):
        return "feed"
    return "html"


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except (OSError, EOFError, tarfile.TarError):
        return False


def check_sources(sources) -> list[tuple[Path, str]]:
    """``(path, kind)`` of each source, checked now (before any work): a missing or
    unreadable source is a one-line error naming it."""
    if not sources:
        raise ParameterError("no SOURCE given: give HTML files, folders, tar or WARC "
                             "archives, or RSS/Atom feeds")
    checked = []
    for source in sources:
        path = Path(source)
        if not path.exists():
            raise _Missing(f"source not found: {path}", path)
        if not path.is_dir() and not os.access(path, os.R_OK):
            raise _Unreadable(f"source cannot be read (permission denied): {path}", path)
        checked.append((path, kind_of(path)))
    return checked


class _Named:
    """An OSError about a source, with its ``filename`` (the command line takes an OSError
    without one for a failure to write the output) and its message alone as its text."""

    def __init__(self, message: str, path: Path):
        super().__init__(message)
        self.filename = str(path)

    def __str__(self) -> str:
        return self.args[0]


class _Missing(_Named, FileNotFoundError):
    pass


class _Unreadable(_Named, PermissionError):
    pass


def read_sources(sources: list[tuple[Path, str]]) -> Iterator[Page | NotAPage]:
    """Every page of the sources (see :func:`check_sources`), in order, one at a time."""
    readers = {"folder": _folder, "tar": _tar, "warc": _warc, "feed": _feed, "html": _file}
    for path, kind in sources:
        yield from readers[kind](path)


# -- files, folders, tar archives -----------------------------------------------------------
def mirror_url(path: str) -> str:
    """The address of a file in a mirror's layout (from its first folder named like a
    host), or ``""``."""
    parts = [p for p in path.replace(os.sep, "/").split("/") if p not in ("", ".", "..")]
    for i, part in enumerate(parts[:-1]):
        if _HOST.fullmatch(part):
            return "https://" + "/".join(parts[i:])
    return ""


def _is_page(name: str, head: bytes) -> bool:
    return name.lower().endswith(HTML_SUFFIXES) or bool(_HTML_START.search(head[:_SNIFF]))


def _read(fh, head: bytes = b"") -> bytes:
    """The rest of a page after ``head``, at most :data:`MAX_PAGE_BYTES` + 1 bytes in all
    (a longer one is skipped as too large, without being read whole)."""
    return head + fh.read(MAX_PAGE_BYTES + 1 - len(head))


def _file(path: Path, url: str | None = None) -> Iterator[Page | NotAPage]:
    try:
        with path.open("rb") as fh:
            data = _read(fh)
    except OSError as exc:
        yield NotAPage(str(path), f"cannot be read ({exc.strerror or exc})")
        return
    yield Page(str(path), data, url=mirror_url(str(path)) if url is None else url)


def _folder(path: Path) -> Iterator[Page | NotAPage]:
    # The folder's own name is part of the layout: ``import mirror/actu.orange.fr``.
    yield from _walk(path.resolve().parent, path)


def _walk(root: Path, folder: Path) -> Iterator[Page | NotAPage]:
    """The files under ``folder`` in the order of their paths (depth first, by name)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as exc:
        yield NotAPage(str(folder), f"cannot be read ({exc.strerror or exc})")
        return
    for entry in entries:
        full = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):  # a link to a folder could loop
            yield from _walk(root, full)
            continue
        if not entry.is_file():
            continue
        try:
            with full.open("rb") as fh:
                head = fh.read(_SNIFF)
                data = _read(fh, head) if _is_page(entry.name, head) else None
        except OSError as exc:
            yield NotAPage(str(full), f"cannot be read ({exc.strerror or exc})")
            continue
        if data is None:
            yield NotAPage(str(full), "not HTML")
            continue
        yield Page(str(full), data, url=mirror_url(full.resolve().relative_to(root).as_posix()))


def _tar(path: Path) -> Iterator[Page | NotAPage]:
    try:
        with tarfile.open(path, "r|*") as archive:  # a stream: members in archive order
            for member in archive:
                if not member.isfile():
                    continue
                name = f"{path}:{member.name}"
                fh = archive.extractfile(member)
                head = fh.read(_SNIFF) if fh is not None else b""
                if not _is_page(member.name, head):
                    yield NotAPage(name, "not HTML")  # the rest of it is never read
                    continue
                yield Page(name, _read(fh, head), url=mirror_url(member.name))
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise ParameterError(f"{path}: the tar archive cannot be read to its end ({exc})") \
            from None


# -- WARC ----------------------------------------------------------------------------------
def _warc(path: Path) -> Iterator[Page | NotAPage]:
    from warcio.archiveiterator import ArchiveIterator

    with path.open("rb") as stream:
        try:
            for record in ArchiveIterator(stream):
                if record.rec_type not in ("response", "resource"):
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI") or ""
                name = f"{path}:{url or record.rec_headers.get_header('WARC-Record-ID')}"
                headers = record.http_headers
                content_type = (headers.get_header("Content-Type") if headers else
                                record.rec_headers.get_header("Content-Type")) or ""
                content = record.content_stream()
                head = b"" if content_type else content.read(_SNIFF)
                if "html" not in content_type.lower() and not _is_page(url, head):
                    yield NotAPage(name, "not HTML")  # the rest of it is never read
                    continue
                status = headers.get_statuscode() if headers else "200"
                if status and not str(status).startswith("2"):
                    yield NotAPage(name, f"HTTP status {status}")
                    continue
                yield Page(name, _read(content, head), url=url, charset=_charset(content_type),
                           captured_at=_warc_date(record.rec_headers.get_header("WARC-Date")))
        except Exception as exc:  # noqa: BLE001 - warcio fails on a damaged file in many ways
            reason = " ".join(str(exc).split())[:160] or type(exc).__name__
            raise ParameterError(f"{path}: not a WARC file that can be read to its end "
                                 f"({reason})") from None


def _charset(content_type: str) -> str | None:
    found = re.search(r"charset\s*=\s*[\"']?([\w-]+)", content_type, re.IGNORECASE)
    return found.group(1).lower() if found else None


def _warc_date(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


# -- RSS and Atom feeds --------------------------------------------------------------------
def _feed(path: Path) -> Iterator[Page | NotAPage]:
    import feedparser

    parsed = feedparser.parse(path.read_bytes())
    if parsed.bozo and not parsed.entries:
        reason = " ".join(str(parsed.get("bozo_exception", "")).split())
        raise ParameterError(f"{path}: not an RSS or Atom feed that can be read ({reason})")
    for number, entry in enumerate(parsed.entries, 1):
        link = entry.get("link") or ""
        name = f"{path}:item {number}" + (f" ({link})" if link else "")
        yield Page(name, _entry_page(entry), url=link, charset="utf-8")


def _entry_page(entry) -> bytes:
    """A feed item as a small HTML page: its title, link, date and tags in the head (where
    any page has them), its content in an ``<article>``."""
    title = html.escape(entry.get("title") or "")
    head = [f"<title>{title}</title>"]
    if entry.get("link"):
        head.append(f'<link rel="canonical" href="{html.escape(entry["link"])}">')
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if stamp:
        moment = datetime.fromtimestamp(timegm(stamp), timezone.utc).isoformat()
        head.append(f'<meta property="article:published_time" content="{moment}">')
    for tag in entry.get("tags") or ():
        term = (tag.get("term") or "").strip()
        if term:
            head.append(f'<meta property="article:tag" content="{html.escape(term)}">')
    contents = entry.get("content") or ()
    text = contents[0].get("value", "") if contents else entry.get("summary", "")
    if "<" not in text:  # plain text: one paragraph per line
        text = "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line)
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8">{"".join(head)}</head><body>'
            f"<article><h1>{title}</h1>{text}</article></body></html>").encode("utf-8")

