"""The batch file's rows: one writer per format, chosen by the file's suffix.

A writer is called once per scored article, ``write(source_id, related_ids, scores)``,
the related articles best first:

- ``.jsonl``: one JSON object a line, ``{"id": …, "related": [{"id": …, "score": …}, …]}``,
  scores rounded to 6 decimals, non-ASCII kept as is;
- ``.csv``: a header ``id,rank,related_id,score``, then one row per related article,
  ranks from 1, scores with 6 decimals.
"""

from __future__ import annotations

import csv
import json

from ..errors import ParameterError

__all__ = ["SUFFIXES", "writer_for"]

#: The suffixes of the formats, as :func:`writer_for` takes them.
SUFFIXES = (".jsonl", ".csv")


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
        fh.write(json.dumps({"id": source, "related": items}, ensure_ascii=False) + "\n")
    return write


def _csv(fh):
    rows = csv.writer(fh)
    rows.writerow(["id", "rank", "related_id", "score"])

    def write(source, related, scores):
        rows.writerows([source, rank, r, f"{s:.6f}"]
                       for rank, (r, s) in enumerate(zip(related, scores), start=1))
    return write
