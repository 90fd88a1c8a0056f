"""The live calls of a model: add and withdraw articles, follow its folder, compact it.

:class:`Changing` is the part of :class:`~recommender.ArticleRecommender` that changes a
fitted model without a refit. A model loaded from a folder writes each change to the
folder's change log first (:mod:`recommender.changelog`: when the call returns, the change
is durable), then serves it; other processes serving the folder see it at their next
:meth:`~Changing.refresh`. A model fitted in memory changes in memory only (save it to
keep the changes). The changed model is read through :mod:`recommender.model.overlay`.
"""

from __future__ import annotations

import copy
import logging
import math
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from ..changelog import ChangeLog, FolderReplaced, folder_identity
from ..errors import ParameterError
from ..store import read_folder, write_folder
from ..times import to_iso
from .catalogue import Catalogue
from .folder import model_files, model_from_files
from .live import Changes, LiveState, add_record, withdraw_record
from .overlay import BaseParts, Overlay
from .records import read_report
from .partial import PartialRows
from .search import ContentIndex
from .shards import Shards

__all__ = ["Changing"]

logger = logging.getLogger(__name__)

#: When to refit (``staleness()["advice"]``): the share of articles added since the fit,
#: the share of their words the vocabulary does not know, the idf drift.
REFIT_WHEN = {"added_share": 0.10, "unknown_word_share": 0.05, "idf_drift": 0.02}


