"""The scipy path of :func:`recommender.index.topk.top_k`: blocks of dense scores of bounded
memory.

Queries are taken in blocks: a block's scores are one dense ``(block, candidates)`` array,
its size bounded by ``max_block_bytes``, never ``n × n``. :func:`plan_blocks` groups queries
with nearby windows so that a block's candidate range stays tight; :class:`Products` gets a
block's scores the cheaper way (from the rows of its window or from the postings of its
terms); :func:`block_top_k` keeps the ``k`` best of each query. This path needs no numba: it
is the fallback of the compiled kernels and the oracle of their tests.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from ..errors import ParameterError

__all__ = ["BYTES_PER_CELL", "Products", "as_postings", "block_top_k", "dense_product",
           "plan_blocks", "sparse_matmul_to_dense", "top_k_blocks"]

#: Memory per cell of a block's scores: float32 score, bool mask, int64 partition index.
BYTES_PER_CELL = 4 + 1 + 8


@lru_cache(maxsize=1)
def sparse_matmul_to_dense():
    """scikit-learn's kernel that writes a sparse product straight into a dense array, or
    None with an older scikit-learn (scipy's product then does the work). Imported on first
    use, not with this module: scikit-learn takes a second to import, and a command that
    never scores by blocks should not pay it (nor be interrupted in it)."""
    try:
        from sklearn.utils.sparsefuncs import sparse_matmul_to_dense as kernel
    except ImportError:
        return None
    return kernel


def top_k_blocks(Q: sp.csr_matrix, X: sp.csr_matrix, k: int, lo, hi, skip, allowed,
                 XT: sp.csr_matrix | None, max_block_bytes: int, n_jobs: int):
    """:func:`recommender.index.topk.top_k` by blocks of dense scores, its arguments already
    checked (float32 CSR, ``1 <= k <= n_rows``, windows cut to the index, ``n_jobs >= 1``).

    Returns ``(indices, scores)`` of shape ``(n_queries, k)`` as ``top_k`` does.
    """
    n_queries = Q.shape[0]
    indices = np.full((n_queries, k), -1, np.int64)
    scores = np.full((n_queries, k), -np.inf, np.float32)
    products = Products(X, XT, max_block_bytes)

    def run(rows):
        i, s = block_top_k(Q[rows], products, k, lo[rows], hi[rows], skip[rows], allowed)
        indices[rows], scores[rows] = i, s

    blocks = plan_blocks(lo, hi, max_block_bytes)
    if n_jobs == 1 or len(blocks) == 1:
        for block in blocks:
            run(block)
    else:
        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            list(pool.map(run, blocks))
    return indices, scores


def as_postings(XT, X) -> sp.csr_matrix:
    """``XT`` as float32 CSR with sorted indices, once checked to be ``X.T``'s shape."""
    if not (sp.isspmatrix_csr(XT) and XT.dtype == np.float32):
        XT = sp.csr_matrix(XT, dtype=np.float32)  # kept as it is otherwise: its checks are cached
    if XT.shape != (X.shape[1], X.shape[0]):
        raise ParameterError(f"XT must be X.T, shape {(X.shape[1], X.shape[0])}, "
                             f"got {XT.shape}")
    if not XT.has_sorted_indices:
        XT = XT.sorted_indices()
    return XT


def plan_blocks(lo, hi, max_block_bytes) -> list[np.ndarray]:
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
        if size > 1 and size * max(new_hi - new_lo, 1) * BYTES_PER_CELL > max_block_bytes:
            blocks.append(order[start:pos])
            start, new_lo, new_hi = pos, lo[q], hi[q]
        block_lo, block_hi = new_lo, new_hi
    blocks.append(order[start:])
    return blocks


class Products:
    """Dense scores of a block of queries against a window of rows, the cheaper way.

    ``Qb @ X[a:z].T`` reads (and transposes) every non-zero of the window; ``Qb @ XT``
    reads the postings of the block's terms over all rows, then keeps the window. Both do the same
    multiply-adds inside the window; the estimate compares what each reads and fills.
    """

    def __init__(self, X, XT, max_block_bytes):
        self.X = X
        self.XT = None if XT is None else as_postings(XT, X)
        self.df = None if XT is None else np.diff(self.XT.indptr)
        self.max_block_bytes = max_block_bytes

    def by_terms(self, Qb, a: int, z: int) -> bool:
        """Whether the postings of the block's terms are the cheaper way to its scores."""
        X, n = self.X, self.X.shape[0]
        if self.XT is None or Qb.shape[0] * n * BYTES_PER_CELL > self.max_block_bytes:
            return False
        window_nnz = int(X.indptr[z] - X.indptr[a])
        postings = int(self.df[Qb.indices].sum())
        share = window_nnz / max(X.nnz, 1)
        return (Qb.nnz + postings + Qb.shape[0] * n
                < window_nnz + postings * share + Qb.shape[0] * (z - a))

    def __call__(self, Qb, a: int, z: int) -> np.ndarray:
        if self.by_terms(Qb, a, z):
            return dense_product(Qb, self.XT)[:, a:z]
        return dense_product(Qb, self.X[a:z].T)


def dense_product(A, B) -> np.ndarray:
    """``A @ B`` of two sparse float32 matrices, as a dense array.

    Recent scikit-learn has a kernel that writes the product straight into a dense
    array (:func:`sparse_matmul_to_dense`), about three times faster than scipy's sparse
    product followed by ``toarray``; it holds the GIL, so threads overlap it with the numpy
    work on other blocks.
    """
    kernel = sparse_matmul_to_dense()
    if kernel is not None:
        return kernel(sp.csr_matrix(A), B)
    return (A @ B).toarray()


def block_top_k(Qb, products: Products, k: int, lo, hi, skip, allowed):
    """The ``k`` best rows of each query of the block ``Qb``, from one dense array of scores
    over the block's whole window; ``(indices, scores)`` as :func:`top_k_blocks`."""
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
