"""From query vectors to lists: filters, exact top-k, the learned re-ranker, the controls.

:class:`ContentIndex` holds the rows as the search reads them (the TF-IDF matrix with the
length prior, or More Like This's BM25 rows and queries, made from the counts at once or on
first use; its posting lists and its unit rows, made on first use). A :class:`Request`
carries one call's filters, parsed once at the public edge (times in int64 seconds).
:func:`search_rows` runs the pipeline for a batch of queries.
"""

from __future__ import annotations

import copy
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from ..errors import ParameterError
from ..index.dense import DensePostings, dense_postings
from ..index.topk import check_k, fast_kernel, keep_strongest, top_k
from ..vectors.tfidf import l2_normalize
from .controls import active, apply_controls

__all__ = ["PLAIN_TFIDF", "SCORINGS", "ContentIndex", "Request", "apply_length_prior",
           "check_scoring", "mlt_queries", "query_vectors", "search_rows"]

#: The scoring settings of plain TF-IDF cosine (idf power 1, every query term, no length
#: prior): the baseline of the ablations, and what folders written before these settings
#: existed scored with.
PLAIN_TFIDF = {"scoring": "cosine", "idf_power": 1.0, "query_terms": None,
               "length_prior": 0.0}


class Request(NamedTuple):
    """The filters of one call: ``times`` holds one as-of time per query (int64 seconds,
    UNDATED for none); ``max_age``, ``since``, ``until`` are seconds or None; ``allowed``
    is a mask of the rows that may be recommended, or None for all; ``zone`` the time zone
    of a calendar window, None for a rolling one."""

    times: np.ndarray
    max_age: int | None
    since: int | None
    until: int | None
    allowed: np.ndarray | None
    zone: object = None


#: The scorings a model can use: "mlt" (BM25 rows, More Like This queries,
#: :mod:`recommender.vectors.bm25`) and "cosine" (TF-IDF rows with the length prior).
SCORINGS = ("mlt", "cosine")


def check_scoring(value) -> str:
    """``value`` if it is one of :data:`SCORINGS`, else a ParameterError naming them."""
    if not isinstance(value, str) or value not in SCORINGS:
        raise ParameterError(f"scoring must be one of {', '.join(map(repr, SCORINGS))}, got "
                             f"{value!r}")
    return value


