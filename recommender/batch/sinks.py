"""The batch file's rows, as text: one formatter per format, chosen by the file's suffix.

A block of scored articles becomes its text in one call, ``block_text(kind, sources,
related, scores)``, the related articles best first; a file is :func:`header` then the
texts of its blocks in order. The text of a block depends on that block alone, so the
workers of a cluster format their own blocks (the client only writes), and the file has
the bytes of the local run's.

- ``.jsonl``: one JSON object a line, ``{"id": …, "related": [{"id": …, "score": …}, …]}``,
  scores rounded to 6 decimals, non-ASCII kept as is (a lone surrogate, which UTF-8
  cannot encode, is written as its ``\\ud800`` escape: the id reads back the same). The
  bytes are those of ``json.dumps(row, ensure_ascii=False)``, made without building the
  objects (a tested equality; twice as fast).
- ``.csv``: a header ``id,rank,related_id,score``, then one row per related article,
  ranks from 1, scores with 6 decimals. Every row is one line of printable text: a control
  character, line separator or lone surrogate in an id (the readers refuse them, see
  :func:`recommender.corpus.check_id`; a model of another origin may hold them) is
  written as U+FFFD, and :func:`warn_unsafe` gives a
  :class:`~recommender.errors.CorpusWarning` naming the first such id. The ``.jsonl``
  format keeps every id exactly.
"""

from __future__ import annotations

import csv
import io
import json
import re
import warnings
from json.encoder import encode_basestring as _string  # json.dumps's own, ensure_ascii=False
from typing import NamedTuple

from ..errors import CorpusWarning, ParameterError

__all__ = ["SUFFIXES", "BlockText", "block_text", "header", "warn_unsafe", "writer_for"]

#: The suffixes of the formats, as :func:`block_text` takes them.
SUFFIXES = (".jsonl", ".csv")
# What a CSV row may not carry raw: control characters (C0, DEL, C1), line and paragraph
# separators, lone surrogates.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


class BlockText(NamedTuple):
    """A block's rows as text, and the first id the format could not write raw (CSV: a
    control character, line separator or lone surrogate), or None."""

    text: str
    unsafe: str | None


def _check_kind(kind: str) -> str:
    if kind not in SUFFIXES:
        raise ParameterError(f"unknown batch format {kind!r}: expected one of "
                             f"{', '.join(SUFFIXES)}")
    return kind


def header(kind: str) -> str:
    """What a file of format ``kind`` starts with: the CSV header line, or nothing."""
    return "id,rank,related_id,score\r\n" if _check_kind(kind) == ".csv" else ""


def block_text(kind: str, sources, related, scores) -> BlockText:
    """The rows of format ``kind`` of a block: ``sources`` (ids), and for each its
    ``related`` ids and ``scores`` (Python floats), best first."""
    if _check_kind(kind) == ".jsonl":
        return BlockText("".join(map(_jsonl_line, sources, related, scores)), None)
    return _csv_rows(sources, related, scores)


def writer_for(fh, kind: str):
    """A writer of one row at a time, ``write(source, related, scores)``, on the text file
    ``fh`` (open it with ``newline=""``), the rows of :func:`block_text`; the header is
    written now, and the CSV warning given once."""
    fh.write(header(kind))
    warned = []

    def write(source, related, scores):
        text, unsafe = block_text(kind, [source], [related], [scores])
        if unsafe is not None and not warned:
            warned.append(unsafe)
            warn_unsafe(unsafe)
        fh.write(text)
    return write


def warn_unsafe(unsafe: str) -> None:
    """The CSV file's warning about the id ``unsafe`` (the first of any it wrote as U+FFFD)."""
    warnings.warn(f"article id {unsafe!r} holds a control character, a line separator or a "
                  f"lone surrogate: written to the CSV file with U+FFFD in its place (as are "
                  f"any others; .jsonl keeps ids exactly)", CorpusWarning, stacklevel=2)


def _jsonl_line(source: str, related, scores) -> str:
    items = ", ".join([f'{{"id": {_string(r)}, "score": {round(s, 6)!r}}}'
                       for r, s in zip(related, scores)])
    line = f'{{"id": {_string(source)}, "related": [{items}]}}\n'
    if _SURROGATE.search(line):  # UTF-8 cannot encode it: escape the row
        items = [{"id": r, "score": round(s, 6)} for r, s in zip(related, scores)]
        line = json.dumps({"id": source, "related": items}) + "\n"
    return line


def _csv_rows(sources, related, scores) -> BlockText:
    text = io.StringIO(newline="")
    rows = csv.writer(text)
    unsafe = None
    for source, ids, values in zip(sources, related, scores):
        if _UNSAFE.search(source + "".join(ids)):
            if unsafe is None:
                unsafe = next(i for i in (source, *ids) if _UNSAFE.search(i))
            source, ids = _safe(source), [_safe(r) for r in ids]
        rows.writerows([source, rank, r, f"{s:.6f}"]
                       for rank, (r, s) in enumerate(zip(ids, values), start=1))
    return BlockText(text.getvalue(), unsafe)


def _safe(text: str) -> str:
    return _UNSAFE.sub("\ufffd", text)
