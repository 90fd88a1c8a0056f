"""Other libraries' all-pairs cosine top-k, on our TF-IDF matrix, for the benchmark.

Each competitor is a function ``(X, k, n_jobs, rows=None) -> (indices, scores)`` with the
shapes of :func:`recommender.index.top_k` for ``top_k(X[rows], X, k, skip=rows)`` (all rows
by default): ``(n_queries, k)`` arrays,
best first, the query itself left out, -1 / -inf padding where fewer than ``k`` rows have
a positive score. Each asks for ``k + 1`` rows and drops the query (or, when ties push it
out of the list, the last row): :func:`drop_self`. :func:`agreement` says how far two sets
of lists agree. A competitor that is not installed raises
:class:`CompetitorMissing` with the command that installs it.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import MissingDependencyError

__all__ = ["COMPETITORS", "CompetitorMissing", "THREADED", "agreement", "drop_self"]


class CompetitorMissing(MissingDependencyError):
    """A competitor's library is not installed; the message says how to install it."""


def agreement(ours_i, ours_s, theirs_i, theirs_s, atol: float = 1e-5) -> dict:
    """How far two sets of top-k lists agree.

    ``same_scores``: share of rows whose k scores agree within ``atol`` (the same list,
    ties aside: two rows of equal score may swap); ``same_ids``: share of rows with the very
    same ids in the same order.
    """
    fin_o, fin_t = np.isfinite(ours_s), np.isfinite(theirs_s)
    close = (fin_o == fin_t) & (~fin_o | (np.abs(np.where(fin_o, ours_s, 0)
                                                 - np.where(fin_t, theirs_s, 0)) <= atol))
    return {"same_scores": round(float(close.all(axis=1).mean()), 5),
            "same_ids": round(float((ours_i == theirs_i).all(axis=1).mean()), 5)}


def drop_self(indices: np.ndarray, scores: np.ndarray, k: int, rows=None):
    """``(n, k + 1)`` lists with the query (row ``rows[i]``) somewhere, or absent ->
    ``(n, k)`` without it."""
    n = indices.shape[0]
    rows = (np.arange(n) if rows is None else np.asarray(rows))[:, None]
    is_self = indices == rows
    # Keep the first k entries that are not the query.
    keep = ~is_self & (np.cumsum(~is_self, axis=1) <= k)
    out_i = np.full((n, k), -1, np.int64)
    out_s = np.full((n, k), -np.inf, np.float32)
    pos = np.cumsum(keep, axis=1) - 1
    r, c = np.nonzero(keep)
    out_i[r, pos[r, c]] = indices[r, c]
    out_s[r, pos[r, c]] = scores[r, c]
    bad = ~(out_s > 0)
    out_i[bad], out_s[bad] = -1, -np.inf
    return out_i, out_s


def _from_csr(C: sp.csr_matrix, k: int):
    """Rows of a sparse result (any order inside a row) -> dense best-first ``(n, k)``."""
    n = C.shape[0]
    indices = np.full((n, k), -1, np.int64)
    scores = np.full((n, k), -np.inf, np.float32)
    lengths = np.diff(C.indptr)
    rows = np.repeat(np.arange(n), lengths)
    order = np.lexsort((C.indices, -C.data, rows))
    rank = np.arange(C.nnz) - C.indptr[rows[order]]
    ok = rank < k
    indices[rows[order][ok], rank[ok]] = C.indices[order][ok]
    scores[rows[order][ok], rank[ok]] = C.data[order][ok]
    return indices, scores


def _queries(X, rows):
    return X if rows is None else X[rows]


def sparse_dot_topn(X, k, n_jobs, rows=None):
    """``sp_matmul_topn(X, X.T, top_n=k + 1, threshold=0, n_threads=n_jobs)``."""
    try:
        from sparse_dot_topn import sp_matmul_topn
    except ImportError:
        raise CompetitorMissing("sparse_dot_topn is not installed: pip install "
                                "'sparse_dot_topn>=1.1' (or the 'bench' extra)") from None
    C = sp_matmul_topn(_queries(X, rows), X.T.tocsr(), top_n=k + 1, threshold=0, sort=True,
                       n_threads=n_jobs if n_jobs > 1 else None)
    return drop_self(*_from_csr(C.tocsr(), k + 1), k, rows)


def sklearn_brute(X, k, n_jobs, rows=None):
    """scikit-learn ``NearestNeighbors(metric="cosine", algorithm="brute", n_jobs=n_jobs)``."""
    from sklearn.neighbors import NearestNeighbors

    knn = NearestNeighbors(n_neighbors=k + 1, metric="cosine", algorithm="brute",
                           n_jobs=n_jobs).fit(X)
    dist, idx = knn.kneighbors(_queries(X, rows))
    return drop_self(idx.astype(np.int64), (1 - dist).astype(np.float32), k, rows)


def gensim_sparse(X, k, n_jobs, rows=None, chunksize: int = 500):
    """gensim ``SparseMatrixSimilarity(num_best=k + 1)``, queries in gensim's chunks of 500
    (it has no thread option: numpy's own threads only)."""
    try:
        from gensim.matutils import Sparse2Corpus
        from gensim.similarities import SparseMatrixSimilarity
    except ImportError:
        raise CompetitorMissing("gensim is not installed: pip install 'gensim>=4.4' (the "
                                "first release that installs next to numpy 2)") from None
    index = SparseMatrixSimilarity(Sparse2Corpus(X, documents_columns=False),
                                   num_features=X.shape[1], num_best=k + 1,
                                   chunksize=chunksize, normalize_documents=False,
                                   normalize_queries=False)
    Q = _queries(X, rows)
    n = Q.shape[0]
    indices = np.full((n, k + 1), -1, np.int64)
    scores = np.full((n, k + 1), -np.inf, np.float32)
    for a in range(0, n, chunksize):
        for i, hits in enumerate(index[Q[a:a + chunksize]], start=a):
            for j, (row, score) in enumerate(hits):
                indices[i, j], scores[i, j] = row, score
    return drop_self(indices, scores, k, rows)


#: name -> function, in the order the benchmark runs them.
COMPETITORS = {"sparse_dot_topn": sparse_dot_topn, "sklearn": sklearn_brute,
               "gensim": gensim_sparse}
#: Competitors that take a thread count (gensim has none: it runs at 1 only).
THREADED = {"sparse_dot_topn", "sklearn"}
