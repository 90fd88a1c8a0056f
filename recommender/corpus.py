"""Article records and a streaming corpus reader for JSONL (plain, .gz, .xz) and CSV.

A corpus file is read one line at a time: iterating over :func:`read_corpus` never holds
more than one record's Python objects, so a 1 GB file is read in constant memory. Errors
name the file, the line and the value, and say how to fix them.

Limits: a line holds at most :data:`MAX_LINE_BYTES` bytes (16 MB; a longer one is never
read whole, see :mod:`recommender.lines`) or, with ``skip_invalid=True``, is skipped. An
article's text is bounded by its line: 16 MB of UTF-8 for all its fields in JSONL; in CSV,
each field by the ``csv`` module's limit (131,072 characters by default) and a record
quoted over several lines by 16 M characters. An id holds at most :data:`MAX_ID_CHARS`
characters (512) and no control character, line separator or lone surrogate
(:func:`check_id`); no text field may hold a lone surrogate (UTF-8 cannot encode it).

Times (``published`` or ``date``, ``related_at``) are ISO 8601 or French as sites write
them ("15 décembre 2019", "02/06/2020 16:50": :mod:`recommender.frenchdates`); one without
an offset is in the reader's ``time_zone`` (default UTC).
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

from .errors import CorpusError, CorpusWarning, InputFileNotFoundError
from .lines import MAX_LINE_BYTES, csv_rows, lines_or_errors, numbered_lines
from .times import parse_time, zone_of

__all__ = ["Article", "Corpus", "MAX_ID_CHARS", "MAX_LINE_BYTES", "TEXT_FIELDS", "as_article",
           "check_id", "numbered_lines", "read_corpus"]

logger = logging.getLogger(__name__)

#: The fields that hold an article's text, in the order a page shows them.
TEXT_FIELDS = ("title", "heading", "body")
#: The longest article id, in characters.
MAX_ID_CHARS = 512
_EXAMPLES = 5
# What an id may not hold: control characters (C0, DEL, C1), line and paragraph separators,
# lone surrogates (a JSON "\ud800" decodes to one; UTF-8 cannot encode it).
_BAD_ID_CHAR = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Article:
    """One news article.

    Only ``id`` is required; an article with no text is kept but never recommended.
    ``published`` is a timezone-aware datetime (in the reader's ``time_zone``, UTC by
    default, when the source gave no offset); ``related`` holds the ids of the site's own
    "À lire aussi" box, ``related_at`` when that box was shown; ``tags`` the page's
    keywords (kept for the caller; not part of the text nor of the corpus checksum).
    """

    id: str
    title: str = ""
    heading: str = ""
    body: str = ""
    published: datetime | None = None
    category: str = ""
    url: str = ""
    related: tuple[str, ...] = ()
    related_at: datetime | None = None
    tags: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """Title, lead and body, one per line."""
        return "\n".join(t for t in (self.title, self.heading, self.body) if t)

    @property
    def has_text(self) -> bool:
        return any(t.strip() for t in (self.title, self.heading, self.body))


def as_article(record, *, time_zone=None) -> Article:
    """An :class:`Article` from an Article or a mapping with the corpus fields.

    ``time_zone`` (a ``tzinfo`` or an IANA name; default UTC) is that of the times given
    without an offset. Raises :class:`~recommender.errors.CorpusError` (a ``ValueError``;
    without file or line: :func:`read_corpus` adds them) when the record has no usable id
    (see :func:`check_id`), no text field at all, or a field of the wrong type.
    """
    if isinstance(record, Article):
        return record
    if not isinstance(record, dict):
        raise CorpusError(f"expected a JSON object (an article), got {type(record).__name__}")
    if record.get("id") is None:
        raise CorpusError("record has no 'id'")
    article_id = _id_of(record["id"], "'id'")
    if not article_id:
        raise CorpusError("record has an empty 'id'")
    if not any(name in record for name in TEXT_FIELDS):
        raise CorpusError(f"article {article_id!r} has none of the text fields "
                          f"{', '.join(TEXT_FIELDS)}")
    texts = {}
    for name in (*TEXT_FIELDS, "category", "url"):
        value = record.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise CorpusError(f"article {article_id!r}: field {name!r} must be a string, "
                              f"got {type(value).__name__}")
        texts[name] = value if value.isascii() else _text(value, article_id, name)
    published = record.get("published") or record.get("date")
    which = "published" if record.get("published") else "date"
    try:
        published = parse_time(published, what=f"{which!r}", zone=time_zone)
        related_at = parse_time(record.get("related_at"), what="'related_at'", zone=time_zone)
    except ValueError as exc:
        raise CorpusError(f"article {article_id!r}: {exc}") from None
    return Article(id=article_id, published=published, related=_related_ids(record.get("related")),
                   related_at=related_at, tags=_tags(record.get("tags"), article_id), **texts)


def _text(value: str, article_id: str, name: str) -> str:
    """``value``, if it holds no lone surrogate (UTF-8 cannot encode it)."""
    if not value.isascii() and (lone := _SURROGATE.search(value)):
        raise CorpusError(f"article {article_id!r}: field {name!r} holds a lone surrogate "
                          f"(U+{ord(lone.group()):04X}, an escape such as \\ud800 in JSON) "
                          f"at character {lone.start()}, which UTF-8 cannot encode")
    return value


def _tags(value, article_id: str) -> tuple[str, ...]:
    """``tags``: a list (or tuple: ``dataclasses.asdict`` of an Article) of strings, or one
    string of comma-separated tags (CSV), each stripped, the empty ones dropped, in order."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    elif not isinstance(value, (list, tuple)) or not all(isinstance(t, str) for t in value):
        got = next((f"a list holding {type(t).__name__} {t!r:.40}" for t in value
                    if not isinstance(t, str)), None) if isinstance(value, (list, tuple)) \
            else type(value).__name__
        raise CorpusError(f"article {article_id!r}: field 'tags' must be a list of strings or "
                          f"one comma-separated string, got {got}")
    return tuple(t for t in (_text(t.strip(), article_id, "tags") for t in value) if t)


