"""Batch scoring: the related list of every article (or of listed ones) written to a file.

The output is written in chunks of articles, to a temporary file renamed into place when
complete, as JSON lines ``{"id": …, "related": [{"id": …, "score": …}, …]}`` or as CSV
rows ``id,rank,related_id,score``.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from ..corpus import numbered_lines
from ..errors import CorpusError
from ..times import parse_time

__all__ = ["read_ids_file", "score_to_file"]

#: Articles scored per call of ``recommend_batch``: bounds the output held in memory.
CHUNK = 4096


def read_ids_file(path) -> tuple[list[str], list | None]:
    """Article ids, one per line as ``ID`` or ``ID<TAB>AS_OF``.

    Returns ``(ids, as_of)``, ``as_of`` being None when no line gives a time (else one
    ISO string or None per id). Errors name the file, the line and the value.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"ids file not found: {path}")
    ids, times = [], []
    for line_no, line in numbered_lines(path):
        line = line.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) > 2 or not cells[0]:
            raise CorpusError(f"{path}, line {line_no}: expected 'ID' or 'ID<TAB>AS_OF', "
                              f"got {line!r}")
        when = cells[1] if len(cells) == 2 and cells[1] else None
        if when is not None:
            try:
                parse_time(when, what="as-of time")
            except ValueError as exc:
                raise CorpusError(f"{path}, line {line_no}: {exc}") from None
        ids.append(cells[0])
        times.append(when)
    if not ids:
        raise CorpusError(f"{path}: no article ids in this file")
    return ids, (times if any(t is not None for t in times) else None)


def score_to_file(model, out, *, k: int = 10, ids=None, as_of=None, max_age=None, since=None,
                  until=None, categories=None, progress: bool = False) -> int:
    """Write the top-``k`` related articles of ``ids`` (default: every article) to ``out``.

    ``as_of`` is one time for all or one per id; time filters restrict the candidates,
    never the articles scored. The format follows the suffix: ``.jsonl`` or ``.csv``.
    Returns the number of articles written.
    """
    out = Path(out)
    kind = out.suffix.lower()
    if kind not in (".jsonl", ".csv"):
        raise ValueError(f"cannot write {out}: the output must end in .jsonl or .csv")
    ids = list(model.ids_) if ids is None else list(ids)
    model.rows_of(ids)  # unknown ids fail before anything is written
    per_id = as_of is not None and not isinstance(as_of, str) and np.ndim(as_of) == 1
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it 0600; give the usual mode
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            writer = _writer(fh, kind)
            chunks = range(0, len(ids), CHUNK)
            if progress:
                from tqdm import tqdm

                chunks = tqdm(chunks, total=len(chunks), unit=" chunks", desc="scoring",
                              disable=None)
            for start in chunks:
                part = ids[start:start + CHUNK]
                times = as_of[start:start + CHUNK] if per_id else as_of
                related, scores = model.recommend_batch(
                    part, k, as_of=times, max_age=max_age, since=since, until=until,
                    categories=categories)
                for source, row_ids, row_scores in zip(part, related, scores):
                    found = np.isfinite(row_scores)
                    writer(source, row_ids[found].tolist(), row_scores[found].tolist())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(ids)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _writer(fh, kind):
    if kind == ".jsonl":
        def write(source, related, scores):
            items = [{"id": r, "score": round(s, 6)} for r, s in zip(related, scores)]
            fh.write(json.dumps({"id": source, "related": items}, ensure_ascii=False) + "\n")
        return write
    rows = csv.writer(fh)
    rows.writerow(["id", "rank", "related_id", "score"])

    def write(source, related, scores):
        rows.writerows([source, rank, r, f"{s:.6f}"]
                       for rank, (r, s) in enumerate(zip(related, scores), start=1))
    return write
