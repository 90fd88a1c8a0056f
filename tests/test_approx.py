"""The approximate all-pairs mode: exact scores for what it returns, recall against exact."""

from __future__ import annotations

import numpy as np
import pytest

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


def test_prune_keeps_the_strongest_terms(X):
    df = np.diff(X.T.tocsr().indptr)
    pruned = prune_queries(X, df, X.shape[0], n_terms=2, max_df_share=1.0)
    assert np.all(np.diff(pruned.indptr) <= 2)
    for i in range(X.shape[0]):
        row = X[i]
        if row.nnz:
            strongest = np.sort(row.data)[::-1][:2]
            assert np.allclose(np.sort(pruned[i].data)[::-1], strongest)


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
    with pytest.raises(ValueError, match=message):
        approx_top_k(X, X, 5, **{name: value})
