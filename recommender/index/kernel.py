"""Exact cosine top-k compiled with numba: each query scored from the posting lists.

:func:`top_k_postings` has the semantics of :func:`recommender.index.topk.top_k` (windows
``[lo, hi)``, a row to skip, an allowed mask, positive scores only, ``-1``/``-inf``
padding, best first) and is what ``top_k`` runs when numba is installed.

One query at a time, row-wise Gustavson over ``X.T`` (the posting lists, each cut to the
query's window by binary search): the postings of the query's terms are added into a
dense float32 accumulator, with a list of the touched rows when they are few (selection
and clearing then cost what the query touched), or over the whole window when they are
many. One pass over the candidates keeps the ``k`` best partial sums in a small sorted
buffer, rejecting most rows with a single comparison, and notes every row that comes
near them; those few are then scored exactly. The most common terms, given as dense rows
(:mod:`recommender.index.dense`), are added over a window from those rather than from their
postings.

"Exactly" is one canonical sum: the row's non-zeros in column order times the query's
weights, in float64, rounded to float32. Every returned score is that sum, and the list
is the ``k`` best by it (ties to the lower row). A float32 partial sum is within a margin
of it, so the rows left out by the partial sums cannot be in the exact top-k; and the
list does not depend on ``k`` (the best 5 are the first 5 of the best 50), on the batch,
or on the threads.

(MaxScore-style pruning was measured on the full corpus and left out. Skipping the
postings of the most common terms when their bound ``sum |q_t| max_j |x_jt|`` is below
the ``k``-th score saved at most a quarter of the work even knowing the 10th score in
advance: those terms bound 0.2 to 1.3 while the 10th cosine is about 0.2. With a second,
per-row bound (Cauchy-Schwarz over the common terms, ``|q_H| |x_jH|``) the simulated work
fell to about 0.65, but the compiled version was slower than plain Gustavson: the extra
passes over the window and the exact scores of the candidates, rows read at random, cost
more than the skipped postings, which are read in order.)

Threads: the queries are cut into chunks, and a pool of ``n_jobs`` Python threads runs
the compiled function (``nogil=True``) on them, each chunk with its own scratch arrays.
Plain threads rather than numba's ``prange``: the count is exactly ``n_jobs``, and a
model serving requests from several threads never launches parallel regions from two
threads at once (which numba's default threading layer does not support).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from numba import njit

from ..errors import ParameterError
from .dense import DensePostings
from .primitives import (MARGIN, ROUNDING, add_postings, clear_partial, csr_parts, exact_score,
                         insert_best, thread_spans)

__all__ = ["BUFFER_K", "DENSE_SHARE", "strongest_mask", "top_k_postings"]

#: Up to this ``k`` the best rows are kept in a sorted buffer; above, found by partition.
BUFFER_K = 128
#: When a query's postings times this pass its window's rows, they are added without a
#: list of the touched rows: a pass over the window is then cheaper than the bookkeeping
#: (0: always a list; a large value: always the window).
DENSE_SHARE = 4


def top_k_postings(Q: sp.csr_matrix, X: sp.csr_matrix, XT: sp.csr_matrix, k: int,
                   lo: np.ndarray, hi: np.ndarray, skip: np.ndarray,
                   allowed: np.ndarray | None, n_jobs: int = 1, *,
                   dense_terms: DensePostings | None = None, buffer_k: int = BUFFER_K,
                   dense_share: int = DENSE_SHARE):
    """The ``k`` best rows of ``X`` for each row of ``Q``, scored from the postings ``XT``.

    Parameters
    ----------
    Q : csr_matrix of shape (n_queries, n_terms), float32
    X : csr_matrix of shape (n_rows, n_terms), float32
        Rows of unit L2 norm (the margin between partial and exact sums relies on it).
    XT : csr_matrix of shape (n_terms, n_rows), float32
        ``X.T`` as CSR with sorted indices (row numbers ascending in each posting list).
    k : int
        Already clipped to ``1 <= k <= n_rows``.
    lo, hi : int64 arrays of shape (n_queries,)
        Windows, already cut to ``[0, n_rows]``.
    skip : int64 array of shape (n_queries,)
        A row each query must not return, or -1.
    allowed : bool array of shape (n_rows,), or None
    n_jobs : int
        Threads, at least 1.
    dense_terms : DensePostings, optional
        The common terms' postings as dense rows
        (:func:`~recommender.index.dense.dense_postings` of ``XT``): a query whose partial
        sums cover its whole window adds those from them. The partial sums are the same,
        bit for bit (the same values added in the same order, and zeros), so are the
        lists.
    buffer_k, dense_share : int
        :data:`BUFFER_K` and :data:`DENSE_SHARE` (tests set them to reach every path).

    Returns
    -------
    indices : int64 array of shape (n_queries, k)
    scores : float32 array of shape (n_queries, k)
        Best first; -1 and -inf after the last positive score.
    """
    n_queries, n_rows = Q.shape[0], X.shape[0]
    indices = np.full((n_queries, k), -1, np.int64)
    scores = np.full((n_queries, k), -np.inf, np.float32)
    if n_queries == 0 or k == 0:
        return indices, scores
    allowed = np.ones(n_rows, np.bool_) if allowed is None else allowed
    if dense_terms is None:
        dense_terms = DensePostings(np.full(XT.shape[0], -1, np.int32),
                                    np.zeros((0, 0), np.float32), 0)
    slot, values, start = dense_terms
    if (slot.shape != (XT.shape[0],)  # read unchecked by the compiled code
            or values.shape[0] != max(int(slot.max(initial=-1)) + 1, 0)
            or not 0 <= start <= start + values.shape[1] <= n_rows):
        raise ParameterError(f"dense_terms are not those of these postings: {len(slot)} "
                             f"terms and rows {start} to {start + values.shape[1]}, for "
                             f"{XT.shape[0]} terms and {n_rows} rows")
    parts = (*csr_parts(Q), *csr_parts(X), *csr_parts(XT), slot, values, np.int64(start))
    if n_jobs > 1 and n_queries < n_jobs and n_rows >= n_jobs:
        return _split_rows(parts, k, lo, hi, skip, allowed, n_jobs, buffer_k, dense_share,
                           indices, scores)
    args = (*parts, lo, hi, skip, allowed, buffer_k, dense_share, indices, scores)

    def run(span):
        _score_queries(span[0], span[1], *args)

    spans = thread_spans(n_queries, n_jobs)
    if len(spans) == 1:
        run(spans[0])
    else:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            list(pool.map(run, spans))
    return indices, scores


def strongest_mask(X: sp.csr_matrix, n: int) -> np.ndarray:
    """Which stored entries of ``X`` are among the ``n`` largest of their row (ties at the
    cut to the lowest column): :func:`recommender.index.topk.keep_strongest` in one pass
    over the rows, where sorting every entry of a million rows takes minutes."""
    keep = np.empty(X.nnz, np.bool_)
    _strongest(*csr_parts(X), n, keep)
    return keep


@njit(nogil=True, cache=True)
def _strongest(indptr, indices, data, n, keep):
    for i in range(indptr.shape[0] - 1):
        a, z = indptr[i], indptr[i + 1]
        if z - a <= n:
            keep[a:z] = True
            continue
        values = data[a:z]
        cut = -np.partition(-values, n - 1)[n - 1]  # the n-th largest value
        above = 0
        for e in range(a, z):
            above += data[e] > cut
        # of the values equal to the cut, the n - above of lowest column
        tied = np.sort(indices[a:z][values == cut])
        last = tied[n - above - 1]
        for e in range(a, z):
            keep[e] = data[e] > cut or (data[e] == cut and indices[e] <= last)


def _split_rows(parts, k, lo, hi, skip, allowed, n_jobs, buffer_k, dense_share, indices,
                scores):
    """Fewer queries than threads (one request): each thread takes a range of rows, and
    the ranges' lists are merged by (score, row), which is the list over all rows."""
    n_queries, n_rows = lo.shape[0], allowed.shape[0]
    bounds = np.linspace(0, n_rows, n_jobs + 1).astype(np.int64)
    pieces = []

    def run(r):
        piece = (np.full((n_queries, k), -1, np.int64),
                 np.full((n_queries, k), -np.inf, np.float32))
        _score_queries(0, n_queries, *parts, np.clip(lo, bounds[r], bounds[r + 1]),
                       np.clip(hi, bounds[r], bounds[r + 1]), skip, allowed, buffer_k,
                       dense_share, *piece)
        return piece

    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        pieces = list(pool.map(run, range(n_jobs)))
    every_index = np.concatenate([p[0] for p in pieces], axis=1)
    every_score = np.concatenate([p[1] for p in pieces], axis=1)
    for i in range(n_queries):  # fewer than n_jobs rows
        order = np.lexsort((every_index[i], -every_score[i]))[:k]
        indices[i], scores[i] = every_index[i, order], every_score[i, order]
    indices[~np.isfinite(scores)] = -1
    return indices, scores


