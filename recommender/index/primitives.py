"""The pieces that both compiled kernels share: the float32 margin, the partial sums, the
canonical exact score, the sorted buffer of the best, and the CSR arrays and thread spans.

:mod:`recommender.index.kernel` (one query at a time) and :mod:`recommender.index.allpairs`
(every row against the others) are built from these, so that both compute the same
canonical score and rank ties the same way: that is what makes their lists equal, bit for
bit. The compiled functions are inlined into their callers (``inline="always"``), as they
were when they lived in the kernel's module.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["MARGIN", "ROUNDING", "add_postings", "clear_partial", "csr_parts", "exact_score",
           "insert_best", "thread_spans"]

#: Float32 partial sums are within this of the exact score (float32 rounding of a sum of
#: products whose absolute values add up to at most 1: unit rows)...
MARGIN = 1e-4
#: ...plus this per query term; times the query's norm when it is above 1.
ROUNDING = 1.2e-7


def csr_parts(M):
    """The CSR arrays of ``M`` in the kernel's types, copied only if they differ.

    The column numbers are read as unsigned: numba then indexes with them directly,
    without the test for a negative index that costs about a quarter of the time of the
    accumulation loop."""
    indices = M.indices
    indices = (indices.view(np.uint32) if indices.dtype == np.int32
               else indices.astype(np.uint32))
    return (M.indptr.astype(np.int64, copy=False), indices,
            M.data.astype(np.float32, copy=False))


def thread_spans(n: int, n_jobs: int) -> list[tuple[int, int]]:
    """Query ranges for the threads: several per thread so that an uneven one is absorbed,
    each worth enough queries that its scratch arrays cost nothing."""
    if n_jobs == 1:
        return [(0, n)]
    n_spans = min(n, 16 * n_jobs)
    bounds = np.linspace(0, n, n_spans + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]


@njit(nogil=True, cache=True, inline="always")
def add_postings(w, start, stop, xt_indices, xt_data, acc, dense, seen, touched, n_touched):
    """Add ``w`` times the postings ``[start, stop)`` into ``acc``; unless ``dense``, note
    each row the first time it is touched. Returns the new number of touched rows."""
    if dense:
        for e in range(start, stop):
            acc[xt_indices[e]] += w * xt_data[e]
    else:
        for e in range(start, stop):
            j = xt_indices[e]
            if not seen[j]:
                seen[j] = True
                touched[n_touched] = j
                n_touched += 1
            acc[j] += w * xt_data[e]
    return n_touched


@njit(nogil=True, cache=True, inline="always")
def clear_partial(acc, seen, touched, n_touched, dense, a, z):
    """Zero the partial sums (rows ``[a, z)`` when ``dense``, else the touched ones)."""
    if dense:
        acc[a:z] = 0.0
    else:
        for m in range(n_touched):
            acc[touched[m]] = 0.0
            seen[touched[m]] = False


@njit(nogil=True, cache=True, inline="always")
def exact_score(j, x_indptr, x_indices, x_data, query):
    """The canonical score of row ``j``: its non-zeros in order, summed in float64."""
    s = 0.0
    for e in range(x_indptr[j], x_indptr[j + 1]):
        s += np.float64(x_data[e]) * np.float64(query[x_indices[e]])
    return np.float32(s)


@njit(nogil=True, cache=True, inline="always")
def _better(s, j, s_ref, j_ref):
    """Whether (score s, row j) ranks before (s_ref, j_ref): higher score, then lower row."""
    return s > s_ref or (s == s_ref and j < j_ref)


@njit(nogil=True, cache=True, inline="always")
def insert_best(s, j, n, k, buf_s, buf_j):
    """Put (s, j) into the sorted buffer of ``n`` (at most ``k``) best; the new ``n``."""
    if n == k and not _better(s, j, buf_s[k - 1], buf_j[k - 1]):
        return n
    pos = n if n < k else k - 1  # shift the worse ones down
    while pos > 0 and _better(s, j, buf_s[pos - 1], buf_j[pos - 1]):
        buf_s[pos] = buf_s[pos - 1]
        buf_j[pos] = buf_j[pos - 1]
        pos -= 1
    buf_s[pos] = s
    buf_j[pos] = j
    return n + 1 if n < k else n