def check_id(article_id: str, what: str = "id") -> str:
    """``article_id`` if it has at most :data:`MAX_ID_CHARS` characters and no control
    character (they would reach CSV files and terminals raw), line separator or lone
    surrogate (UTF-8 cannot encode it); else a :class:`CorpusError` (the reader adds the
    file and line)."""
    if len(article_id) > MAX_ID_CHARS:
        raise CorpusError(f"{what} {article_id[:40]!r}... has {len(article_id):,} characters; "
                          f"an id may have at most {MAX_ID_CHARS} (MAX_ID_CHARS)")
    bad = _BAD_ID_CHAR.search(article_id)
    if bad:
        kind = ("a lone surrogate (an escape such as \\ud800 in JSON)"
                if _SURROGATE.match(bad.group()) else "a control character")
        raise CorpusError(f"{what} {article_id!r} holds {kind}, U+{ord(bad.group()):04X}, at "
                          f"character {bad.start()}; ids must be printable text")
    return article_id


def _id_of(value, what: str) -> str:
    """A string or integer id, stripped, checked by :func:`check_id`."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise CorpusError(f"{what} must be a string, got {type(value).__name__} {value!r:.80}")
    if isinstance(value, int) and value.bit_length() > 4 * MAX_ID_CHARS:  # str() may refuse
        raise CorpusError(f"{what} is an integer of more than {MAX_ID_CHARS} digits; an id may "
                          f"have at most {MAX_ID_CHARS} characters (MAX_ID_CHARS)")
    return check_id(str(value).strip(), what)


def _related_ids(value) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("["):
            return tuple(check_id(p, "related id") for p in
                         text.replace(";", "|").replace(",", "|").split("|")
                         for p in [p.strip()] if p)
        try:
            value = _loads(text)
        except ValueError as exc:
            raise CorpusError(f"'related' is not a JSON list of ids ({exc})") from None
    if not isinstance(value, (list, tuple)):
        raise CorpusError(f"'related' must be a list of ids, got {type(value).__name__}")
    return tuple(i for i in (_id_of(v, "related id") for v in value) if i)


def _loads(text: str):
    """:func:`json.loads` with every failure a ValueError that says why, in a few words."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{exc.msg} at column {exc.colno}") from None
    except RecursionError:
        raise ValueError("nested deeper than Python's recursion limit") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise ValueError(str(exc)) from None


