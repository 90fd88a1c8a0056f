"""The streaming import: sources -> pages -> records, in worker processes, to one corpus file.

Pages are read from the sources one at a time and sent to the workers in chunks of
:data:`CHUNK_PAGES`; at most ``2 × jobs`` chunks are out at once (joblib's
``pre_dispatch``), and their records come back in the sources' order and are written as
they come. So the memory is bounded by the chunks in flight, whatever the size of the
archive, and the output is the same for any number of jobs. What the run keeps for its
end is the set of imported ids and a count per link target, for the summary.

The output is written as :func:`recommender._files.atomic_file` writes (a temporary file
renamed into place: a killed import leaves the old file whole), gzip-compressed when its
name ends in ``.gz`` (without a time stamp in the gzip header, so that the same pages give
the same bytes). An id met a second time (the same article saved twice) is skipped, the
first kept.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import os
import signal
import threading
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator

from .._files import atomic_file
from ..errors import ParameterError
from ..times import parse_time, zone_of
from ..vectors.counting import chunked, end_with_parent
from .box import Box
from .ids import Ids
from .page import PageSkipped, read_page
from .sources import NotAPage, Page, check_sources, read_sources

__all__ = ["CHUNK_PAGES", "DEFAULT_ZONE", "ImportSummary", "OUTPUT_SUFFIXES", "Settings",
           "check_output", "import_pages", "quiet_libraries", "read_chunk"]

logger = logging.getLogger(__name__)

#: The time zone of the times a page writes without an offset ("publié le … à 12h08"), unless
#: told: a French site's.
DEFAULT_ZONE = "Europe/Paris"
#: Pages sent to a worker at once.
CHUNK_PAGES = 16
OUTPUT_SUFFIXES = (".jsonl", ".jsonl.gz")
#: The libraries whose own log lines are silenced during an import: each bad page gets one
#: line of ours, with its reason, instead of theirs ("discarding data: None").
_QUIET = ("trafilatura", "htmldate", "courlan", "justext", "charset_normalizer")
_EXAMPLES = 5


@dataclass(frozen=True)
class Settings:
    """What every page is read with (sent to the workers with each chunk)."""

    ids: Ids
    box: Box
    zone: object
    shown_at: datetime | None = None


@dataclass
class ImportSummary:
    """What an import did: pages read and imported, skipped (reason -> count, and the
    first few names), boxes found, the box's links and how many of them resolve to an
    imported article."""

    out: str = ""
    pages: int = 0
    imported: int = 0
    not_html: int = 0
    skipped: Counter = field(default_factory=Counter)
    skipped_examples: list = field(default_factory=list)
    boxes: int = 0
    links: int = 0
    resolved: int = 0
    links_without_id: int = 0

    @property
    def unresolved(self) -> int:
        """Links whose target is not among the imported articles (kept in ``related``)."""
        return self.links - self.resolved

    def lines(self) -> list[str]:
        """The summary, as the command prints it."""
        skipped = sum(self.skipped.values())
        out = [f"imported {self.imported:,} of {self.pages:,} pages -> {self.out}"
               + (f" ({self.not_html:,} files that are not HTML passed over)"
                  if self.not_html else "")]
        if skipped:
            reasons = "; ".join(f"{n:,} {reason}" for reason, n in self.skipped.most_common())
            out.append(f"skipped {skipped:,} pages: {reasons}")
        out.append(f"related boxes found on {self.boxes:,} of {self.imported:,} articles, "
                   f"{self.links:,} links: {self.resolved:,} to imported articles, "
                   f"{self.unresolved:,} to articles not imported (kept)"
                   + (f"; {self.links_without_id:,} links that are not articles left out"
                      if self.links_without_id else ""))
        return out


def check_output(out) -> Path:
    """``out`` if it names a corpus file the import can write (``.jsonl`` or ``.jsonl.gz``,
    not a folder); a one-line error otherwise."""
    path = Path(out)
    if path.is_dir():
        raise ParameterError(f"--out {out} is a folder; give a corpus file such as "
                             f"{Path(out, 'corpus.jsonl.gz')}")
    if not str(path).lower().endswith(OUTPUT_SUFFIXES):
        raise ParameterError(f"--out {out}: the import writes a corpus as .jsonl or "
                             f".jsonl.gz; give a name that ends so")
    return path


def import_pages(sources, out, *, id_pattern: str | None = None, box_headings=(),
                 box_selector: str | None = None, shown_at=None, zone=DEFAULT_ZONE,
                 jobs: int = 1, progress: bool = False) -> ImportSummary:
    """Import the pages of ``sources`` into the corpus file ``out``; the summary.

    ``id_pattern``, ``box_headings``, ``box_selector``: see :mod:`~.ids` and :mod:`~.box`;
    ``shown_at`` (a time as :func:`~recommender.times.parse_time` reads it, in ``zone``
    without an offset) the render time of pages that do not say theirs; ``zone`` (a tzinfo
    or an IANA name) that of the times written without an offset; ``jobs`` worker
    processes; ``progress`` a progress bar (tqdm).
    Raises ParameterError (or an OSError) for a bad argument, before any page is read, and
    ParameterError when no page at all gives an article (no file is written then).
    """
    from .deps import require

    require()
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ParameterError(f"jobs must be a positive number of processes, got {jobs!r}")
    out = check_output(out)
    checked = check_sources(sources)
    zone = zone_of(zone, "zone")
    shown_at = parse_time(shown_at, what="shown_at", zone=zone)
    settings = Settings(ids=Ids(id_pattern), box=Box(box_headings, box_selector),
                        zone=zone, shown_at=shown_at)
    summary = ImportSummary(out=str(out))
    seen: set[str] = set()
    targets: Counter = Counter()
    pages = _counted(read_sources(checked), summary)
    bar = _bar(progress)
    with atomic_file(out, "wb") as raw, _compressed(raw, out) as fh, quiet_libraries(), \
            bar.logging():
        for name, result in _results(pages, settings, jobs):
            bar.update(1)
            if isinstance(result, str):
                _skip(summary, name, result)
                continue
            record, box_found, without_id = result
            if record["id"] in seen:
                _skip(summary, name, f"duplicate id ({record['id']}: an earlier page had it)")
                continue
            seen.add(record["id"])
            summary.imported += 1
            summary.boxes += box_found
            summary.links_without_id += without_id
            targets.update(record["related"])
            fh.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
        bar.close()
        if not summary.imported:
            raise ParameterError(f"no article imported from {summary.pages:,} pages"
                                 + (f" ({'; '.join(summary.lines()[1:2])})"
                                    if summary.skipped else "")
                                 + "; nothing written")
    summary.links = sum(targets.values())
    summary.resolved = sum(n for target, n in targets.items() if target in seen)
    return summary


def _counted(items: Iterable[Page | NotAPage], summary: ImportSummary) -> Iterator:
    """The pages of ``items``; the members that are not pages are counted (and a page
    that a source could not give is passed on as skipped)."""
    for item in items:
        if isinstance(item, NotAPage) and item.reason == "not HTML":
            summary.not_html += 1
            continue
        summary.pages += 1
        yield item


def _skip(summary: ImportSummary, name: str, reason: str) -> None:
    logger.warning("skipped %s: %s", name, reason)
    kind = reason.split(" (")[0]
    summary.skipped[kind] += 1
    if len(summary.skipped_examples) < _EXAMPLES:
        summary.skipped_examples.append((name, reason))


def _results(pages: Iterator, settings: Settings, jobs: int) -> Iterator[tuple]:
    """``(name, result)`` of every page, in order (see :func:`read_chunk`)."""
    chunks = chunked(pages, CHUNK_PAGES)
    if jobs == 1:
        for chunk in chunks:
            yield from read_chunk(settings, chunk)
        return
    from joblib import Parallel, delayed

    with _sigint_ignored():
        # batch_size=1: a task is already a chunk; joblib's automatic batches would group
        # chunks by their speed, and so hold a number of pages that no one chose.
        results = Parallel(n_jobs=jobs, backend="loky", return_as="generator",
                           batch_size=1, pre_dispatch="2*n_jobs", initializer=end_with_parent,
                           initargs=(os.getpid(),))(
            delayed(read_chunk)(settings, chunk) for chunk in chunks)
    for chunk_results in results:
        yield from chunk_results


def read_chunk(settings: Settings, chunk: list) -> list[tuple]:
    """``(name, result)`` of each page of ``chunk`` (a worker's task): the result is
    ``(record, box_found, links_without_id)``, or the one-line reason the page is
    skipped. A page that breaks the extraction itself is skipped too, with the error:
    pages are input, and one of 20,000 must not stop the others."""
    out = []
    with quiet_libraries():
        for page in chunk:
            if isinstance(page, NotAPage):
                out.append((page.name, page.reason))
                continue
            try:
                out.append((page.name, _record(page, settings)))
            except PageSkipped as exc:
                out.append((page.name, str(exc)))
            except Exception as exc:  # noqa: BLE001 - a bad page, not a bug of the run
                message = " ".join(str(exc).split())[:200]
                out.append((page.name, f"cannot be read ({type(exc).__name__}"
                                       f"{': ' + message if message else ''})"))
    return out


def _record(page: Page, settings: Settings) -> tuple[dict, bool, int]:
    record = read_page(page.data, url=page.url, charset=page.charset,
                       captured_at=page.captured_at, ids=settings.ids, box=settings.box,
                       zone=settings.zone, shown_at=settings.shown_at)
    links = record["related"]
    related, without_id = [], 0
    for url in links or ():
        target = settings.ids(url)
        if target is None:
            without_id += 1
        elif target != record["id"]:
            related.append(target)
    record["related"] = list(dict.fromkeys(related))
    return record, links is not None, without_id


@contextlib.contextmanager
def _compressed(raw, out: Path):
    if not str(out).lower().endswith(".gz"):
        yield raw
        return
    with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as fh:
        yield fh


@contextlib.contextmanager
def quiet_libraries():
    """The extraction libraries' loggers at CRITICAL and their warnings ignored, for the
    block; restored after."""
    loggers = [logging.getLogger(name) for name in _QUIET]
    levels = [one.level for one in loggers]
    for one in loggers:
        one.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():
            for name in _QUIET:
                warnings.filterwarnings("ignore", module=name)
            yield
    finally:
        for one, level in zip(loggers, levels):
            one.setLevel(level)


@contextlib.contextmanager
def _sigint_ignored():
    """SIGINT ignored while the workers start, so that they inherit it ignored: a Ctrl-C
    reaches the parent alone, whose KeyboardInterrupt ends the run and them with it (as
    :mod:`recommender.vectors.counting` does for the fit's workers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass

    def logging(self):
        return contextlib.nullcontext()


class _Bar(_NoBar):
    """A tqdm bar (pages and pages/s: the total is not known before the end of a stream)
    above which the log's lines (a skipped page) are printed, instead of through it."""

    def __init__(self):
        from tqdm import tqdm

        self._bar = tqdm(unit=" pages", desc="importing")

    def update(self, n: int) -> None:
        self._bar.update(n)

    def close(self) -> None:
        self._bar.close()

    def logging(self):
        from tqdm.contrib.logging import logging_redirect_tqdm

        return logging_redirect_tqdm()


def _bar(progress: bool):
    return _Bar() if progress else _NoBar()
