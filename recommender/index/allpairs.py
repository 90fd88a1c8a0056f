"""Every row's top-k against all the others, each pair's product computed once.

The neighbour table asks for the top-k of every row of ``X`` against every other row:
``top_k(X, X, k, skip=arange(n))``. The cosine is symmetric, so query ``i`` only needs
the postings of rows ``j > i``: the partial sum of the pair ``(i, j)`` goes into the
candidates of both ``i`` and ``j``. That halves the postings read, which are nearly all
of the work.

Each thread keeps, for every row, a small buffer of the best partial sums offered to it
(``k + EXTRA`` of them). At the end, a row's buffers are merged and every candidate whose
partial sum is within the float32 margin of the ``k``-th best is scored exactly with the
canonical sum of :mod:`recommender.index.primitives`; the list is then the one the per-query kernel
gives, bit for bit. When a buffer was too short to be sure of that (more than ``EXTRA``
near-ties at the ``k``-th partial sum), the row is scored again by the per-query kernel.

(Tiling the candidate rows, so that a tile's partial sums stay in the core's first-level
cache and its postings in the shared one while every query passes over it, was measured
and left out: with tiles of 4,096 to 16,384 rows it was as fast or up to 1.4 times slower,
on the real corpus and on 100,000 synthetic articles. The postings are read in order, which
the hardware prefetches; what costs is the add into a random row, about 1.7 ns each.)

Used by :func:`recommender.index.topk.top_k` when the queries are the rows of ``X``
themselves, each skipping itself, with no window, and the values are non-negative (TF-IDF): a pair
whose partial sum is 0 then shares no term, which lets the untouched rows be ignored.
"""

from __future__ import annotations

import queue
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from numba import njit

from .kernel import DENSE_SHARE, top_k_postings
from .primitives import (MARGIN, ROUNDING, add_postings, clear_partial, csr_parts, exact_score,
                         insert_best, thread_spans)

__all__ = ["EXTRA", "MAX_BUFFER_BYTES", "is_all_pairs", "top_k_all_pairs"]

#: Partial sums kept per row beyond ``k``, for near-ties at the ``k``-th.
EXTRA = 4
#: The per-thread buffers (8 bytes per row and entry) must fit in this; else per query.
MAX_BUFFER_BYTES = 1 << 30


def is_all_pairs(Q, X, k, lo, hi, skip, n_jobs) -> bool:
    """Whether ``top_k(Q, X, k, lo=lo, hi=hi, skip=skip)`` is every row of ``X`` against the
    others (with non-negative values, and buffers that fit in :data:`MAX_BUFFER_BYTES`)."""
    n = X.shape[0]
    if Q.shape != X.shape or n < 2 or Q.nnz != X.nnz:
        return False
    if n * (k + EXTRA) * 8 * n_jobs > MAX_BUFFER_BYTES:
        return False
    if (lo != 0).any() or (hi != n).any() or not np.array_equal(skip, np.arange(n)):
        return False
    return (np.array_equal(Q.indptr, X.indptr) and np.array_equal(Q.indices, X.indices)
            and np.array_equal(Q.data, X.data) and (X.nnz == 0 or X.data.min() >= 0))


def top_k_all_pairs(X: sp.csr_matrix, XT: sp.csr_matrix, k: int, allowed, n_jobs: int = 1,
                    *, extra: int = EXTRA, dense_share: int = DENSE_SHARE):
    """:func:`recommender.index.kernel.top_k_postings` of ``X`` against itself, each row skipping
    itself, with no window; the same arrays, from half the postings.

    ``X`` must have non-negative values (see :func:`is_all_pairs`); ``extra`` is
    :data:`EXTRA` (tests set it to 0 to reach the per-query fallback).
    """
    n = X.shape[0]
    indices = np.full((n, k), -1, np.int64)
    scores = np.full((n, k), -np.inf, np.float32)
    allowed = np.ones(n, np.bool_) if allowed is None else allowed
    x_parts, xt_parts = csr_parts(X), csr_parts(XT)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel()) if X.nnz else np.zeros(1)
    terms = int(np.diff(X.indptr).max()) if n else 0
    margin = (MARGIN + terms * ROUNDING) * max(1.0, float(norms.max()))
    width = k + extra
    n_buffers = max(1, min(n_jobs, n))
    best = np.full((n_buffers, n, width), -np.inf, np.float32)
    rows = np.full((n_buffers, n, width), -1, np.int32)
    counts = np.zeros((n_buffers, n), np.int32)
    lowest = np.zeros((n_buffers, n), np.float32)  # a full buffer's last, else 0
    free = queue.SimpleQueue()
    for b in range(n_buffers):
        free.put(b)

    def offer(span):
        b = free.get()  # buffers of their own for each running thread
        try:
            _offer_pairs(span[0], span[1], *x_parts, *xt_parts, allowed, margin, dense_share,
                         best[b], rows[b], counts[b], lowest[b])
        finally:
            free.put(b)

    fallback = np.zeros(n, np.bool_)

    def merge(span):
        _merge(span[0], span[1], *x_parts, k, margin, best, rows, counts, fallback, indices,
               scores)

    spans = thread_spans(n, n_jobs)
    for step in (offer, merge):
        if len(spans) == 1:
            step(spans[0])
        else:
            with ThreadPoolExecutor(max_workers=n_jobs) as pool:
                list(pool.map(step, spans))
    again = np.flatnonzero(fallback)
    if len(again):
        full = np.zeros(len(again), np.int64)
        got = top_k_postings(X[again], X, XT, k, full, full + n, again.astype(np.int64),
                             allowed, n_jobs, dense_share=dense_share)
        indices[again], scores[again] = got
    return indices, scores


