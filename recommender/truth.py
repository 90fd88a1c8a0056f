"""The site's own related lists: links ``source -> target``, as the ground truth.

A site's "À lire aussi" box links each source article to a few targets, shown at some
time. :class:`GroundTruth` holds such links as parallel arrays; :func:`read_ground_truth`
reads them from a TSV of ``source_id, target_id[, rank[, shown_at]]`` or from a corpus
with ``related`` fields. The evaluation measures against them, the learned mode learns
from them, and :func:`half_of` splits them by source for tuning on one half and measuring
on the other.
"""

from __future__ import annotations

import csv
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .corpus import check_id, read_corpus
from .lines import numbered_lines
from .errors import CorpusError, InputFileNotFoundError, ParameterError
from .times import UNDATED, to_seconds, zone_of

__all__ = ["GroundTruth", "first_of_each_link", "half_of", "lists_by_source",
           "read_ground_truth"]


@dataclass
class GroundTruth:
    """Links as parallel arrays: ``sources[i] -> targets[i]``, shown at ``shown_at[i]``.

    ``shown_at`` holds seconds since 1970 UTC, or ``UNDATED`` where unknown (then the
    lists are ranked against the whole catalogue).
    """

    sources: np.ndarray
    targets: np.ndarray
    shown_at: np.ndarray

    def __len__(self) -> int:
        return len(self.sources)

    def subset(self, mask) -> "GroundTruth":
        """The links where ``mask`` is true."""
        return GroundTruth(self.sources[mask], self.targets[mask], self.shown_at[mask])


def first_of_each_link(truth: GroundTruth) -> np.ndarray:
    """True on the first row of each (source, target) pair: a repeated link would count
    twice."""
    pairs = np.char.add(np.char.add(truth.sources, "\t"), truth.targets)
    _, first = np.unique(pairs, return_index=True)
    unique = np.zeros(len(truth), bool)
    unique[first] = True
    return unique


def lists_by_source(sources: np.ndarray, shown_at: np.ndarray):
    """The distinct sources of links (sorted), each link's index among them, and each
    source's time (the lists carry one): ``(source_ids, link_source, as_of)``."""
    source_ids, link_source = np.unique(sources, return_inverse=True)
    as_of = np.full(len(source_ids), UNDATED, np.int64)
    as_of[link_source] = shown_at
    return source_ids, link_source, as_of


def read_ground_truth(path, *, time_zone=None) -> GroundTruth:
    """Links from a TSV (``source_id, target_id[, rank[, shown_at]]``) or a corpus file.

    A ``.tsv`` file (optionally with a header line starting ``source_id``) is read as
    links; anything else as a corpus, whose ``related`` and ``related_at`` give them.
    ``time_zone`` (a ``tzinfo`` or an IANA name; default UTC) is that of the times given
    without an offset, as for :func:`~recommender.corpus.read_corpus`.
    """
    zone = zone_of(time_zone, "time_zone")
    path = Path(path)
    if not path.is_file():
        raise InputFileNotFoundError(f"ground-truth file not found: {path}")
    name = path.name.lower()
    if name.endswith((".tsv", ".tsv.gz", ".tsv.xz")) and not _looks_like_corpus(path):
        return _read_tsv(path, zone)
    sources, targets, shown = [], [], []
    for article in read_corpus(path, time_zone=zone):
        for target in article.related:
            sources.append(article.id)
            targets.append(target)
            shown.append(to_seconds(article.related_at, "related_at"))
    return _truth(sources, targets, shown)


def half_of(truth: GroundTruth, which: str) -> GroundTruth:
    """The links whose source id falls in one half: ``"even"`` or ``"odd"`` crc32 of the
    id (UTF-8). A split by source, stable across runs and machines: tune or learn on one
    half, measure on the other."""
    if which not in ("even", "odd"):
        raise ParameterError(f"which half: 'even' or 'odd', got {which!r}")
    parity = np.array([zlib.crc32(s.encode("utf-8")) % 2 for s in truth.sources.tolist()],
                      dtype=np.int64)
    return truth.subset(parity == (0 if which == "even" else 1))


def _looks_like_corpus(path: Path) -> bool:
    lines = numbered_lines(path)
    try:
        first = next(lines, (1, ""))[1].lower().split("\t")
    finally:
        lines.close()
    return "id" in [c.strip() for c in first]


def _truth(sources, targets, shown) -> GroundTruth:
    return GroundTruth(np.asarray(sources, dtype=str), np.asarray(targets, dtype=str),
                       np.asarray(shown, dtype=np.int64))


def _read_tsv(path: Path, zone) -> GroundTruth:
    sources, targets, shown = [], [], []
    for line_no, line in numbered_lines(path):
        try:
            cells = [c.strip() for c in next(csv.reader([line], delimiter="\t"), [])]
        except csv.Error as exc:  # a field over the csv module's limit, a lone "\r"
            raise CorpusError(f"{path}, line {line_no}: unreadable TSV ({exc})") from None
        if not cells or not any(cells):
            continue
        if line_no == 1 and cells[0].lower() in ("source_id", "source"):
            continue
        if len(cells) < 2 or not cells[0] or not cells[1]:
            raise CorpusError(f"{path}, line {line_no}: expected 'source_id<TAB>target_id"
                              f"[<TAB>rank[<TAB>shown_at]]', got {line.rstrip()[:80]!r}")
        try:
            check_id(cells[0], "source id"), check_id(cells[1], "target id")
            when = to_seconds(cells[3] if len(cells) > 3 else None, "shown_at", zone)
        except ValueError as exc:
            raise CorpusError(f"{path}, line {line_no}: {exc}") from None
        sources.append(cells[0])
        targets.append(cells[1])
        shown.append(when)
    if not sources:
        raise CorpusError(f"{path}: no links in this file")
    return _truth(sources, targets, shown)