class ContentIndex:
    """The model's rows as the top-k search reads them (``matrix``: float32 CSR, unit
    TF-IDF rows scaled by the length prior, or BM25 rows) and, for More Like This, each
    row's query (``queries``: binary float32 CSR; None for cosine) and what both are made
    of (``counts``, ``lengths``: see :class:`~recommender.vectors.bm25.Bm25Vectors`).
    Do not modify them in place."""

    def __init__(self, matrix: sp.csr_matrix, queries: sp.csr_matrix | None = None, *,
                 counts: sp.csr_matrix | None = None, lengths: np.ndarray | None = None,
                 pending=None):
        self._matrix = matrix
        self._queries = queries
        self._pending = pending  # the vectorizer that makes them on first use, or None
        self.counts = counts
        self.lengths = lengths
        self._postings: sp.csr_matrix | None = None
        self._dense: DensePostings | None = None
        self._units: sp.csr_matrix | None = None
        self._cosine_key = None  # the settings of _cosine_weights
        self._cosine_weights: np.ndarray | None = None

    @classmethod
    def bm25(cls, vectorizer, counts: sp.csr_matrix, lengths: np.ndarray, *,
             lazy: bool = False) -> "ContentIndex":
        """The BM25 rows and More Like This queries of raw ``counts`` and ``lengths``, as
        the fitted :class:`~recommender.vectors.bm25.Bm25Vectorizer` weighs them; with
        ``lazy``, made on first use (a fit whose table is built elsewhere, by a cluster's
        workers, never makes them: the saved folder holds the counts)."""
        index = cls(None, None, counts=counts, lengths=lengths, pending=vectorizer)
        if not lazy:
            index._made()
        return index

    @property
    def matrix(self) -> sp.csr_matrix:
        self._made()
        return self._matrix

    @property
    def queries(self) -> sp.csr_matrix | None:
        self._made()
        return self._queries

    @queries.setter
    def queries(self, queries) -> None:
        self._made()  # first, so that making the lazy ones does not replace these
        self._queries = queries

    def _made(self) -> None:
        """Make the pending rows and queries. Two threads that race here make equal ones."""
        vectorizer = self._pending
        if vectorizer is not None:
            self._queries = mlt_queries(vectorizer.query_weights(self.counts),
                                        vectorizer.settings()["query_terms"])
            self._matrix = vectorizer.weigh(self.counts, self.lengths)
            self._pending = None

    def with_queries(self, queries: sp.csr_matrix) -> "ContentIndex":
        """This index with other More Like This ``queries`` (the rows' stay, and what is
        made of them: its posting lists are made now, once for the copies)."""
        self.postings()
        other = copy.copy(self)
        other.queries = queries
        return other

    @property
    def is_bm25(self) -> bool:
        """Whether the rows are BM25 rows of raw counts (More Like This), not TF-IDF."""
        return self.counts is not None

    def query_rows(self, rows) -> sp.csr_matrix | None:
        """The More Like This queries of ``rows`` (None for cosine: its queries are cut
        from :meth:`matrix_rows`)."""
        return None if self.queries is None else self.queries[rows]

    def matrix_rows(self, rows) -> sp.csr_matrix:
        """The scored rows ``rows`` of ``matrix``."""
        return self.matrix[rows]

    def search(self, Q, k, request: "Request", catalogue, *, skip, max_block_bytes, n_jobs,
               newest=None, hidden=None):
        """Exact top-``k`` rows for each query row of ``Q`` under the ``request``'s filters
        (``catalogue``: these rows' catalogue; ``newest``: the reference time when not its
        own; ``hidden``: a mask of rows never to return, such as withdrawn articles)."""
        lo, hi = catalogue.windows(request.times, max_age=request.max_age, since=request.since,
                                   until=request.until, zone=request.zone, newest=newest)
        allowed = request.allowed
        if hidden is not None:
            allowed = ~hidden if allowed is None else allowed & ~hidden
        return self.top_k(Q, k, lo=lo, hi=hi, skip=skip, allowed=allowed,
                          max_block_bytes=max_block_bytes, n_jobs=n_jobs)

    def postings(self) -> sp.csr_matrix:
        """``matrix.T`` as CSR, made on first use: scores a few queries from their terms'
        posting lists instead of a pass over every article."""
        if self._postings is None:
            postings = self.matrix.T.tocsr()
            # the common terms' postings as dense rows, which the compiled kernel adds
            # faster (about 20% more memory for More Like This's rows; none without numba)
            self._dense = dense_postings(postings) if fast_kernel() is not None else None
            self._postings = postings
        return self._postings

    def units(self) -> sp.csr_matrix:
        """The rows as unit vectors (without the length prior), made on first use."""
        if self._units is None:
            self._units = l2_normalize(self.matrix.copy())
        return self._units

    def cosine_rows(self, vectorizer, counts: sp.csr_matrix | None = None, *, idf_power: float,
                    length_prior: float) -> sp.csr_matrix:
        """Rows as the cosine scoring weighs them, made from More Like This counts (the
        model's, or ``counts`` of other texts): ``1 + ln(count)`` times the idf to
        ``idf_power``, stop words and terms of more than half the articles left out, unit
        rows times the length prior. A cosine model's own rows are its ``matrix``."""
        if self.counts is None:
            return self.matrix
        key = (float(idf_power), vectorizer.n_documents_)
        if self._cosine_key != key:
            n = vectorizer.n_documents_
            kept = (vectorizer.df_ <= 0.5 * n) & ~vectorizer.stop_terms()
            idf = np.log((1 + n) / (1 + vectorizer.df_)) + 1
            self._cosine_weights = np.where(kept, idf ** float(idf_power), 0).astype(np.float32)
            self._cosine_key = key
        X = sp.csr_matrix(self.counts if counts is None else counts, dtype=np.float32, copy=True)
        X.data = (1 + np.log(np.maximum(X.data, 1e-3))) * self._cosine_weights[X.indices]
        X.eliminate_zeros()
        return apply_length_prior(l2_normalize(X), length_prior)

    def term_counts(self) -> np.ndarray:
        """The number of distinct terms of each row."""
        return np.diff(self.matrix.indptr)

    def top_k(self, Q, k, *, lo, hi, skip, allowed=None, max_block_bytes, n_jobs):
        """Exact top-``k`` rows of each query row of ``Q`` within its window."""
        XT = self.postings()
        return top_k(Q, self.matrix, k, lo=lo, hi=hi, skip=skip, allowed=allowed, XT=XT,
                     dense_terms=self._dense, max_block_bytes=max_block_bytes, n_jobs=n_jobs)


