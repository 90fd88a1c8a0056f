"""Approximate all-pairs top-k for large catalogues: strongest terms first, exact re-scoring.

Exact top-k reads, for every query, the posting list of every one of its terms; with
about 125 terms an article and the common ones in thousands of articles, that is ~5 n
postings per query and ~5 n² for the whole catalogue (hours at a million articles). Like
Elasticsearch's More Like This, :func:`approx_top_k` keeps only the ``n_terms`` strongest
terms of each query (largest tf-idf weight) among the terms found in at most
``max_df_share`` of the articles, takes the ``candidates`` best rows by that partial score
(with the exact kernel of :func:`recommender.index.topk.top_k`), and re-scores those
candidates with the whole query: the returned scores are exact cosines, the list the best
``k`` of the candidates. What it misses is a row that is in the exact top-k but shares none of the
query's strong terms enough to reach the candidates; :func:`recall` measures that against
the exact lists of a sample.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .._checks import check_number
from .topk import check_k, top_k

__all__ = ["approx_top_k", "prune_queries", "recall"]

#: Defaults chosen on the real corpus (2,000 sampled queries, BENCHMARKS.md): recall of
#: the exact top-10 0.957 while reading 6% of the postings that exact scoring reads (32
#: terms, df cap 5%: 0.957; all df: 0.979 at 14%; 16 terms, all df: 0.944).
N_TERMS = 32
MAX_DF_SHARE = 0.05
CANDIDATES = 50
#: A term in at most this many articles is never dropped for its document frequency (a
#: small catalogue's share would drop every term).
MIN_DF_CAP = 1000


def prune_queries(Q: sp.csr_matrix, df: np.ndarray, n_rows: int, *, n_terms: int = N_TERMS,
                  max_df_share: float = MAX_DF_SHARE) -> sp.csr_matrix:
    """Each row of ``Q`` cut to its ``n_terms`` largest weights among terms of document
    frequency at most ``max(max_df_share × n_rows, MIN_DF_CAP)`` (``df`` per column)."""
    n_terms = check_k(n_terms, "n_terms")
    max_df_share = check_number(max_df_share, "max_df_share", "in (0, 1]", low=0, high=1,
                                low_open=True)
    Q = sp.csr_matrix(Q, dtype=np.float32)
    rows = np.repeat(np.arange(Q.shape[0]), np.diff(Q.indptr))
    ok = df[Q.indices] <= max(max_df_share * n_rows, MIN_DF_CAP)
    rows, cols, vals = rows[ok], Q.indices[ok], Q.data[ok]
    order = np.lexsort((-vals, rows))  # by row, strongest first
    rows, cols, vals = rows[order], cols[order], vals[order]
    starts = np.searchsorted(rows, np.arange(Q.shape[0]))
    rank = np.arange(len(rows)) - starts[rows]
    keep = rank < n_terms
    out = sp.csr_matrix((vals[keep], (rows[keep], cols[keep])), shape=Q.shape,
                        dtype=np.float32)
    out.sort_indices()
    return out


def approx_top_k(Q: sp.csr_matrix, X: sp.csr_matrix, k: int, *, XT=None, skip=None,
                 n_terms: int = N_TERMS, max_df_share: float = MAX_DF_SHARE,
                 candidates: int = CANDIDATES, block: int = 4096, n_jobs: int = 1):
    """Approximate ``top_k(Q, X, k, skip=skip)``: see the module's docstring.

    Returns ``(indices, scores)`` of shape ``(n_queries, k)``, best first, padded with -1
    and -inf; the scores are exact cosines of the rows returned.
    """
    k = check_k(k)
    candidates = max(check_k(candidates, "candidates"), k)
    X = sp.csr_matrix(X, dtype=np.float32)
    XT = X.T.tocsr() if XT is None else XT
    df = np.diff(XT.indptr)
    n = Q.shape[0]
    skip = np.full(n, -1, np.int64) if skip is None else np.asarray(skip, np.int64)
    indices = np.full((n, k), -1, np.int64)
    scores = np.full((n, k), -np.inf, np.float32)
    for a in range(0, n, block):
        z = min(a + block, n)
        Qb = sp.csr_matrix(Q[a:z], dtype=np.float32)
        pruned = prune_queries(Qb, df, X.shape[0], n_terms=n_terms, max_df_share=max_df_share)
        cand, _ = top_k(pruned, X, candidates, skip=skip[a:z], XT=XT, n_jobs=n_jobs)
        indices[a:z], scores[a:z] = _rescore(Qb, X, cand, k)
    return indices, scores


def _rescore(Qb: sp.csr_matrix, X: sp.csr_matrix, cand: np.ndarray, k: int):
    """The exact cosine of each query with its candidates, and the best ``k``."""
    nb, c = cand.shape
    valid = cand >= 0
    flat = np.where(valid, cand, 0).ravel()
    pairs = X[flat].multiply(Qb[np.repeat(np.arange(nb), c)])
    exact = np.asarray(pairs.sum(axis=1), dtype=np.float32).reshape(nb, c)
    exact[~valid | (exact <= 0)] = -np.inf
    order = np.argsort(-exact, axis=1, kind="stable")[:, :k]
    best = np.take_along_axis(exact, order, axis=1)
    idx = np.take_along_axis(cand, order, axis=1)
    idx[~np.isfinite(best)] = -1
    out_i = np.full((nb, k), -1, np.int64)
    out_s = np.full((nb, k), -np.inf, np.float32)
    out_i[:, :idx.shape[1]], out_s[:, :best.shape[1]] = idx, best
    return out_i, out_s


def recall(approx_indices: np.ndarray, exact_indices: np.ndarray, exact_scores=None,
           approx_scores=None) -> float:
    """Share of the exact lists' rows that the approximate lists also return (padding
    aside). With scores given, a returned row whose exact score ties the last exact one
    counts as found (ties may pick either row)."""
    found = total = 0
    for i, (a, e) in enumerate(zip(approx_indices, exact_indices)):
        e = e[e >= 0]
        total += len(e)
        hits = len(set(a[a >= 0].tolist()) & set(e.tolist()))
        if exact_scores is not None and approx_scores is not None and len(e):
            last = exact_scores[i][len(e) - 1]
            extra = [j for j, s in zip(a, approx_scores[i]) if j >= 0 and j not in set(e)
                     and abs(s - last) <= 1e-6]
            hits = min(len(e), hits + len(extra))
        found += hits
    return found / total if total else 1.0