@njit(nogil=True, cache=True)
def _offer_pairs(first, last, x_indptr, x_indices, x_data, xt_indptr, xt_indices, xt_data,
                 allowed, margin, dense_share, best, rows, counts, lowest):
    """Rows ``first <= i < last``: the partial sums of the pairs ``(i, j > i)``, each
    offered to the buffers of ``i`` and of ``j``."""
    n = allowed.shape[0]
    acc = np.zeros(n, np.float32)
    seen = np.zeros(n, np.bool_)
    touched = np.empty(n, np.uint32)
    for i in range(first, last):
        p0, p1 = x_indptr[i], x_indptr[i + 1]
        if p1 == p0 or i + 1 >= n:
            continue
        starts = np.empty(p1 - p0, np.int64)
        postings = 0
        for p in range(p0, p1):
            t = x_indices[p]
            a, z = xt_indptr[t], xt_indptr[t + 1]
            starts[p - p0] = a + np.searchsorted(xt_indices[a:z], i + 1)
            postings += z - starts[p - p0]
        dense = postings * dense_share > n - i - 1
        n_touched = 0
        for p in range(p0, p1):
            n_touched = add_postings(x_data[p], starts[p - p0], xt_indptr[x_indices[p] + 1],
                                      xt_indices, xt_data, acc, dense, seen, touched,
                                      n_touched)
        # one comparison per row, rarely true once the buffers are full: lowest[j] is 0
        # (a partial sum of 0 shares no term, the values being non-negative) until row j's
        # buffer is full, then its last; n floats, in cache, where the buffers are not
        for m in range(n - i - 1 if dense else n_touched):
            j = i + 1 + m if dense else touched[m]
            s = acc[j]
            if s > lowest[j] and allowed[i]:
                _offer(best[j], rows[j], counts, lowest, j, s, i)
            if s > lowest[i] and allowed[j]:
                _offer(best[i], rows[i], counts, lowest, i, s, j)
        clear_partial(acc, seen, touched, n_touched, dense, i + 1, n)


@njit(nogil=True, cache=True, inline="always")
def _offer(best, rows, counts, lowest, r, s, j):
    """Keep (s, j) among the ``len(best)`` best partial sums of row ``r`` (``s`` is above
    ``lowest[r]``, the last of a full buffer)."""
    width = best.shape[0]
    n = counts[r]
    pos = n if n < width else width - 1
    while pos > 0 and s > best[pos - 1]:
        best[pos] = best[pos - 1]
        rows[pos] = rows[pos - 1]
        pos -= 1
    best[pos] = s
    rows[pos] = j
    if n < width:
        counts[r] = n + 1
    if counts[r] == width:
        lowest[r] = best[width - 1]


@njit(nogil=True, cache=True)
def _merge(first, last, x_indptr, x_indices, x_data, k, margin, best, rows, counts,
           fallback, out_indices, out_scores):
    """Rows ``first <= i < last``: the exact top-k from the candidates of every buffer, or
    ``fallback[i]`` when a buffer may have dropped one."""
    n_buffers, n, width = best.shape
    query = np.zeros(x_indices.max() + 1 if x_indices.shape[0] else 1, np.float32)
    partial = np.empty(n_buffers * width, np.float32)
    for i in range(first, last):
        total = 0
        for b in range(n_buffers):
            for m in range(counts[b, i]):
                partial[total] = best[b, i, m]
                total += 1
        if total == 0:
            continue
        floor = -margin
        if total >= k:
            floor = np.sort(partial[:total])[total - k] - 2 * margin
        sure = True
        for b in range(n_buffers):  # a full buffer that ends above the floor may lack one
            if counts[b, i] == width and best[b, i, width - 1] >= floor:
                sure = False
        if not sure:
            fallback[i] = True
            continue
        for e in range(x_indptr[i], x_indptr[i + 1]):
            query[x_indices[e]] = x_data[e]
        n_out = 0
        for b in range(n_buffers):
            for m in range(counts[b, i]):
                if best[b, i, m] >= floor:
                    j = rows[b, i, m]
                    s = exact_score(j, x_indptr, x_indices, x_data, query)
                    if s > 0.0:
                        n_out = insert_best(s, j, n_out, k, out_scores[i], out_indices[i])
        for e in range(x_indptr[i], x_indptr[i + 1]):
            query[x_indices[e]] = 0.0
