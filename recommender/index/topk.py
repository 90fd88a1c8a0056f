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
'recommender[fast]'``), :mod:`recommender.index.kernel` scores each query from the posting
lists in compiled code, several times faster (and :mod:`recommender.index.allpairs` scores
every row of ``X`` against the others, reading each pair once); otherwise, or with
``method="scipy"``, the blocks of dense scores described above
(:mod:`recommender.index.blocks`). The scipy path stays as the fallback and as the oracle
of the tests.

:func:`keep_strongest` cuts each query to its strongest terms, with a compiled kernel too
when numba is installed.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._checks import check_int, check_jobs
from ..errors import MissingDependencyError, ParameterError
from . import blocks

__all__ = ["DEFAULT_BLOCK_BYTES", "METHODS", "check_k", "fast_kernel", "keep_strongest", "top_k"]

#: Values of ``top_k(..., method=)``.
METHODS = ("auto", "numba", "scipy")

#: Memory for one block's dense scores (the product, the mask and argpartition's work).
DEFAULT_BLOCK_BYTES = 256 * 2**20


def check_k(k, name: str = "k") -> int:
    """``k`` as an int, or a :class:`~recommender.errors.ParameterError` that names it (as
    ``name``)."""
    return check_int(k, name)


def top_k(Q: sp.csr_matrix, X: sp.csr_matrix, k: int, *, lo=None, hi=None, skip=None,
          allowed=None, XT: sp.csr_matrix | None = None, dense_terms=None,
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
    dense_terms : DensePostings, optional
        The most common terms' postings of ``XT`` as dense rows
        (:func:`recommender.index.dense.dense_postings`), which the numba kernel adds
        faster: the same lists.
    max_block_bytes : int
        Memory for one block of dense scores; a block holds at least one query (scipy
        method only: the numba kernel needs two arrays of ``n_rows`` per thread).
    n_jobs : int
        Threads (the sparse product releases the GIL); -1 for one per CPU.
    method : {"auto", "numba", "scipy"}
        ``"numba"``: the compiled kernel of :mod:`recommender.index.kernel` (needs numba);
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
        raise ParameterError(f"queries have {Q.shape[1]} terms but the index has "
                             f"{X.shape[1]}")
    lo, hi, skip = _windows(lo, hi, skip, n_queries, n_rows)
    if allowed is not None:
        allowed = np.asarray(allowed, dtype=bool)
        if allowed.shape != (n_rows,):
            raise ParameterError(f"allowed must have shape ({n_rows},), got {allowed.shape}")
    n_jobs = check_jobs(n_jobs)
    if k == 0 or n_queries == 0:
        return np.full((n_queries, k), -1, np.int64), np.full((n_queries, k), -np.inf,
                                                              np.float32)
    Q = sp.csr_matrix(Q, dtype=np.float32)
    X = sp.csr_matrix(X, dtype=np.float32)
    if kernel is None:
        return blocks.top_k_blocks(Q, X, k, lo, hi, skip, allowed, XT, max_block_bytes,
                                   n_jobs)
    XT = X.T.tocsr() if XT is None else blocks.as_postings(XT, X)
    if not Q.has_canonical_format:  # the kernel needs each term of a query once
        Q = Q.copy()
        Q.sum_duplicates()
    # imported here, not at the top: allpairs needs numba, which is optional (the kernel
    # module is not None, so numba is installed)
    from . import allpairs

    if allpairs.is_all_pairs(Q, X, k, lo, hi, skip, n_jobs):  # the neighbour table
        return allpairs.top_k_all_pairs(X, XT, k, allowed, n_jobs)
    return kernel.top_k_postings(Q, X, XT, k, lo, hi, skip, allowed, n_jobs,
                                 dense_terms=dense_terms)


def fast_kernel():
    """:mod:`recommender.index.kernel`, or None when numba is not installed."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return None
    # imported here, not at the top: the kernel needs numba, which is optional
    from . import kernel

    return kernel


def _choose(method):
    """The kernel module for ``method``, or None for the scipy path."""
    if method not in METHODS:
        raise ParameterError(f"method must be one of {', '.join(map(repr, METHODS))}, "
                             f"got {method!r}")
    if method == "scipy":
        return None
    kernel = fast_kernel()
    if kernel is None and method == "numba":
        raise MissingDependencyError(
            "method='numba' needs numba, which is not installed; install it with: pip "
            "install 'recommender[fast]' (or use method='auto', which falls back to scipy)")
    return kernel


def _windows(lo, hi, skip, n_queries: int, n_rows: int):
    """Each query's window ``[lo, hi)`` cut to ``[0, n_rows]`` and the row it skips, as
    int64 arrays (defaults: every row, none skipped)."""
    lo = np.zeros(n_queries, np.int64) if lo is None else _per_query(lo, n_queries, "lo")
    hi = np.full(n_queries, n_rows, np.int64) if hi is None else _per_query(hi, n_queries, "hi")
    skip = np.full(n_queries, -1, np.int64) if skip is None else _per_query(skip, n_queries,
                                                                            "skip")
    # A window reaching outside the index is cut to it (a negative lo would wrap around).
    return np.clip(lo, 0, n_rows), np.clip(hi, 0, n_rows), skip


def _per_query(values, n_queries: int, name: str) -> np.ndarray:
    values = np.asarray(values, np.int64)
    if values.shape != (n_queries,):
        raise ParameterError(f"{name} must have one value per query, shape ({n_queries},), "
                             f"got shape {values.shape}")
    return values


def keep_strongest(X: sp.csr_matrix, n: int) -> sp.csr_matrix:
    """Keep the ``n`` largest entries of each row of a CSR matrix (a new matrix; ties at
    the cut are broken by column, lowest first): a query cut to its strongest terms.

    With numba, the compiled :func:`recommender.index.kernel.strongest_mask`, row by row;
    otherwise one numpy sort of every entry. Both keep the same entries."""
    X = sp.csr_matrix(X)
    lengths = np.diff(X.indptr)
    if X.nnz == 0 or lengths.max() <= n:
        return X.copy()
    kernel = fast_kernel()
    if kernel is not None:  # compiled, row by row
        keep = np.flatnonzero(kernel.strongest_mask(X, n))
    else:
        rows = np.repeat(np.arange(X.shape[0]), lengths)
        order = np.lexsort((X.indices, -X.data, rows))  # by row, then largest first
        rank = np.arange(X.nnz) - X.indptr[rows[order]]
        keep = np.sort(order[rank < n])
    indptr = np.concatenate([[0], np.cumsum(np.minimum(lengths, n))])
    return sp.csr_matrix((X.data[keep], X.indices[keep], indptr), shape=X.shape)
