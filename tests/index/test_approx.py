"""The approximate all-pairs mode: exact scores for what it returns, recall against exact."""

from __future__ import annotations

import numpy as np
import pytest

from recommender.errors import ParameterError
from recommender.index.approx import approx_top_k, prune_queries, recall
from recommender.index.topk import top_k


@pytest.fixture(scope="module")
def X(small_model):
    return small_model.matrix_


def test_with_every_term_it_is_exact(X):
    n = X.shape[0]
    exact_i, exact_s = top_k(X, X, 5, skip=np.arange(n))
    approx_i, approx_s = approx_top_k(X, X, 5, skip=np.arange(n), n_terms=10_000,
                                      max_df_share=1.0, candidates=n, block=7)
    assert np.allclose(approx_s, exact_s, atol=1e-6, equal_nan=True)
    assert recall(approx_i, exact_i, exact_s, approx_s) == 1.0


def test_returned_scores_are_exact_cosines(X):
    n = X.shape[0]
    idx, scores = approx_top_k(X, X, 5, skip=np.arange(n), n_terms=3, candidates=8, block=5)
    dense = (X @ X.T).toarray()
    for i in range(n):
        found = idx[i] >= 0
        assert i not in idx[i]
        assert np.allclose(scores[i][found], dense[i, idx[i][found]], atol=1e-6)
        assert np.all(np.diff(scores[i][found]) <= 0)
        assert np.all(np.isneginf(scores[i][~found]))


def strongest_allowed(X, df, cap, n_terms) -> list[dict]:
    """Brute force, one row at a time: {column: value} of the ``n_terms`` largest values
    among the columns of ``df`` at most ``cap``, ties going to the lowest column."""
    out = []
    for i in range(X.shape[0]):
        row = X[i]
        cells = sorted((c for c in row.indices.tolist() if df[c] <= cap),
                       key=lambda c: (-row[0, c], c))[:n_terms]
        out.append({c: float(row[0, c]) for c in cells})
    return out


@pytest.mark.parametrize("n_terms", [1, 2, 5])
@pytest.mark.parametrize("n_rows, max_df_share, cap", [
    (41, 1.0, 1000),       # a small catalogue: the cap is the floor of 1,000 articles
    (40_000, 0.05, 2000),  # 5% of 40,000
    (10_000, 0.05, 1000),  # 5% of 10,000 is below MIN_DF_CAP
])
def test_prune_keeps_the_strongest_terms_under_the_df_cap(X, n_terms, n_rows, max_df_share,
                                                         cap):
    df = np.random.default_rng(n_terms).integers(0, 3000, X.shape[1])
    df[:: 7] = cap  # at the cap: kept
    df[1:: 7] = cap + 1  # just above: dropped
    Xq = X.copy()
    Xq.data = np.round(Xq.data, 2)  # ties within rows
    pruned = prune_queries(Xq, df, n_rows, n_terms=n_terms, max_df_share=max_df_share)
    got = [dict(zip(pruned[i].indices.tolist(), pruned[i].data.astype(float).tolist()))
           for i in range(X.shape[0])]
    assert got == strongest_allowed(Xq, df, cap, n_terms)
    assert pruned.has_sorted_indices and pruned.dtype == np.float32


def test_recall_counts_ties_as_found():
    exact_i = np.array([[1, 2, 3]])
    exact_s = np.array([[0.9, 0.5, 0.4]], np.float32)
    assert recall(np.array([[1, 2, 4]]), exact_i) == pytest.approx(2 / 3)
    assert recall(np.array([[1, 2, 4]]), exact_i, exact_s,
                  np.array([[0.9, 0.5, 0.4]], np.float32)) == 1.0


@pytest.mark.parametrize("name, value, message", [
    ("n_terms", 0, "n_terms must be a positive integer, got 0"),
    ("max_df_share", 0, "max_df_share must be in \\(0, 1\\], got 0"),
    ("candidates", -1, "candidates must be a positive integer, got -1"),
])
def test_bad_parameters_are_named(X, name, value, message):
    with pytest.raises(ParameterError, match=f"^{message}$"):
        approx_top_k(X, X, 5, **{name: value})
