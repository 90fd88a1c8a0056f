"""Numbered lines of a text file (plain, ``.gz`` or ``.xz``), each of bounded length.

Every reader of the package's input files (corpus JSONL and CSV/TSV, ground-truth TSV, ids
files) reads through :func:`numbered_lines` or :func:`lines_or_errors`. A line holds at
most :data:`MAX_LINE_BYTES` bytes (16 MB), its line end included: a longer line is never
read whole (a line of zeros many gigabytes long, or one packed into a small ``.gz``, costs
16 MB of memory at most) but is an error naming the file and the line, or, where records
can be skipped, a line skipped once it has been read past (which takes as long as the line
is: a device that never ends a line never ends the reading). :func:`csv_rows` reads CSV
records from such lines, each record at most 16 M characters even when quoted over lines.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import lzma
import zlib
from pathlib import Path
from typing import Iterator

from .errors import CorpusError

__all__ = ["MAX_LINE_BYTES", "csv_rows", "lines_or_errors", "numbered_lines"]

#: The longest line read, in bytes, line end included (16 MB).
MAX_LINE_BYTES = 16 * 2**20


def numbered_lines(path) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of each line of a text file, plain, ``.gz`` or ``.xz``.

    A UTF-8 byte-order mark is dropped; a line over :data:`MAX_LINE_BYTES` (never read
    whole), bytes that are not UTF-8, and a truncated or damaged archive raise
    :class:`~recommender.errors.CorpusError` naming the file and the line.
    """
    path = Path(path)
    for line_no, line in lines_or_errors(path):
        if isinstance(line, ValueError):
            raise CorpusError(f"{path}, line {line_no}: {line}.")
        yield line_no, line


def lines_or_errors(path) -> Iterator[tuple[int, "str | ValueError"]]:
    """:func:`numbered_lines` with a ValueError (the reason, without file or line) in place
    of a line over the limit or not UTF-8, and the reading going on: a reader may skip it."""
    path = Path(path)
    try:
        with _open_binary(path) as raw:
            yield from _decoded_lines(path, raw)
    except (EOFError, OSError, lzma.LZMAError, zlib.error) as exc:
        if isinstance(exc, (FileNotFoundError, PermissionError)):
            raise
        raise CorpusError(f"{path}: the file is truncated or not a valid "
                          f"{path.suffix} archive ({exc})") from None


def _open_binary(path: Path):
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".xz"):
        return lzma.open(path, "rb")
    return path.open("rb")


def _decoded_lines(path: Path, raw) -> Iterator[tuple[int, "str | ValueError"]]:
    line_no = 0
    while line := raw.readline(MAX_LINE_BYTES + 1):  # bounded: never a whole huge line
        line_no += 1
        if len(line) > MAX_LINE_BYTES:
            del line  # the error comes first: a reader that stops at it stops at once ...
            yield line_no, ValueError(f"the line is longer than {MAX_LINE_BYTES:,} bytes "
                                      f"(MAX_LINE_BYTES, 16 MB)")
            while (rest := raw.readline(2**20)) and not rest.endswith(b"\n"):
                pass  # ... one that skips it reads past the rest, 1 MB at a time
            continue
        if line_no == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8):]  # files saved by Windows tools start with one
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = ValueError(f"bytes that are not UTF-8 at offset {exc.start} of the line "
                              f"({line[exc.start:exc.start + 4]!r}); re-encode the file as UTF-8")
        yield line_no, text


def csv_rows(lines, delimiter: str = ",") -> Iterator[tuple[int, "list[str] | ValueError"]]:
    """``(line number, row)`` of the CSV records of :func:`lines_or_errors`'s ``lines``, a
    row's number that of its last line. A line over the limit, a record quoted over lines
    of more than :data:`MAX_LINE_BYTES` characters in all, a field over the ``csv``
    module's limit or any other CSV error comes as a ValueError in place of a row, and the
    reading goes on at the next line."""
    feed = _CsvFeed(lines)
    reader = csv.reader(feed, delimiter=delimiter)
    while True:
        feed.size = 0
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            reason = str(exc)
            if "field limit" in reason:
                reason = (f"a field is longer than the csv module's limit of "
                          f"{csv.field_size_limit():,} characters; write long texts as JSONL")
            row = ValueError(f"unreadable CSV ({reason})")
        except ValueError as exc:
            row = exc
        yield feed.line_no, row


class _CsvFeed:
    """Lines for :func:`csv.reader` that raise a line over the limit's ValueError, or one
    for a record of more than MAX_LINE_BYTES characters: the reader passes it on, and
    reads on from the next line when called again."""

    def __init__(self, lines):
        self.lines, self.line_no, self.size = lines, 0, 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        self.line_no, line = next(self.lines)
        if isinstance(line, ValueError):
            raise line
        self.size += len(line)
        if self.size > MAX_LINE_BYTES:
            raise ValueError(f"a record quoted over several lines is longer than "
                             f"{MAX_LINE_BYTES:,} characters (MAX_LINE_BYTES, 16 MB): is a "
                             f"quote left open?")
        return line
