"""Exact cosine top-k over L2-normalised sparse rows, in blocks of bounded memory.

``top_k(Q, X, k)`` scores every row of ``Q`` against the rows of ``X`` (both CSR with unit
rows, so a dot product is a cosine) and keeps the ``k`` best of each query. Queries are
taken in blocks: a block's scores are one dense ``(block, candidates)`` array, its size
bounded by ``max_block_bytes``, never ``n × n``. Candidates are restricted before the
top-k, never after: each query may have its own window ``[lo, hi)`` of rows of ``X`` (the
model keeps its rows in publication order, so a date window is a row range), a row to skip
(itself), and a global mask of allowed rows (categories, exclusions). Only positive scores
are returned; the rest is padding, ``-1`` for the index and ``-inf`` for the score.

Two implementations give those results. When numba is installed (``pip install
'recommender[fast]'``), :mod:`recommender.kernel` scores each query from the posting lists
in compiled code, several times faster (and :mod:`recommender.allpairs` scores every row
of ``X`` against the others, reading each pair once); otherwise, or with
``method="scipy"``, the blocks of dense scores described above. The scipy path stays as
the fallback and as the oracle of the tests.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

__all__ = ["DEFAULT_BLOCK_BYTES", "METHODS", "check_k", "fast_kernel", "top_k"]

#: Values of ``top_k(..., method=)``.
METHODS = ("auto", "numba", "scipy")

#: Memory for one block's dense scores (the product, the mask and argpartition's work).
DEFAULT_BLOCK_BYTES = 256 * 2**20
_BYTES_PER_CELL = 4 + 1 + 8  # float32 score, bool mask, int64 partition index


def check_k(k, name: str = "k") -> int:
    """``k`` as an int, or a ValueError that names it (as ``name``)."""
    shown = k.item() if isinstance(k, np.generic) else k  # np.True_ shown as True
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"{name} must be a positive integer, got {shown!r}")
    if k <= 0:
        raise ValueError(f"{name} must be a positive integer, got {shown}")
    return int(k)


def top_k(Q: sp.csr_matrix, X: sp.csr_matrix, k: int, *, lo=None, hi=None, skip=None,
          allowed=None, XT: sp.csr_matrix | None = None,
          max_block_bytes: int = DEFAULT_BLOCK_BYTES, n_jobs: int = 1, method: str = "auto"):
    """The ``k`` rows of ``X`` most similar to each row of ``Q``.

    Parameters
    ----------
    Q : csr_matrix of shape (n_queries, n_terms)
    X : csr_matrix of shape (n_rows, n_terms)
        Both with L2-normalised rows (float32).
    k : int
        Clipped to ``n_rows``.
    lo, hi : int arrays of shape (n_queries,), optional
        Query ``i`` only sees rows ``lo[i] <= j < hi[i]`` (cut to ``[0, n_rows]``);
        default all rows.
    skip : int array of shape (n_queries,), optional
        A row that query ``i`` must not return (itself), or -1.
    allowed : bool array of shape (n_rows,), optional
        Rows that any query may return.
    XT : csr_matrix of shape (n_terms, n_rows), optional
        ``X.T`` as CSR (the posting lists). With it, a block of few queries is scored from
        the postings of its terms (``Q @ XT``) instead of a pass over every row of its
        window (``Q @ X[a:z].T``), whichever costs less: one article in about a
        millisecond instead of a pass over the whole index.
    max_block_bytes : int
        Memory for one block of dense scores; a block holds at least one query (scipy
        method only: the numba kernel needs two arrays of ``n_rows`` per thread).
    n_jobs : int
        Threads (the sparse product releases the GIL); -1 for one per CPU.
    method : {"auto", "numba", "scipy"}
        ``"numba"``: the compiled kernel of :mod:`recommender.kernel` (needs numba);
        ``"scipy"``: blocks of dense scores; ``"auto"``: numba when it is installed.
        Both return the same lists; scores may differ in the last float32 bit, and rows
        whose scores tie may come in another order (the numba kernel ranks ties by row).

    Returns
    -------
    indices : int64 array of shape (n_queries, k)
        Best first, equal scores in row order; -1 where fewer than ``k`` rows have a
        positive score.
    scores : float32 array of shape (n_queries, k)
        Cosine similarities, non-increasing along each row; -inf with the -1 padding.
    """
    k = min(check_k(k), X.shape[0])
    kernel = _choose(method)
    n_queries, n_rows = Q.shape[0], X.shape[0]
    if Q.shape[1] != X.shape[1]:
        raise ValueError(f"queries have {Q.shape[1]} terms but the index has {X.shape[1]}")
    lo = np.zeros(n_queries, np.int64) if lo is None else _per_query(lo, n_queries, "lo")
    hi = np.full(n_queries, n_rows, np.int64) if hi is None else _per_query(hi, n_queries, "hi")
    # A window reaching outside the index is cut to it (a negative lo would wrap around).
    lo, hi = np.clip(lo, 0, n_rows), np.clip(hi, 0, n_rows)
    skip = np.full(n_queries, -1, np.int64) if skip is None else _per_query(skip, n_queries,
                                                                            "skip")
    if allowed is not None:
        allowed = np.asarray(allowed, dtype=bool)
        if allowed.shape != (n_rows,):
            raise ValueError(f"allowed must have shape ({n_rows},), got {allowed.shape}")
    n_jobs = _check_jobs(n_jobs)
    indices = np.full((n_queries, k), -1, np.int64)
    scores = np.full((n_queries, k), -np.inf, np.float32)
    if k == 0 or n_queries == 0:
        return indices, scores
    Q = sp.csr_matrix(Q, dtype=np.float32)
    X = sp.csr_matrix(X, dtype=np.float32)
    if kernel is not None:
        XT = X.T.tocsr() if XT is None else _postings(XT, X)
        if not Q.has_canonical_format:  # the kernel needs each term of a query once
            Q = Q.copy()
            Q.sum_duplicates()
        from . import allpairs

        if allpairs.is_all_pairs(Q, X, k, lo, hi, skip, n_jobs):  # the neighbour table
            return allpairs.top_k_all_pairs(X, XT, k, allowed, n_jobs)
        return kernel.top_k_postings(Q, X, XT, k, lo, hi, skip, allowed, n_jobs)
    products = _Products(X, XT, max_block_bytes)

    def run(rows):
        i, s = _block_top_k(Q[rows], products, k, lo[rows], hi[rows], skip[rows], allowed)
        indices[rows], scores[rows] = i, s

    blocks = _plan_blocks(lo, hi, max_block_bytes)
    if n_jobs == 1 or len(blocks) == 1:
        for block in blocks:
            run(block)
    else:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            list(pool.map(run, blocks))
    return indices, scores


def fast_kernel():
    """:mod:`recommender.kernel`, or None when numba is not installed."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return None
    from . import kernel

    return kernel


