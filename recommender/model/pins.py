"""Editors' pins and bans: the choices of people that every served list obeys.

An editor pins article B at position p of article A's list (B shows there whatever its
score), or bans B from A's list, or from every list. :class:`Pins` holds these choices as
one immutable value (an edit returns a new one) and applies them to lists computed by the
model (:meth:`Pins.arrange`): banned articles leave the list, pinned ones take their
positions, and the other articles keep their order in the places left. The model asks its
scorer for more than ``k`` articles first (:meth:`Pins.extra`), so a list that lost banned
or pinned items is still ``k`` long when enough articles qualify.

The rules, for one list (that of article A):

- a pin of B in A's list beats a ban of B from every list (it is the narrower choice);
  pinning B in A's list lifts a ban of B from A's list, and banning it lifts that pin;
- two pins cannot share a position (the edit is refused: unpin the other first);
- a pin whose article is no longer served (withdrawn), or that a request's ``exclude`` or
  ``as_of`` rules out (published after the list's time), is skipped, not moved up;
- a position beyond the list's length shows nowhere in that list (a list of 5 has no
  position 8); the pinned article is then left out of it too.

They are kept in the model folder's ``pins.json`` (:mod:`recommender.model.editing`), a
file of their own beside the model's files, so that they survive reloads, live changes,
compaction, and a refit given the file.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from ..errors import ModelFormatError, ParameterError

__all__ = ["MAX_POSITION", "PINS_NAME", "PINS_FORMAT", "NotPinnedError", "Pins",
           "PinsFileError", "PositionTakenError", "file_signature"]

#: The file of a model folder that holds its pins and bans.
PINS_NAME = "pins.json"
#: What its ``format`` says.
PINS_FORMAT = "recommender-pins/1"
#: The last position a pin may take in a model without a neighbour table (with one, the
#: table's width: the longest list the model prepares).
MAX_POSITION = 100


class NotPinnedError(ParameterError):
    """An unpin or an unban of a pin or ban that was not made."""


class PositionTakenError(ParameterError):
    """A pin at a position another pin of the same list holds."""


class PinsFileError(ModelFormatError):
    """A pins file that cannot be read (not JSON, not of this format, a bad entry)."""


class Pins:
    """The pins and bans of a model (immutable: the edits return a new value).

    ``pins``: article id -> {pinned id: position (1 = first)}; ``bans``: article id ->
    set of ids banned from its list, with the key None for the ids banned from every list;
    ``revision``: how many edits the folder's file has seen.
    """

    def __init__(self, pins=None, bans=None, revision: int = 0):
        self._pins = {a: dict(p) for a, p in (pins or {}).items() if p}
        self._bans = {a: frozenset(b) for a, b in (bans or {}).items() if b}
        self.revision = int(revision)

    # -- reading ---------------------------------------------------------------------------
    def __bool__(self) -> bool:
        return bool(self._pins or self._bans)

    def __eq__(self, other) -> bool:
        return (isinstance(other, Pins) and self._pins == other._pins
                and self._bans == other._bans)

    def pins_of(self, article_id: str) -> list[tuple[str, int]]:
        """``(pinned id, position)`` of an article's list, by position."""
        return sorted(self._pins.get(article_id, {}).items(), key=lambda item: item[1])

    def position(self, article_id, other_id) -> int | None:
        """Where ``other_id`` is pinned in ``article_id``'s list, or None."""
        return self._pins.get(article_id, {}).get(other_id)

    def banned_from(self, article_id) -> frozenset:
        """The ids banned from ``article_id``'s list alone (not those of every list)."""
        return self._bans.get(article_id, frozenset())

    @property
    def banned_everywhere(self) -> frozenset:
        """The ids banned from every list."""
        return self._bans.get(None, frozenset())

    def of(self, article_id: str) -> dict:
        """An article's pins and bans, as the service shows them."""
        return {"pins": [{"id": b, "position": p} for b, p in self.pins_of(article_id)],
                "bans": sorted(self.banned_from(article_id)),
                "banned_everywhere": article_id in self.banned_everywhere}

    def extra(self, sources) -> int:
        """How many more than ``k`` articles to ask the scorer for, so that after the bans
        and pins of ``sources`` (ids; None for a text) a list can still be full."""
        most = 0
        per_list = self._pins or any(a is not None for a in self._bans)
        for source in set(sources) if per_list else ():
            most = max(most, len(self._pins.get(source, ())) + len(self._bans.get(source, ())))
        return len(self.banned_everywhere) + most

    # -- editing -----------------------------------------------------------------------------
    def pinned(self, article_id: str, pinned_id: str, position: int) -> "Pins":
        """These pins with ``pinned_id`` at ``position`` of ``article_id``'s list (moved
        there if it was pinned elsewhere in it; a ban of it from that list is lifted)."""
        if article_id == pinned_id:
            raise ParameterError(f"cannot pin article {article_id!r} in its own list")
        taken = next((b for b, p in self._pins.get(article_id, {}).items()
                      if p == position and b != pinned_id), None)
        if taken is not None:
            raise PositionTakenError(f"position {position} of the list of {article_id!r} is "
                                     f"pinned to {taken!r} already: unpin it first")
        pins = {**self._pins, article_id: {**self._pins.get(article_id, {}),
                                           pinned_id: position}}
        bans = {**self._bans, article_id: self.banned_from(article_id) - {pinned_id}}
        return Pins(pins, bans, self.revision + 1)

    def unpinned(self, article_id: str, pinned_id: str) -> "Pins":
        if self.position(article_id, pinned_id) is None:
            raise NotPinnedError(f"{pinned_id!r} is not pinned in the list of {article_id!r}")
        rest = {b: p for b, p in self._pins[article_id].items() if b != pinned_id}
        return Pins({**self._pins, article_id: rest}, self._bans, self.revision + 1)

    def banned(self, banned_id: str, from_id: str | None = None) -> "Pins":
        """These pins with ``banned_id`` banned from ``from_id``'s list (None: from every
        list); a pin of it in that list is lifted."""
        if banned_id == from_id:
            raise ParameterError(f"an article is never in its own list: nothing to ban "
                                 f"({banned_id!r})")
        pins = self._pins
        if from_id is not None and self.position(from_id, banned_id) is not None:
            pins = {**pins, from_id: {b: p for b, p in pins[from_id].items()
                                      if b != banned_id}}
        bans = {**self._bans, from_id: self._bans.get(from_id, frozenset()) | {banned_id}}
        return Pins(pins, bans, self.revision + 1)

    def unbanned(self, banned_id: str, from_id: str | None = None) -> "Pins":
        if banned_id not in self._bans.get(from_id, ()):
            where = "every list" if from_id is None else f"the list of {from_id!r}"
            raise NotPinnedError(f"{banned_id!r} is not banned from {where}")
        bans = {**self._bans, from_id: self._bans[from_id] - {banned_id}}
        return Pins(self._pins, bans, self.revision + 1)

    # -- applying ----------------------------------------------------------------------------
    def arrange(self, sources, ids: np.ndarray, scores: np.ndarray, k: int, *, usable,
                score_of):
        """The lists ``ids``, ``scores`` (rows best first, padded with ``""`` and -inf, at
        least ``k + extra(sources)`` wide) with the bans and pins of ``sources`` applied,
        cut to ``k`` columns.

        ``usable(i, pinned_id)``: whether row ``i`` may show that pinned article (served,
        not excluded, published by the list's time); ``score_of(i, pinned_id)``: the score
        it is shown with (its score for the row's source, as the model computes it).
        """
        everywhere = self.banned_everywhere
        touched = np.isin(ids, list(everywhere)).any(axis=1) if everywhere \
            else np.zeros(len(ids), bool)
        if self._pins or any(a is not None for a in self._bans):
            touched |= [s in self._pins or s in self._bans for s in sources]
        rows = {}
        for i in np.flatnonzero(touched).tolist():
            rows[i] = self._arranged(sources[i], ids[i], scores[i], k, everywhere,
                                     lambda other, i=i: usable(i, other),
                                     lambda other, i=i: score_of(i, other))
        width = max([len(o) for ranked in rows.values() for o, _ in ranked], default=0)
        out_ids = ids[:, :k].astype(f"<U{max(width, ids.dtype.itemsize // 4, 1)}")
        out_scores = np.array(scores[:, :k], dtype=np.float32)
        for i, ranked in rows.items():
            out_ids[i] = [o for o, _ in ranked] + [""] * (k - len(ranked))
            out_scores[i] = [s for _, s in ranked] + [-np.inf] * (k - len(ranked))
        return out_ids, out_scores

    def _arranged(self, source, ids, scores, k, everywhere, usable, score_of) -> list:
        """One list as ``[(id, score)]``, at most ``k``: :meth:`arrange` for one row."""
        pins = self.pins_of(source) if source is not None else []
        pinned = {b for b, _ in pins}
        drop = (everywhere - pinned) | self.banned_from(source) | pinned
        ranked = [(o, s) for o, s in zip(ids.tolist(), scores.tolist()) if o and o not in drop]
        for other, position in pins:
            if position <= k and usable(other):
                ranked.insert(min(position - 1, len(ranked)), (other, float(score_of(other))))
        return ranked[:k]

    # -- the file ----------------------------------------------------------------------------
    def files(self) -> dict:
        """What a model folder saved with these pins holds of them: ``{"pins.json": …}``,
        or nothing when there never were any."""
        return {PINS_NAME: self.to_json()} if self or self.revision else {}

    def to_json(self) -> dict:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        return {"format": PINS_FORMAT, "revision": self.revision, "written": now,
                "pins": [{"article": a, "pinned": b, "position": p}
                         for a in sorted(self._pins) for b, p in self.pins_of(a)],
                "bans": [{"banned": b, "from": a}
                         for a in sorted(self._bans, key=lambda a: (a is not None, a or ""))
                         for b in sorted(self._bans[a])]}

    @classmethod
    def from_json(cls, doc, where: str = PINS_NAME) -> "Pins":
        """The pins of a parsed ``pins.json``; :class:`PinsFileError` names what is wrong."""
        if not isinstance(doc, dict) or doc.get("format") != PINS_FORMAT:
            raise PinsFileError(f"{where} is not a pins file of this version (its 'format' "
                                f"should be {PINS_FORMAT!r})")
        revision = doc.get("revision", 0)
        pins, bans = {}, {}
        entries = (doc.get("pins"), doc.get("bans"))
        if not all(isinstance(e, list) for e in entries) or not _is_count(revision):
            raise PinsFileError(f"{where}: 'pins' and 'bans' must be lists and 'revision' a "
                                f"count")
        for n, entry in enumerate(entries[0], start=1):
            if not (isinstance(entry, dict) and _is_id(entry.get("article"))
                    and _is_id(entry.get("pinned")) and _is_count(entry.get("position"))
                    and entry["position"] >= 1 and entry["article"] != entry["pinned"]):
                raise PinsFileError(f"{where}: pin {n} is not {{'article': id, 'pinned': "
                                    f"another id, 'position': 1 or more}}: {entry!r:.120}")
            taken = pins.setdefault(entry["article"], {})
            if entry["position"] in taken.values() or entry["pinned"] in taken:
                raise PinsFileError(f"{where}: pin {n} repeats a position or an article of "
                                    f"the list of {entry['article']!r}")
            taken[entry["pinned"]] = entry["position"]
        for n, entry in enumerate(entries[1], start=1):
            if not (isinstance(entry, dict) and _is_id(entry.get("banned"))
                    and (entry.get("from") is None or _is_id(entry["from"]))):
                raise PinsFileError(f"{where}: ban {n} is not {{'banned': id, 'from': id or "
                                    f"null}}: {entry!r:.120}")
            bans.setdefault(entry.get("from"), set()).add(entry["banned"])
        return cls(pins, bans, revision)

    @classmethod
    def read(cls, path) -> "Pins":
        """The pins of a ``pins.json`` file, or of a model folder (none if it has no such
        file)."""
        path = Path(path)
        file = path / PINS_NAME if path.is_dir() else path
        if path.is_dir() and not file.exists():
            return cls()
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise PinsFileError(f"{file} is not UTF-8 text") from None
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise PinsFileError(f"{file} is not JSON ({exc})") from None
        return cls.from_json(doc, str(file))

    def write(self, folder) -> None:
        """Make these the pins of the model folder ``folder``, durably: written to a
        temporary file, flushed to disk, renamed over ``pins.json``, the folder flushed. A
        kill leaves the old file or the new one. The caller holds the folder's change log
        lock (one writer at a time)."""
        folder = Path(folder)
        tmp = folder / f"{PINS_NAME}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(self.to_json(), fh, ensure_ascii=False, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / PINS_NAME)
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def file_signature(folder):
    """What tells that a folder's pins file changed: its inode, size and times (None
    without a file). One ``stat`` call."""
    try:
        st = os.stat(Path(folder) / PINS_NAME)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _is_id(value) -> bool:
    return isinstance(value, str) and value != ""


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