class Changing(PartialRows):
    """Live add, withdraw, refresh and compaction of a fitted model (a mixin)."""

    #: The model folder's change log (None: the model was not loaded from a folder).
    source_ = None
    #: Where this model has read the log to (bytes).
    log_offset_ = 0
    #: The live parts (:class:`~recommender.model.overlay.Overlay`; None without changes).
    live_ = None
    #: The changes applied (:class:`~recommender.model.live.LiveState`; None before any).
    live_state_ = None
    #: The path of the model's HTML evaluation report (None: none recorded).
    report_ = None

    # -- following a folder ----------------------------------------------------------------
    @classmethod
    def from_folder(cls, path, *, verify: bool = True, keep=None):
        """The model of the folder ``path``, following its change log (:meth:`load`).
        ``keep``: of a sharded folder, the rows of these shards only (``()``: none), and
        :meth:`with_shards` gives others (:mod:`recommender.cluster.blocks`)."""
        for _ in range(5):
            try:
                identity = folder_identity(path)
            except (OSError, ValueError):  # missing, or no path at all (a NUL byte):
                identity = None  # read_folder says so, or puts back a stranded folder
            files = read_folder(path, verify=verify, defer_shards=keep is not None)
            model = model_from_files(files, cls, keep)
            if identity is not None and folder_identity(path) == identity:
                break  # else a new folder was swapped in while this one was read
        if keep is not None and "shards" in files.manifest:
            model.folder_files_ = files
            model.shards_ = Shards.of(files, files.manifest["shape"][0], files.manifest["nnz"])
        return model.attach(path, folder_identity(path) if identity is None else identity)

    def write_to(self, path) -> None:
        """Save as a folder (:meth:`save`): compacted when the model has live changes,
        through :meth:`compact` when ``path`` is its own folder."""
        if self.source_ is not None and Path(path).resolve() == self.source_.path.resolve():
            self.compact()
            return
        dropped = ChangeLog(path).size() if Path(path).is_dir() else 0
        write_folder(path, *model_files(self if self.live_ is None else self.compacted()))
        if dropped:
            logger.warning("%s had live changes (%s bytes of its change log: articles added or "
                           "withdrawn since its fit); the new model replaces them, and holds "
                           "those articles only if its corpus did", path, f"{dropped:,}")

    def attach(self, path, identity) -> "Changing":
        """Follow the change log of the folder this model was loaded from (``identity``:
        the folder's, read before its files) and replay it. Called by :meth:`load`."""
        self.source_ = ChangeLog(path, identity)
        self.log_offset_ = 0
        self.live_ = self.live_state_ = None
        self._catch_up()
        self.read_pins()
        self.report_ = read_report(path)
        return self

    def needs_refresh(self) -> bool:
        """Whether the folder changed since this model read it: its log grew, its pins
        changed, or another folder was swapped in (a compaction, a retrain). Three ``stat``
        calls."""
        source = self.source_
        return source is not None and (source.size() != self.log_offset_ or source.replaced()
                                       or self.pins_changed())

    def refresh(self) -> bool:
        """Catch up with the folder: replay the changes other processes logged since, or
        load the folder swapped in at the path. Returns whether anything changed."""
        source = self.source_
        if source is None:
            return False
        if source.replaced():
            self._adopt(type(self).load(source.path))
            return True
        changed = self._catch_up()
        return self.read_pins() or changed

    def _adopt(self, other) -> None:
        """Become ``other`` (a model loaded from the folder swapped in)."""
        self.__dict__.update(other.__dict__)

    def _catch_up(self) -> bool:
        changes, end = self.source_.read(self.log_offset_)
        if changes:
            self._install(self._replayed(changes))
        self.log_offset_ = end
        return bool(changes)

    def _replayed(self, changes) -> LiveState:
        """A copy of the live state with ``changes`` applied."""
        state = self._live_state().copy()
        for change in changes:
            state.apply(change)
        return state

    def snapshot(self):
        """A shallow copy that later changes of this model do not touch (they replace
        parts, never modify them): serve a request from one."""
        return copy.copy(self)

    # -- changing ----------------------------------------------------------------------------
    def add(self, articles) -> Changes:
        """Add articles (Article records or dicts with the corpus fields; one dict is one
        article), or update those whose id the model already serves.

        Each is counted over the fitted vocabulary and weighed with the statistics of the
        fit (frozen: see :meth:`staleness`); it gets its own list and enters the lists of
        the other articles it now belongs in. From a folder, the change is durable when
        the call returns. Returns :class:`~recommender.model.live.Changes`.
        """
        self._check_fitted()
        if not self.content_.is_bm25:
            raise ParameterError("adding articles to a model needs scoring='mlt' (the default); "
                                 "this model scores with 'cosine': retrain it with the new "
                                 "articles")
        return self._change(add_record(self.vectorizer_, articles))

    def withdraw(self, article_ids) -> Changes:
        """Withdraw articles: they leave every list at once, and the lists they leave are
        refilled with the next best article. An id the model does not serve raises
        UnknownArticleError and nothing is withdrawn."""
        self._check_fitted()
        return self._change(withdraw_record(article_ids))

    def _change(self, change: dict) -> Changes:
        if self.source_ is None:
            state = self._replayed([])
            done = state.apply(change)
            self._install(state)
            return done
        for _ in range(5):
            try:
                with self.source_.appending() as log:
                    # what other processes logged: the state to check the change against
                    others, end = log.read(self.log_offset_)
                    state = self._replayed(others)
                    done = state.apply(change)  # raises before anything is written
                    self.log_offset_ = log.commit(change, end)
                self._install(state)
                return done
            except FolderReplaced:
                self.refresh()  # compacted or retrained meanwhile: apply to the new folder
        raise RuntimeError(f"{self.source_.path} was replaced five times during one change")

    def _live_state(self) -> LiveState:
        if self.live_state_ is not None:
            return self.live_state_
        return LiveState(self._base_parts().catalogue, len(self.vectorizer_.vocabulary_))

    def _base_parts(self) -> BaseParts:
        if self.live_ is not None:
            return self.live_.base
        cache = {} if self._pair_context is None else {"context": self._pair_context}
        return BaseParts(self.catalogue_, self.content_, self.table_, self.reranker_, cache)

    def _install(self, state: LiveState) -> None:
        """Serve ``state``: new parts, assigned (never modified in place)."""
        base = self._base_parts()
        overlay = None
        if not (state.empty and state.reference == base.catalogue.newest):
            overlay = Overlay(base, state, self.vectorizer_, self._request(1),
                              query_terms=self.query_terms)
        parts = base[:4] if overlay is None else (overlay.catalogue, overlay.content,
                                                  overlay.table, overlay.reranker)
        self.catalogue_, self.content_, self.table_, self.reranker_ = parts
        self.live_ = overlay
        self.live_state_ = state
        self._pair_context = None

    # -- reporting ---------------------------------------------------------------------------
    def version(self) -> str:
        """The version of the lists served: the base model's creation time and the number of
        changes since (``2026-12-03T18:18:26+00:00+12``), and ``+pinsN`` after the N-th edit
        of the editors' pins. Two calls that give the same version give the same lists."""
        self._check_fitted()
        state = self._live_state()
        pins = f"+pins{self.pins_revision()}" if self.pins_revision() else ""
        return f"{self._base_parts().catalogue.created}+{state.position}{pins}"

    def live_status(self) -> dict:
        """The base model's creation time, the number of changes since, the pins' revision,
        the version (:meth:`version`), the last change's time, the reference time and the
        number of articles served."""
        self._check_fitted()
        state = self._live_state()
        base = self._base_parts().catalogue
        served = (len(base) - len(state.hidden) + len(state.entries))
        return {"base_created": base.created, "changes": state.position,
                "pins_revision": self.pins_revision(), "version": self.version(),
                "last_change": None if state.last_change is None
                else to_iso(math.floor(state.last_change)),
                "reference": state.reference_iso, "articles": served,
                "folder": None if self.source_ is None else str(self.source_.path)}

    def staleness(self) -> dict:
        """How far the live model drifted from its fit: articles added and withdrawn since,
        the share of the added articles' words unknown to the vocabulary (they count in a
        text's length but match nothing), and the idf drift (the mean relative change of
        the terms' idf that a refit on the served articles would make, weighted by their
        document frequency). ``advice`` says whether to refit
        (``recommender train`` on the full corpus): past :data:`REFIT_WHEN`."""
        self._check_fitted()
        state = self._live_state()
        vec = self.vectorizer_
        base = self._base_parts()
        entries = list(state.entries.values())
        known = sum(float(a.counts.sum()) for a in entries)
        words = sum(a.length for a in entries)
        unknown = (words - known) / words if words else 0.0
        drift = 0.0
        if hasattr(vec, "df_") and not state.empty:
            df = vec.df_.astype(np.float64).copy()
            if state.hidden:
                hidden = base.content.counts[sorted(state.hidden)]
                df -= np.bincount(hidden.indices, minlength=len(df))
            for a in entries:
                df[a.terms] += 1
            n = vec.n_documents_ - len(state.hidden) + len(entries)
            settings = vec.settings()
            frozen = vec.term_weights(vec.df_, vec.n_documents_, settings).astype(np.float64)
            refit = vec.term_weights(np.maximum(df, 0), max(n, 1), settings).astype(np.float64)
            weight = np.maximum(df, 0)
            drift = float((weight * np.abs(refit - frozen)).sum()
                          / max((weight * frozen).sum(), 1e-12))
        n_base = len(base.catalogue)
        figures = {"articles_added": len(entries),
                   "articles_withdrawn": len(state.hidden) - state.n_updated_base,
                   "articles_updated": state.n_updated_base,
                   "added_share": len(entries) / max(n_base, 1),
                   "unknown_word_share": unknown, "idf_drift": drift}
        over = [name for name, limit in REFIT_WHEN.items() if figures[name] > limit]
        figures["advice"] = (
            "refit: " + ", ".join(f"{name} {figures[name]:.3f} > {REFIT_WHEN[name]}"
                                  for name in over)
            + " (recommender train on the full corpus)" if over
            else "no refit needed yet")
        return figures

    # -- compaction --------------------------------------------------------------------------
    def compacted(self):
        """A model whose base holds the served articles (the live changes folded in, rows
        in publication order, statistics still those of the fit) and its neighbour table
        rebuilt; this model is unchanged."""
        self._check_fitted()
        state = self._live_state()
        base = self._base_parts()
        if state.empty and self.live_ is None:
            model = copy.copy(self)
            model.source_, model.live_state_, model.log_offset_ = None, None, 0
            return model
        if not base.content.is_bm25:  # withdrawals only: keep the scored rows
            raise ParameterError("compacting needs scoring='mlt' (the default); retrain this "
                                 "cosine model instead")
        live = self.live_
        keep = np.ones(len(base.catalogue), bool)
        if state.hidden:
            keep[sorted(state.hidden)] = False
        kept = np.flatnonzero(keep)
        seg_cat = live.catalogue.segment
        seg_content = live.content.segment
        published = np.concatenate([base.catalogue.published[kept], seg_cat.published])
        order = np.lexsort((np.arange(len(published)), published))
        parts = [base.content.counts[kept]] + ([] if seg_content is None
                                               else [seg_content.counts])
        counts = sp.vstack(parts, format="csr")[order]
        lengths = np.concatenate([base.content.lengths[kept]]
                                 + ([] if seg_content is None else [seg_content.lengths]))[order]
        catalogue = Catalogue(
            np.concatenate([base.catalogue.ids[kept], seg_cat.ids])[order],
            published[order],
            np.concatenate([base.catalogue.categories[kept], seg_cat.categories])[order],
            np.concatenate([base.catalogue.titles[kept], seg_cat.titles])[order],
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        model = copy.copy(self)
        reranker = None
        if base.reranker is not None:
            reranker = copy.copy(base.reranker)
            reranker.links_ = np.concatenate([base.reranker.links_[kept],
                                              np.zeros(len(seg_cat))])[order]
        info = {**self.info_, "n_articles": len(catalogue), "compacted_changes": state.position}
        model.source_, model.live_, model.live_state_, model.log_offset_ = None, None, None, 0
        model.assemble(vectorizer=self.vectorizer_,
                       content=ContentIndex.bm25(self.vectorizer_, counts, lengths),
                       catalogue=catalogue, info=info, reranker=reranker)
        model.tuning_, model.site_lists_ = self.tuning_, self.site_lists_
        if base.table is not None:
            model.build_table(base.table.width)
        return model

    def compact(self, path=None) -> Path:
        """Fold the live changes into a new base folder at ``path`` (default: this model's
        own folder, whose log then starts empty; changes logged meanwhile by other processes
        are folded in too: the log is locked throughout). This model then serves the new
        folder. Returns its path."""
        self._check_fitted()
        own = self.source_
        if path is None and own is None:
            raise ParameterError("this model was not loaded from a folder: compact(path) needs "
                                 "a path to write to")
        target = Path(path) if path is not None else own.path
        if own is None or Path(target).resolve() != own.path.resolve():
            if own is not None:
                self.refresh()
            write_folder(target, *model_files(self.compacted()))
            return target
        while True:
            try:
                with own.appending(timeout=600):
                    self._catch_up()
                    self.read_pins()  # edited by another process meanwhile
                    write_folder(target, *model_files(self.compacted()))
                break
            except FolderReplaced:
                self.refresh()
                own = self.source_
        fresh = type(self).load(target)
        self._adopt(fresh)
        logger.info("compacted %s: %d articles", target, fresh.n_articles)
        return target