def _choose(method):
    """The kernel module for ``method``, or None for the scipy path."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, "
                         f"got {method!r}")
    if method == "scipy":
        return None
    kernel = fast_kernel()
    if kernel is None and method == "numba":
        raise ImportError("method='numba' needs numba, which is not installed; install it "
                          "with: pip install 'recommender[fast]' (or use method='auto', "
                          "which falls back to scipy)")
    return kernel


def _postings(XT, X) -> sp.csr_matrix:
    """``XT`` as float32 CSR with sorted indices, once checked to be ``X.T``'s shape."""
    if not (sp.isspmatrix_csr(XT) and XT.dtype == np.float32):
        XT = sp.csr_matrix(XT, dtype=np.float32)  # kept as it is otherwise: its checks are cached
    if XT.shape != (X.shape[1], X.shape[0]):
        raise ValueError(f"XT must be X.T, shape {(X.shape[1], X.shape[0])}, "
                         f"got {XT.shape}")
    if not XT.has_sorted_indices:
        XT = XT.sorted_indices()
    return XT


def _per_query(values, n_queries: int, name: str) -> np.ndarray:
    values = np.asarray(values, np.int64)
    if values.shape != (n_queries,):
        raise ValueError(f"{name} must have one value per query, shape ({n_queries},), "
                         f"got shape {values.shape}")
    return values


def _check_jobs(n_jobs) -> int:
    """Threads to use: a positive int, or -1 for one per CPU."""
    if n_jobs == -1 and not isinstance(n_jobs, bool):
        return os.cpu_count() or 1
    if isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, (int, np.integer)) \
            or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer or -1 (one thread per CPU), "
                         f"got {n_jobs!r}")
    return int(n_jobs)