@dataclass
class Corpus:
    """A corpus file read lazily: each iteration streams the file again.

    After an iteration, ``n_articles``, ``n_empty`` (articles with no text), ``skipped``
    (``(line, reason)`` pairs, with ``skip_invalid=True``) and ``unknown_related``
    (``related`` ids that are not in the corpus) describe what was read. With
    ``check_related=False`` unknown ones are not warned of: a partition's ``related`` ids
    may name articles of other partitions (:mod:`recommender.cluster.partitions`).
    """

    path: Path
    skip_invalid: bool = False
    time_zone: object = None
    check_related: bool = True
    n_articles: int = field(default=0, init=False)
    n_empty: int = field(default=0, init=False)
    skipped: list = field(default_factory=list, init=False)
    unknown_related: list = field(default_factory=list, init=False)

    def __iter__(self) -> Iterator[Article]:
        self.n_articles = self.n_empty = 0
        self.skipped, self.unknown_related = [], []
        seen: dict[str, int] = {}
        duplicates: dict[str, list[int]] = {}
        related: list[tuple[int, str]] = []
        empty_examples = []
        for line_no, record in self.records():
            try:
                if isinstance(record, Exception):
                    raise record
                article = as_article(record, time_zone=self.time_zone)
            except ValueError as exc:
                self._invalid(line_no, str(exc))
                continue
            if article.id in seen:
                duplicates.setdefault(article.id, [seen[article.id]]).append(line_no)
                if self.skip_invalid:
                    self.skipped.append((line_no, f"duplicate id {article.id!r}"))
                continue
            seen[article.id] = line_no
            self.n_articles += 1
            if not article.has_text:
                self.n_empty += 1
                if len(empty_examples) < _EXAMPLES:
                    empty_examples.append(f"{article.id!r} (line {line_no})")
            related.extend((line_no, r) for r in article.related)
            yield article
        if duplicates and not self.skip_invalid:
            examples = "; ".join(f"{i!r} on lines {', '.join(map(str, lines))}"
                                 for i, lines in list(duplicates.items())[:_EXAMPLES])
            raise CorpusError(
                f"{self.path}: {len(duplicates):,} article ids appear more than once, "
                f"first: {examples}. Ids must be unique; remove the copies or pass "
                f"skip_invalid=True (--skip-invalid) to keep the first of each."
            )
        if self.n_articles == 0:
            skipped = f" ({len(self.skipped)} invalid lines skipped)" if self.skipped else ""
            raise CorpusError(f"{self.path}: no articles in this file{skipped}")
        self._report(empty_examples, seen, related)

    def records(self) -> Iterator[tuple[int, object]]:
        """``(line number, record or ValueError)`` of each record (a subclass: Parquet)."""
        return _records(self.path)

    def _invalid(self, line_no: int, reason: str) -> None:
        if not self.skip_invalid:
            raise CorpusError(f"{self.path}, line {line_no}: {reason}. Fix the line or pass "
                              f"skip_invalid=True (--skip-invalid) to skip bad lines.")
        self.skipped.append((line_no, reason))

    def _report(self, empty_examples, seen, related) -> None:
        if self.skipped:
            first = "; ".join(f"line {n}: {why}" for n, why in self.skipped[:_EXAMPLES])
            warnings.warn(f"{self.path}: skipped {len(self.skipped):,} invalid lines, "
                          f"first: {first}", CorpusWarning, stacklevel=3)
        if self.n_empty:
            warnings.warn(f"{self.path}: {self.n_empty:,} articles have no text; they are "
                          f"kept but never recommended: {', '.join(empty_examples)}",
                          CorpusWarning, stacklevel=3)
        self.unknown_related = [(n, r) for n, r in related if r not in seen]
        if self.unknown_related and self.check_related:
            first = ", ".join(f"{r!r} (line {n})" for n, r in self.unknown_related[:_EXAMPLES])
            warnings.warn(f"{self.path}: {len(self.unknown_related):,} 'related' ids are not "
                          f"articles of this corpus: {first}", CorpusWarning, stacklevel=3)


