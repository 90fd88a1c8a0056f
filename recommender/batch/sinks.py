"""The batch file's rows: one writer per format, chosen by the file's suffix.

A writer is called once per scored article, ``write(source_id, related_ids, scores)``,
the related articles best first:

- ``.jsonl``: one JSON object a line, ``{"id": …, "related": [{"id": …, "score": …}, …]}``,
  scores rounded to 6 decimals, non-ASCII kept as is (a lone surrogate, which UTF-8
  cannot encode, is written as its ``\\ud800`` escape: the id reads back the same);
- ``.csv``: a header ``id,rank,related_id,score``, then one row per related article,
  ranks from 1, scores with 6 decimals. Every row is one line of printable text: a control
  character, line separator or lone surrogate in an id (the readers refuse them, see
  :func:`recommender.corpus.check_id`; a model of another origin may hold them) is
  written as U+FFFD, with a :class:`~recommender.errors.CorpusWarning` naming the first
  such id. The ``.jsonl`` format keeps every id exactly.
"""

from __future__ import annotations

import csv
import json
import re
import warnings

from ..errors import CorpusWarning, ParameterError

__all__ = ["SUFFIXES", "writer_for"]

#: The suffixes of the formats, as :func:`writer_for` takes them.
SUFFIXES = (".jsonl", ".csv")
# What a CSV row may not carry raw: control characters (C0, DEL, C1), line and paragraph
# separators, lone surrogates.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def writer_for(fh, kind: str):
    """The row writer of format ``kind`` (one of :data:`SUFFIXES`) on the text file ``fh``
    (open it with ``newline=""``); the CSV header is written now."""
    if kind == ".jsonl":
        return _jsonl(fh)
    if kind == ".csv":
        return _csv(fh)
    raise ParameterError(f"unknown batch format {kind!r}: expected one of "
                         f"{', '.join(SUFFIXES)}")


def _jsonl(fh):
    def write(source, related, scores):
        items = [{"id": r, "score": round(s, 6)} for r, s in zip(related, scores)]
        line = json.dumps({"id": source, "related": items}, ensure_ascii=False)
        if _SURROGATE.search(line):  # UTF-8 cannot encode it: escape the row
            line = json.dumps({"id": source, "related": items})
        fh.write(line + "\n")
    return write


def _csv(fh):
    rows = csv.writer(fh)
    rows.writerow(["id", "rank", "related_id", "score"])
    warned = []

    def write(source, related, scores):
        if _UNSAFE.search(source + "".join(related)):
            if not warned:
                warned.append(source)
                unsafe = next(i for i in (source, *related) if _UNSAFE.search(i))
                warnings.warn(f"article id {unsafe!r} holds a control character, a line "
                              f"separator or a lone surrogate: written to the CSV file with "
                              f"U+FFFD in its place (as are any others; .jsonl keeps ids "
                              f"exactly)", CorpusWarning, stacklevel=2)
            source, related = _safe(source), [_safe(r) for r in related]
        rows.writerows([source, rank, r, f"{s:.6f}"]
                       for rank, (r, s) in enumerate(zip(related, scores), start=1))
    return write


def _safe(text: str) -> str:
    return _UNSAFE.sub("\ufffd", text)
