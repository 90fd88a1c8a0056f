"""Ids files: the articles to score, one per line, each with an optional as-of time."""

from __future__ import annotations

from pathlib import Path

from ..corpus import check_id
from ..lines import numbered_lines
from ..errors import CorpusError, InputFileNotFoundError
from ..times import parse_time

__all__ = ["read_ids_file"]


def read_ids_file(path) -> tuple[list[str], list | None]:
    """Article ids, one per line as ``ID`` or ``ID<TAB>AS_OF``.

    Returns ``(ids, as_of)``, ``as_of`` being None when no line gives a time (else one
    ISO string or None per id). Errors name the file, the line and the value.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileNotFoundError(f"ids file not found: {path}")
    ids, times = [], []
    for line_no, line in numbered_lines(path):
        line = line.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) > 2 or not cells[0]:
            raise CorpusError(f"{path}, line {line_no}: expected 'ID' or 'ID<TAB>AS_OF', "
                              f"got {line[:80]!r}")
        when = cells[1] if len(cells) == 2 and cells[1] else None
        try:
            check_id(cells[0])
            parse_time(when, what="as-of time")
        except ValueError as exc:
            raise CorpusError(f"{path}, line {line_no}: {exc}") from None
        ids.append(cells[0])
        times.append(when)
    if not ids:
        raise CorpusError(f"{path}: no article ids in this file")
    return ids, (times if any(t is not None for t in times) else None)
