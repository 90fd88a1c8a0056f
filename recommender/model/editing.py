"""The editors' calls of a model: pin an article in a list, ban one from a list or all;
and what the model keeps for editors (the site's own lists, the evaluation report).

:class:`Editing` is the part of :class:`~recommender.ArticleRecommender` that records the
editors' choices (:class:`~recommender.model.pins.Pins`) and follows them. A model loaded
from a folder keeps them in the folder's ``pins.json``: each edit takes the folder's change
log lock (one writer at a time, across processes), reads the file as it is now (another
process may have edited it), applies the edit and writes the file back durably before the
call returns; the other processes serving the folder see it at their next refresh (the
file's ``stat`` changed). A model fitted in memory keeps them in memory (saved with it).
"""

from __future__ import annotations

from pathlib import Path

from ..changelog import FolderReplaced
from ..errors import ParameterError
from ..times import UNDATED
from .pins import MAX_POSITION, Pins, file_signature
from .records import write_report

__all__ = ["Editing"]


class Editing:
    """Pins and bans of a fitted model (a mixin)."""

    #: The editors' pins and bans (:class:`~recommender.model.pins.Pins`; none at first).
    pins_ = Pins()
    #: The ``stat`` of the folder's pins file when it was last read.
    _pins_seen = None

    # -- the calls ---------------------------------------------------------------------------
    def pin(self, article_id: str, pinned_id: str, position: int = 1) -> Pins:
        """Show ``pinned_id`` at ``position`` (1: first) of ``article_id``'s list, whatever
        its score; both must be articles the model serves. Returns the pins now."""
        self._check_fitted()
        position = self._check_position(position)
        return self._edit(lambda pins: pins.pinned(article_id, pinned_id, position),
                          (article_id, pinned_id))

    def unpin(self, article_id: str, pinned_id: str) -> Pins:
        """Undo :meth:`pin` (ParameterError if that article is not pinned there)."""
        self._check_fitted()
        return self._edit(lambda pins: pins.unpinned(article_id, pinned_id))

    def ban(self, banned_id: str, from_id: str | None = None) -> Pins:
        """Keep ``banned_id`` out of ``from_id``'s list, or out of every list (None)."""
        self._check_fitted()
        return self._edit(lambda pins: pins.banned(banned_id, from_id),
                          (banned_id,) if from_id is None else (banned_id, from_id))

    def unban(self, banned_id: str, from_id: str | None = None) -> Pins:
        """Undo :meth:`ban` (ParameterError if that ban was not made)."""
        self._check_fitted()
        return self._edit(lambda pins: pins.unbanned(banned_id, from_id))

    def record_report(self, page) -> None:
        """Note where the model's HTML evaluation report is (``recommender evaluate
        --report``): in the folder's ``report.json`` for a model loaded from a folder (the
        editors' page links to it), kept by a save or a compaction."""
        self.report_ = str(Path(page).resolve())
        if self.source_ is not None:
            with self.source_.appending():  # not while a compaction swaps the folder
                write_report(self.source_.path, self.report_)

    def pins_revision(self) -> int:
        """How many edits the pins have seen (in the folder's file, across processes)."""
        return self.pins_.revision

    def max_pin_position(self) -> int:
        """The last position a pin may take: the neighbour table's width (the longest list
        the model prepares), or :data:`~recommender.model.pins.MAX_POSITION` without one."""
        table = getattr(self, "table_", None)
        return table.width if table is not None else MAX_POSITION

    # -- applying them ------------------------------------------------------------------------
    def pins_width(self, k: int, sources) -> int:
        """How many to score so that ``k`` are left after the bans and pins of ``sources``."""
        if not self.pins_:
            return k
        return min(k + self.pins_.extra(sources), max(self.n_articles - 1, 1))

    def apply_pins(self, sources, rows, found, k: int, request, exclude):
        """``found`` (ids and scores, at least ``k`` wide, of the model's ``rows`` whose ids
        are ``sources``) with the bans and pins applied
        (:meth:`~recommender.model.pins.Pins.arrange`), cut to ``k``: ``(ids, scores)``. A
        pinned article is shown with its score for the source (the sum that :meth:`explain`
        splits), as long as it is served, not in ``exclude``, and published before the
        list's ``as_of`` (``request.times``)."""
        if not self.pins_:
            return found
        excluded = set(exclude or ())
        catalogue = self.catalogue_

        def usable(i, other):
            row = catalogue.row_or_none(other)
            if row is None or other in excluded:
                return False
            when = request.times[i]
            return when == UNDATED or catalogue.published[row] < when

        def score_of(i, other):
            query = self.row_queries(rows[i:i + 1])
            return query.multiply(self.content_.matrix_rows(self.rows_of([other]))).sum()

        return self.pins_.arrange(sources, found[0], found[1], k, usable=usable,
                                  score_of=score_of)

    def site_list(self, article_id: str) -> list:
        """The site's own related box of ``article_id`` as the corpus the model was fitted on
        recorded it (its ``related`` ids, in order, served or not); [] when it had none."""
        self.rows_of([article_id])
        return list(self.site_lists_.get(article_id, ()))

    # -- following the folder's file -----------------------------------------------------------
    def read_pins(self) -> bool:
        """Read the folder's pins file again if it changed; whether it had."""
        source = self.source_
        if source is None:
            return False
        seen = file_signature(source.path)
        if seen == self._pins_seen:
            return False
        self.pins_ = Pins.read(source.path)
        self._pins_seen = seen
        return True

    def pins_changed(self) -> bool:
        """Whether the folder's pins file changed since it was read (one ``stat``)."""
        return self.source_ is not None and file_signature(self.source_.path) != self._pins_seen

    # -- helpers -------------------------------------------------------------------------------
    def _check_position(self, position) -> int:
        last = self.max_pin_position()
        if isinstance(position, bool) or not isinstance(position, int) \
                or not 1 <= position <= last:
            raise ParameterError(f"a pin's position must be a whole number from 1 to {last} "
                                 f"(the longest list this model prepares), got {position!r}")
        return position

    def _edit(self, edit, served=()) -> Pins:
        """Apply ``edit`` (Pins -> Pins) to the pins as they are now; the ids ``served``
        must be articles the model serves (UnknownArticleError names the first that is
        not)."""
        if self.source_ is None:
            self.rows_of(list(served))
            self.pins_ = edit(self.pins_)
            return self.pins_
        for _ in range(5):
            try:
                with self.source_.appending():
                    self.refresh()  # others' changes: the ids are checked against them
                    self.rows_of(list(served))
                    pins = edit(Pins.read(self.source_.path))  # raises before any write
                    pins.write(self.source_.path)
                    self.pins_, self._pins_seen = pins, file_signature(self.source_.path)
                return pins
            except FolderReplaced:
                self.refresh()  # compacted or retrained meanwhile: edit the new folder
        raise RuntimeError(f"{self.source_.path} was replaced five times during one edit")