@njit(nogil=True, cache=True)
def _score_queries(first, last, q_indptr, q_indices, q_data, x_indptr, x_indices, x_data,
                   xt_indptr, xt_indices, xt_data, slot, values, dense_start, lo, hi, skip,
                   allowed, buffer_k, dense_share, out_indices, out_scores):
    """Queries ``first <= i < last``: their top-k written into the output rows."""
    n_terms = xt_indptr.shape[0] - 1
    n_rows = allowed.shape[0]
    k = out_indices.shape[1]
    acc = np.zeros(n_rows, np.float32)  # partial sums
    acc_dense = acc[dense_start:dense_start + values.shape[1]]  # the dense values' rows
    seen = np.zeros(n_rows, np.bool_)
    touched = np.empty(n_rows, np.uint32)
    query = np.zeros(n_terms, np.float32)
    partial_s = np.empty(min(k, buffer_k), np.float32)  # the best partial sums
    partial_j = np.empty(min(k, buffer_k), np.int64)
    near = np.empty(n_rows, np.uint32)  # rows whose partial sum is near the best k
    for i in range(first, last):
        a, z = lo[i], hi[i]
        q0, q1 = q_indptr[i], q_indptr[i + 1]
        if z <= a or q1 == q0:
            continue
        # each term's postings inside the window
        starts = np.empty(q1 - q0, np.int64)
        stops = np.empty(q1 - q0, np.int64)
        postings = 0
        for p in range(q0, q1):
            t = q_indices[p]
            start, stop = xt_indptr[t], xt_indptr[t + 1]
            if a > 0:
                start += np.searchsorted(xt_indices[start:stop], a)
            if z < n_rows:
                stop = start + np.searchsorted(xt_indices[start:stop], z)
            starts[p - q0], stops[p - q0] = start, stop
            postings += stop - start
        # partial sums: with a list of the touched rows, or over the whole window
        dense = postings * dense_share > z - a
        n_touched = 0
        for p in range(q0, q1):
            c = slot[q_indices[p]]
            if dense and c >= 0:  # unsigned indices: no test for a negative one, so the
                w = q_data[p]     # compiler vectorises the loop (ten times faster)
                row = values[c]
                for j in range(np.uint64(max(a - dense_start, 0)),
                               np.uint64(max(min(z - dense_start, row.shape[0]), 0))):
                    acc_dense[j] += w * row[j]
            else:
                n_touched = add_postings(q_data[p], starts[p - q0], stops[p - q0],
                                         xt_indices, xt_data, acc, dense, seen, touched,
                                         n_touched)
        # the exact top-k among the rows whose partial sum is near the k-th best
        norm = 0.0
        for p in range(q0, q1):
            query[q_indices[p]] = q_data[p]
            norm += np.float64(q_data[p]) ** 2
        # a score's products add up to at most |q| in absolute value (unit rows of X)
        margin = (MARGIN + (q1 - q0) * ROUNDING) * max(1.0, np.sqrt(norm))
        count = z - a if dense else n_touched
        if k <= buffer_k:
            n_near = _near_best(touched, count, a, dense, acc, skip[i], allowed, margin,
                                partial_s, partial_j, near)
            n = 0
            for m in range(n_near):
                j = near[m]
                if acc[j] >= partial_s[k - 1] - 2 * margin:
                    s = exact_score(j, x_indptr, x_indices, x_data, query)
                    if s > 0.0:
                        n = insert_best(s, j, n, k, out_scores[i], out_indices[i])
        else:
            _best_exact_sorted(touched, count, a, dense, acc, skip[i], allowed, k, margin,
                               x_indptr, x_indices, x_data, query, out_indices[i],
                               out_scores[i])
        clear_partial(acc, seen, touched, n_touched, dense, a, z)  # for the next query
        for p in range(q0, q1):
            query[q_indices[p]] = 0.0