def apply_length_prior(X: sp.csr_matrix, power: float, mean: float | None = None) -> sp.csr_matrix:
    """Scale each unit row of ``X`` by ``(n / mean n) ** power`` in place, ``n`` being its
    number of terms; ``mean`` defaults to the mean over the rows of ``X`` with terms (give
    the model's to scale other texts as its rows are)."""
    if power == 0:
        return X
    lengths = np.diff(X.indptr)
    if mean is None:
        mean = lengths[lengths > 0].mean() if (lengths > 0).any() else 1.0
    scale = (np.maximum(lengths, 1) / mean) ** float(power)
    X.data *= np.repeat(scale, lengths).astype(X.dtype)
    return X


def query_vectors(X: sp.csr_matrix, query_terms: int | None) -> sp.csr_matrix:
    """Rows of ``X`` as queries: their ``query_terms`` strongest terms (None: all),
    L2-normalised (a copy)."""
    Q = sp.csr_matrix(X, dtype=np.float32, copy=True)
    if query_terms is not None:
        Q = keep_strongest(Q, query_terms)
    return l2_normalize(Q)


def mlt_queries(weights: sp.csr_matrix, query_terms: int) -> sp.csr_matrix:
    """More Like This queries from their terms' weights
    (:meth:`~recommender.vectors.bm25.Bm25Vectorizer.query_weights`): each row's
    ``query_terms`` largest entries, all set to 1 (float32 CSR; ties at the cut go to the
    lower column)."""
    Q = keep_strongest(sp.csr_matrix(weights), query_terms)
    return sp.csr_matrix((np.ones(Q.nnz, np.float32), Q.indices.astype(np.int32), Q.indptr),
                         shape=Q.shape)


def search_rows(model, Q, k, request: Request, *, skip, text_sources=None):
    """Row numbers and scores, shape ``(n, k)``, of the top-``k`` of each query row of
    ``Q`` for ``model``: the request's filters applied, then the model's learned re-ranker
    and newsroom controls when it has them. ``skip`` holds each query's own row (-1 or
    None for texts not in the model); ``text_sources`` their vectors (see
    :meth:`~recommender.ArticleRecommender.similar`)."""
    catalogue = model.catalogue_
    n_rows = len(catalogue)
    k = min(check_k(k), max(n_rows - 1, 1))
    n = Q.shape[0]
    reranker = model.reranker_
    controls = model.controls()
    controlled = active(controls)
    # A learned model re-ranks the content model's best n_candidates, whatever k is, so
    # that its first k items do not depend on k (the neighbour table relies on it).
    width = k if reranker is None else reranker.n_candidates
    if controlled:
        width = max(width, 2 * k, k + 40)  # room for what the controls drop
    width = min(width, n_rows)
    idx, scores = model.content_.search(Q, width, request, catalogue, skip=skip,
                                        max_block_bytes=model.max_block_bytes,
                                        n_jobs=model.n_jobs)
    if reranker is not None or controlled:
        when = catalogue.reference_times(request.times)
    if reranker is not None:
        source_rows = np.full(n, -1, np.int64) if skip is None else skip
        idx, scores = reranker.rerank(model.pair_context(), source_rows, idx, scores, when,
                                      text_sources)
    if controlled:
        idx, scores = apply_controls(idx, scores, k, controls, units=model.content_.units(),
                                     published=catalogue.published, as_of=when)
    if idx.shape[1] < k:  # a learned model lists at most n_candidates
        pad = k - idx.shape[1]
        idx = np.hstack([idx, np.full((n, pad), -1, idx.dtype)])
        scores = np.hstack([scores, np.full((n, pad), -np.inf, scores.dtype)])
    return idx[:, :k], scores[:, :k]
