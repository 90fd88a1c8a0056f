"""A live model's parts: the base model's, memory-mapped and untouched, and a small segment of
the articles added since, read together as one model.

Rows ``0 .. n-1`` are the base model's, rows ``n ..`` the segment's; each part is in
publication order, so that a date window stays a range of rows in each. A search runs on
both parts and merges their lists (:meth:`LiveContent.search`); withdrawn and updated base
rows are hidden (a mask, as Lucene's deleted documents). The base's neighbour table still
answers the default lists (:class:`LiveTable`): its entries are filtered where they are
read (hidden rows, rows that left the window as the reference time advanced), merged with
the segment's best, and a list left shorter than asked is scored again: never served
short. The parts are rebuilt for each change from the base's parts and the
:class:`~recommender.model.live.LiveState`, and never modified in place, so that a
shallow copy of a model is a snapshot that later changes do not touch.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ..errors import ParameterError
from ..index.topk import DEFAULT_BLOCK_BYTES
from ..times import UNDATED
from .catalogue import Catalogue
from .search import ContentIndex, Request, query_vectors

__all__ = ["BaseParts", "LiveCatalogue", "LiveContent", "LiveTable", "Overlay",
           "merge_lists"]


class BaseParts(NamedTuple):
    """The parts of a model as fitted or loaded, before any live change, and what is made
    of them once for every change (``cache``: the learned re-ranker's pair context)."""

    catalogue: Catalogue
    content: ContentIndex
    table: object
    reranker: object
    cache: dict


def merge_lists(idx_a, sc_a, idx_b, sc_b, k: int):
    """The best ``k`` of two lists per row (row numbers and scores, -1 / -inf padded),
    best first; equal scores keep ``a`` first."""
    idx = np.hstack([idx_a, idx_b])
    scores = np.hstack([sc_a, sc_b])
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    idx = np.take_along_axis(idx, order, 1)
    scores = np.take_along_axis(scores, order, 1)
    if idx.shape[1] < k:
        pad = k - idx.shape[1]
        idx = np.hstack([idx, np.full((len(idx), pad), -1, idx.dtype)])
        scores = np.hstack([scores, np.full((len(idx), pad), -np.inf, scores.dtype)])
    return idx, scores


class LiveCatalogue(Catalogue):
    """The base catalogue's rows, then the segment's; hidden base rows are unknown ids."""

    def __init__(self, base: Catalogue, segment: Catalogue, hidden, reference: int):
        self.base = base
        self.segment = segment
        self.hidden = hidden
        self.reference = reference
        self.ids = np.concatenate([base.ids, segment.ids])
        self.published = np.concatenate([base.published, segment.published])
        self.categories = np.concatenate([base.categories, segment.categories])
        self.titles = np.concatenate([base.titles, segment.titles])
        self.created = base.created
        self.dated = base.dated + segment.dated
        self.until_now = self.dated
        self._row_of = None

    @property
    def newest(self) -> int:
        return self.reference

    @property
    def n_served(self) -> int:
        """Articles served: the base's, less those hidden, and the segment's."""
        hidden = 0 if self.hidden is None else int(self.hidden.sum())
        return len(self.base) - hidden + len(self.segment)

    def served_rows(self) -> np.ndarray:
        """The rows of the articles served: the base's less the hidden ones, the segment's."""
        if self.hidden is None:
            return np.arange(len(self))
        return np.concatenate([np.flatnonzero(~self.hidden),
                               np.arange(len(self.base), len(self))])

    def find_rows(self, article_ids: list) -> np.ndarray:
        """Row numbers of article ids, -1 for an unknown one: a base row unless hidden,
        else a segment row."""
        rows = self.base.find_rows(article_ids)
        if self.hidden is not None:
            rows[(rows >= 0) & self.hidden[np.maximum(rows, 0)]] = -1
        missing = np.flatnonzero(rows < 0)
        if len(missing):
            found = self.segment.find_rows([article_ids[i] for i in missing.tolist()])
            rows[missing] = np.where(found >= 0, len(self.base) + found, -1)
        return rows

    def unknown_message(self, article_id) -> str:
        return (f"Unknown article id {article_id!r}: not among the {self.n_served:,} articles "
                f"this model serves (trained {self.created or '?'}, with the articles added "
                f"since and without those withdrawn). Add it, or use similar(text) for a text "
                f"that is not in the model.")

    def windows(self, *args, **kwargs):
        raise ParameterError("this model has live changes (articles added or withdrawn since "
                             "its fit); compact it first (recommender compact MODEL_DIR, or "
                             "model.compact()) to evaluate it or learn on it")


class LiveContent:
    """The base content index and the segment's, as one index of the live rows."""

    def __init__(self, base: ContentIndex, segment: ContentIndex | None, catalogue: LiveCatalogue):
        self.base = base
        self.segment = segment
        self.catalogue = catalogue
        self.n = len(catalogue.base)
        self._stacked: dict = {}

    is_bm25 = property(lambda self: self.base.is_bm25)

    def _joined(self, name: str, part_of):
        """``part_of(base)`` then ``part_of(segment)``, stacked once and kept."""
        if name not in self._stacked:
            value = part_of(self.base)
            if self.segment is not None:
                value = _stack(value, part_of(self.segment))
            self._stacked[name] = value
        return self._stacked[name]

    def _parts(self, name: str):
        return self._joined(name, lambda part: getattr(part, name))

    matrix = property(lambda self: self._parts("matrix"))
    queries = property(lambda self: self._parts("queries"))
    counts = property(lambda self: self._parts("counts"))
    lengths = property(lambda self: self._parts("lengths"))

    def _rows(self, rows, pick) -> sp.csr_matrix:
        """``pick(part, part_rows)`` of live ``rows``, in their order."""
        rows = np.asarray(rows, np.int64)
        new = rows >= self.n
        if self.segment is None or not new.any():
            return pick(self.base, rows)
        if new.all():
            return pick(self.segment, rows - self.n)
        both = sp.vstack([pick(self.base, rows[~new]), pick(self.segment, rows[new] - self.n)],
                         format="csr")
        order = np.empty(len(rows), np.int64)
        order[~new] = np.arange(int((~new).sum()))
        order[new] = int((~new).sum()) + np.arange(int(new.sum()))
        return both[order]

    def query_rows(self, rows):
        return self._rows(rows, lambda part, r: part.query_rows(r))

    def matrix_rows(self, rows):
        return self._rows(rows, lambda part, r: part.matrix_rows(r))

    def units(self) -> sp.csr_matrix:
        return self._joined("units", lambda part: part.units())

    def term_counts(self) -> np.ndarray:
        return self._joined("term_counts", lambda part: part.term_counts())

    def postings(self):
        if self.segment is not None:
            self.segment.postings()
        return self.base.postings()

    def cosine_rows(self, vectorizer, counts=None, *, idf_power, length_prior):
        if counts is not None or self.segment is None:
            return self.base.cosine_rows(vectorizer, counts, idf_power=idf_power,
                                         length_prior=length_prior)
        return sp.vstack([part.cosine_rows(vectorizer, idf_power=idf_power,
                                           length_prior=length_prior)
                          for part in (self.base, self.segment)], format="csr")

    def search(self, Q, k, request: Request, catalogue=None, *, skip, max_block_bytes, n_jobs):
        """Top-``k`` of the base (hidden rows out) and of the segment, merged; ``skip``
        and ``request.allowed`` are in live rows."""
        cat, n = self.catalogue, self.n
        skip = None if skip is None else np.asarray(skip, np.int64)
        allowed = request.allowed
        base = request._replace(allowed=None if allowed is None else allowed[:n])
        idx, scores = self.base.search(
            Q, k, base, cat.base, skip=None if skip is None else np.where(skip < n, skip, -1),
            max_block_bytes=max_block_bytes, n_jobs=n_jobs, newest=cat.reference,
            hidden=cat.hidden)
        if self.segment is None:
            return idx, scores
        segment = request._replace(allowed=None if allowed is None else allowed[n:])
        return merge_lists(idx, scores, *self.segment_search(
            Q, k, segment, skip=None if skip is None else np.where(skip >= n, skip - n, -1),
            max_block_bytes=max_block_bytes, n_jobs=n_jobs), k)

    def segment_search(self, Q, k, request: Request, *, skip, max_block_bytes, n_jobs):
        """Top-``k`` of the added articles alone, as live rows (``request`` and ``skip``
        in the segment's rows)."""
        cat = self.catalogue
        idx, scores = self.segment.search(Q, k, request, cat.segment, skip=skip,
                                          max_block_bytes=max_block_bytes, n_jobs=n_jobs,
                                          newest=cat.reference)
        return np.where(idx >= 0, idx + self.n, -1), scores


class LiveTable:
    """The base model's neighbour table, read through the live changes (see the module's
    docstring): the default lists of the live rows, exactly as scoring gives them."""

    learned = False

    def __init__(self, base, content: LiveContent, request: Request, *, query_terms):
        self.base = base
        self.content = content
        self.request = request  # the default filters, for one query
        self.query_terms = query_terms
        cat = content.catalogue
        lo, hi = cat.base.windows(request.times, max_age=request.max_age, since=None,
                                  until=None, zone=request.zone, newest=cat.reference)
        n = len(cat.base)
        self.lo, self.hi = (0, n) if lo is None else (int(lo[0]), int(hi[0]))

    width = property(lambda self: self.base.width)
    indices = property(lambda self: self.base.indices)
    scores = property(lambda self: self.base.scores)

    def _request(self, m: int) -> Request:
        return self.request._replace(times=np.full(m, UNDATED, np.int64))

    def queries(self, rows) -> sp.csr_matrix:
        """The queries of live rows, as the model makes them."""
        if self.content.is_bm25:
            return self.content.query_rows(rows)
        return query_vectors(self.content.matrix_rows(rows), self.query_terms)

    def _search(self, rows, k: int):
        """The default lists of live ``rows``, scored."""
        return self.content.search(self.queries(rows), k, self._request(len(rows)),
                                   skip=rows, max_block_bytes=DEFAULT_BLOCK_BYTES, n_jobs=1)

    def lists(self, rows: np.ndarray, k: int):
        rows = np.asarray(rows, np.int64)
        content, n = self.content, self.content.n
        idx = np.full((len(rows), k), -1, np.int64)
        scores = np.full((len(rows), k), -np.inf, np.float32)
        new = rows >= n
        if new.any():  # the added articles have no table row: scored
            idx[new], scores[new] = self._search(rows[new], k)
        old = np.flatnonzero(~new)
        if not len(old):
            return idx, scores
        table_idx = np.asarray(self.base.indices[rows[old]], np.int64)
        table_sc = np.asarray(self.base.scores[rows[old]], np.float32)
        hidden = content.catalogue.hidden
        keep = (table_idx >= self.lo) & (table_idx < self.hi)
        if hidden is not None:
            keep &= ~hidden[np.maximum(table_idx, 0)]
        order = np.argsort(~keep, axis=1, kind="stable")
        t_idx = np.where(np.take_along_axis(keep, order, 1),
                         np.take_along_axis(table_idx, order, 1), -1)[:, :k]
        t_sc = np.where(t_idx >= 0, np.take_along_axis(table_sc, order, 1)[:, :k], -np.inf)
        if content.segment is not None:
            t_idx, t_sc = merge_lists(t_idx, t_sc, *content.segment_search(
                self.queries(rows[old]), k, self._request(len(old)), skip=None,
                max_block_bytes=DEFAULT_BLOCK_BYTES, n_jobs=1), k)
        idx[old], scores[old] = t_idx[:, :k], t_sc[:, :k].astype(np.float32)
        # a full table row filtered below k may have had the next best beyond its width
        short = (keep.sum(1) < k) & (table_idx[:, -1] >= 0)
        if short.any():
            again = old[short]
            idx[again], scores[again] = self._search(rows[again], k)
        return idx, scores


class Overlay:
    """The live parts of a model: its base parts and a :class:`LiveState`, read as one."""

    def __init__(self, base: BaseParts, state, vectorizer, request: Request, *, query_terms):
        self.base = base
        entries = list(state.entries.values())
        published = np.array([a.published for a in entries], np.int64)
        order = np.lexsort((np.arange(len(entries)), published))
        entries = [entries[i] for i in order]
        segment = Catalogue(np.asarray([a.id for a in entries], dtype=str).reshape(-1),
                            published[order],
                            np.asarray([a.category for a in entries], dtype=str).reshape(-1),
                            np.asarray([a.title for a in entries] + [None], dtype=object)[:-1])
        self.catalogue = LiveCatalogue(base.catalogue, segment, state.hidden_mask(),
                                       state.reference)
        seg_content = None
        if entries:
            counts = sp.csr_matrix(
                (np.concatenate([a.counts for a in entries]),
                 np.concatenate([a.terms for a in entries]),
                 np.concatenate([[0], np.cumsum([len(a.terms) for a in entries])])),
                shape=(len(entries), base.content.matrix.shape[1]))
            lengths = np.array([a.length for a in entries], np.float64)
            seg_content = ContentIndex.bm25(vectorizer, counts, lengths)
        self.content = LiveContent(base.content, seg_content, self.catalogue)
        self.table = None
        if base.table is not None and not base.table.learned:
            self.table = LiveTable(base.table, self.content, request, query_terms=query_terms)
        self.reranker = base.reranker
        if base.reranker is not None and entries:
            self.reranker = copy.copy(base.reranker)
            self.reranker.links_ = np.concatenate([base.reranker.links_,
                                                   np.zeros(len(entries))])

    def pair_context(self, build):
        """The learned re-ranker's pair context of the live rows: the base's, made once
        with ``build(catalogue, content)`` and kept, then the segment's."""
        if "context" not in self.base.cache:
            self.base.cache["context"] = build(self.base.catalogue, self.base.content)
        context = self.base.cache["context"]
        if self.content.segment is None:
            return context  # hidden rows are never candidates
        segment = build(self.catalogue.segment, self.content.segment)
        return type(context)(*(_stack(a, b) for a, b in zip(context, segment)))


def _stack(a, b):
    """Rows of ``a`` then rows of ``b`` (arrays or CSR matrices; None stays None)."""
    if a is None:
        return None
    if isinstance(a, np.ndarray):
        return np.concatenate([a, b])
    return sp.vstack([a, b], format="csr")