@njit(nogil=True, cache=True)
def _near_best(touched, count, a, dense, acc, skip, allowed, margin, buf_s, buf_j, near):
    """One pass over the candidates: the ``k`` best partial sums in ``buf_s`` (``k`` its
    length; -inf where fewer), and in ``near`` every row whose partial sum came within
    ``2 * margin`` of the ``k``-th best so far, so of the final ``k``-th best. Returns
    the number of rows in ``near``."""
    k = buf_s.shape[0]
    buf_s[:] = -np.inf
    buf_j[:] = -1
    n = 0
    n_near = 0
    floor = -margin
    for m in range(count):
        j = a + m if dense else touched[m]
        s = acc[j]
        # at or below -margin: not positive; below floor: not near the best k
        if s <= -margin or s < floor or j == skip or not allowed[j]:
            continue
        near[n_near] = j
        n_near += 1
        n = insert_best(s, j, n, k, buf_s, buf_j)
        if n == k:
            floor = buf_s[k - 1] - 2 * margin
    if n < k:
        buf_s[k - 1] = -margin  # fewer than k: every row with a positive score counts
    return n_near


@njit(nogil=True, cache=True)
def _best_exact_sorted(touched, count, a, dense, acc, skip, allowed, k, margin, x_indptr,
                       x_indices, x_data, query, out_index, out_score):
    """The exact top-k for a large ``k``: the ``k``-th best partial sum found by partition,
    then every row within ``2 * margin`` of it scored exactly and sorted."""
    rows = np.empty(count, np.int64)
    n = 0
    for m in range(count):
        j = a + m if dense else touched[m]
        if acc[j] > -margin and j != skip and allowed[j]:
            rows[n] = j
            n += 1
    rows = rows[:n]
    floor = -margin
    if n > k:
        negated = np.empty(n, np.float32)
        for m in range(n):
            negated[m] = -acc[rows[m]]
        floor = max(floor, -np.partition(negated, k - 1)[k - 1] - 2 * margin)
    keep = np.empty(n, np.int64)
    negated_exact = np.empty(n, np.float32)
    n_keep = 0
    for m in range(n):
        j = rows[m]
        if acc[j] >= floor:
            s = exact_score(j, x_indptr, x_indices, x_data, query)
            if s > 0.0:
                keep[n_keep] = j
                negated_exact[n_keep] = -s
                n_keep += 1
    keep = keep[:n_keep]
    negated_exact = negated_exact[:n_keep]
    by_row = np.argsort(keep)  # then a stable sort by score sends ties to the lower row
    keep = keep[by_row]
    negated_exact = negated_exact[by_row]
    order = np.argsort(negated_exact, kind="mergesort")
    for m in range(min(n_keep, k)):
        out_index[m] = keep[order[m]]
        out_score[m] = -negated_exact[order[m]]