def _plan_blocks(lo, hi, max_block_bytes) -> list[np.ndarray]:
    """Group queries with nearby windows so that each block's candidate range is tight.

    A block's dense scores span from its smallest ``lo`` to its largest ``hi``; queries
    are sorted by window and a block closes when its span times its size would pass the
    byte budget.
    """
    order = np.lexsort((hi, lo))
    blocks, start = [], 0
    block_lo, block_hi = None, None
    for pos, q in enumerate(order):
        new_lo = lo[q] if block_lo is None else min(block_lo, lo[q])
        new_hi = hi[q] if block_hi is None else max(block_hi, hi[q])
        size = pos - start + 1
        if size > 1 and size * max(new_hi - new_lo, 1) * _BYTES_PER_CELL > max_block_bytes:
            blocks.append(order[start:pos])
            start, new_lo, new_hi = pos, lo[q], hi[q]
        block_lo, block_hi = new_lo, new_hi
    blocks.append(order[start:])
    return blocks


class _Products:
    """Dense scores of a block of queries against a window of rows, the cheaper way.

    ``Qb @ X[a:z].T`` reads (and transposes) every non-zero of the window; ``Qb @ XT``
    reads the postings of the block's terms over all rows, then keeps the window. Both do the same
    multiply-adds inside the window; the estimate compares what each reads and fills.
    """

    def __init__(self, X, XT, max_block_bytes):
        self.X = X
        self.XT = None if XT is None else _postings(XT, X)
        self.df = None if XT is None else np.diff(self.XT.indptr)
        self.max_block_bytes = max_block_bytes

    def by_terms(self, Qb, a: int, z: int) -> bool:
        """Whether the postings of the block's terms are the cheaper way to its scores."""
        X, n = self.X, self.X.shape[0]
        if self.XT is None or Qb.shape[0] * n * _BYTES_PER_CELL > self.max_block_bytes:
            return False
        window_nnz = int(X.indptr[z] - X.indptr[a])
        postings = int(self.df[Qb.indices].sum())
        share = window_nnz / max(X.nnz, 1)
        return (Qb.nnz + postings + Qb.shape[0] * n
                < window_nnz + postings * share + Qb.shape[0] * (z - a))

    def __call__(self, Qb, a: int, z: int) -> np.ndarray:
        if self.by_terms(Qb, a, z):
            return _dense_product(Qb, self.XT)[:, a:z]
        return _dense_product(Qb, self.X[a:z].T)


def _dense_product(A, B) -> np.ndarray:
    """``A @ B`` of two sparse float32 matrices, as a dense array.

    Recent scikit-learn has a kernel that writes the product straight into a dense
    array, about three times faster than scipy's sparse product followed by ``toarray``;
    it holds the GIL, so threads overlap it with the numpy work on other blocks.
    """
    if _sparse_matmul_to_dense is not None:
        return _sparse_matmul_to_dense(sp.csr_matrix(A), B)
    return (A @ B).toarray()


try:
    from sklearn.utils.sparsefuncs import sparse_matmul_to_dense as _sparse_matmul_to_dense
except ImportError:  # an older scikit-learn: scipy alone
    _sparse_matmul_to_dense = None


def _block_top_k(Qb, products, k, lo, hi, skip, allowed):
    a, z = int(lo.min()), int(hi.max())
    width = z - a
    n = Qb.shape[0]
    indices = np.full((n, k), -1, np.int64)
    scores = np.full((n, k), -np.inf, np.float32)
    if width <= 0:
        return indices, scores
    S = np.ascontiguousarray(products(Qb, a, z), dtype=np.float32)  # (n, width)
    cols = np.arange(a, z)
    invalid = S <= 0
    if (lo > a).any() or (hi < z).any():
        invalid |= (cols < lo[:, None]) | (cols >= hi[:, None])
    if allowed is not None:
        invalid |= ~allowed[a:z]
    inside = (skip >= a) & (skip < z)
    invalid[np.flatnonzero(inside), skip[inside] - a] = True
    S[invalid] = -np.inf
    kk = min(k, width)
    if kk < width:
        part = np.argpartition(S, width - kk, axis=1)[:, width - kk:]
    else:
        part = np.broadcast_to(np.arange(width), (n, width))
    best = np.take_along_axis(S, part, axis=1)
    order = np.lexsort((part, -best), axis=1)  # best first; equal scores: the lower row
    best = np.take_along_axis(best, order, axis=1)
    part = np.take_along_axis(part, order, axis=1) + a
    part[~np.isfinite(best)] = -1
    indices[:, :kk], scores[:, :kk] = part, best
    return indices, scores