def read_corpus(path, *, skip_invalid: bool = False, time_zone=None) -> Corpus:
    """Read a corpus of articles from JSONL, JSONL.gz, JSONL.xz or CSV (also .csv.gz/.xz).

    Returns a :class:`Corpus`, which streams the file each time it is iterated. The file
    is checked to exist and be readable now; records are checked as they are read.

    Parameters
    ----------
    path : str or Path
    skip_invalid : bool, default=False
        Skip malformed lines and duplicate ids (keeping the first) instead of raising;
        what was skipped is reported in a warning and in ``Corpus.skipped``.
    time_zone : tzinfo or str, default=None
        The time zone of the times given without an offset (``"Europe/Paris"``: a French
        site's own dates); None: UTC. A date alone is midnight in that zone.

    Raises
    ------
    FileNotFoundError, PermissionError
        When the file is missing or unreadable (the message names it).
    CorpusError
        During iteration, on a bad record (file, line and value named).
    ParameterError
        Now, when ``time_zone`` names no time zone.
    """
    zone = zone_of(time_zone, "time_zone")
    path = Path(path)
    if not path.exists():
        raise InputFileNotFoundError(f"corpus file not found: {path}")
    if path.is_dir():
        raise CorpusError(f"{path} is a folder; expected a corpus file "
                          f"(.jsonl, .jsonl.gz, .jsonl.xz or .csv)")
    try:
        with path.open("rb"):
            pass
    except PermissionError:
        raise PermissionError(f"corpus file cannot be read (permission denied): {path}") from None
    _format_of(path)
    return Corpus(path, skip_invalid=skip_invalid, time_zone=zone)


def _format_of(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    if suffixes and suffixes[-1] in (".gz", ".xz"):
        suffixes = suffixes[:-1]
    kind = suffixes[-1] if suffixes else ""
    if kind in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if kind in (".csv", ".tsv"):
        return kind[1:]
    raise CorpusError(f"{path}: unknown corpus format {''.join(path.suffixes) or '(none)'!r}; "
                      f"expected .jsonl, .jsonl.gz, .jsonl.xz, .csv or .tsv")


def _records(path: Path) -> Iterator[tuple[int, object]]:
    """``(line number, record or ValueError)`` for each record of the file."""
    kind = _format_of(path)
    lines = lines_or_errors(path)
    if kind == "jsonl":
        yield from _json_records(lines)
    else:
        yield from _csv_records(path, lines, "\t" if kind == "tsv" else ",")


def _json_records(lines) -> Iterator[tuple[int, object]]:
    for line_no, line in lines:
        if isinstance(line, ValueError):
            yield line_no, line
        if isinstance(line, ValueError) or not line.strip():
            continue
        try:
            # Without the line end, so that a line cut short is reported at its last column,
            # not at "column 1" of the line after it.
            record = _loads(line.rstrip("\r\n"))
        except ValueError as exc:
            record = ValueError(f"malformed JSON ({exc}): {line.strip()[:60]!r}")
        yield line_no, record


def _csv_records(path: Path, lines, delimiter: str) -> Iterator[tuple[int, object]]:
    rows = csv_rows(lines, delimiter)
    line_no, header = next(rows, (0, None))
    if header is None:
        return
    if isinstance(header, ValueError):
        raise CorpusError(f"{path}, line {line_no}: cannot read the CSV header: {header}")
    header = [h.strip().lstrip("\ufeff") for h in header]
    missing = [] if "id" in header else ["id"]
    if not any(name in header for name in TEXT_FIELDS):
        missing.append(" or ".join(TEXT_FIELDS))
    if missing:
        raise CorpusError(f"{path}: the CSV header lacks the column(s) {', '.join(missing)}; "
                          f"found {', '.join(header) or 'no columns'}. A corpus needs 'id' and "
                          f"at least one of {', '.join(TEXT_FIELDS)}.")
    for line_no, row in rows:
        if isinstance(row, ValueError):
            yield line_no, row
        elif not any(cell.strip() for cell in row):
            continue
        elif len(row) != len(header):
            yield line_no, ValueError(f"expected {len(header)} columns, got {len(row)}")
        else:
            yield line_no, {k: (v if v != "" else None) for k, v in zip(header, row)}
