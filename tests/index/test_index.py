"""Tests for recommender.index.topk: the top-k against a brute-force ``Q @ X.T`` oracle, by both
methods (the numba kernel and the scipy blocks); tests/test_kernel.py holds the kernel's
own paths."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest
import scipy.sparse as sp

from helpers import (N_QUERIES, N_ROWS, N_TERMS, TIE, assert_matches_oracle, brute_force,
                     random_case)
from recommender.errors import MissingDependencyError, ParameterError
from recommender.index import blocks
from recommender.index.blocks import BYTES_PER_CELL, Products, plan_blocks
from recommender.index.topk import DEFAULT_BLOCK_BYTES, check_k, top_k

#: Both implementations of top_k; the scipy one is also the oracle of the numba one.
METHODS = ["numba", "scipy"]

# Budgets: one query per block; blocks of 5 and of 17 full-width queries; everything at once.
BUDGETS = {
    "one-per-block": 1,
    "blocks-of-5": 5 * N_ROWS * BYTES_PER_CELL,
    "blocks-of-17": 17 * N_ROWS * BYTES_PER_CELL,
    "huge": DEFAULT_BLOCK_BYTES,
}


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("budget", BUDGETS.values(), ids=BUDGETS.keys())
@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("postings", [False, True], ids=["rows", "postings"])
@pytest.mark.parametrize("method", METHODS)
def test_top_k_equals_brute_force_with_filters(seed, budget, n_jobs, postings, method):
    Q, X, lo, hi, skip, allowed = random_case(seed)
    k = 7
    indices, scores = top_k(Q, X, k, lo=lo, hi=hi, skip=skip, allowed=allowed,
                            XT=X.T.tocsr() if postings else None,
                            max_block_bytes=budget, n_jobs=n_jobs, method=method)
    S, expected = brute_force(Q, X, k, lo, hi, skip, allowed)
    assert_matches_oracle(indices, scores, S, expected, k)
    # the case is not trivial: some queries have a full list, some a short one, some none
    lengths = [len(e) for e in expected]
    assert max(lengths) == k and min(lengths) == 0 and any(0 < n < k for n in lengths)


@pytest.mark.parametrize("seed", [3, 4])
@pytest.mark.parametrize("budget", BUDGETS.values(), ids=BUDGETS.keys())
@pytest.mark.parametrize("postings", [False, True], ids=["rows", "postings"])
@pytest.mark.parametrize("method", METHODS)
def test_top_k_without_filters_equals_brute_force(seed, budget, postings, method):
    Q, X, *_ = random_case(seed)
    k = 10
    indices, scores = top_k(Q, X, k, XT=X.T.tocsr() if postings else None,
                            max_block_bytes=budget, method=method)
    everything = np.ones(N_ROWS, bool)
    S, expected = brute_force(Q, X, k, np.zeros(N_QUERIES, int), np.full(N_QUERIES, N_ROWS),
                              np.full(N_QUERIES, -1), everything)
    assert_matches_oracle(indices, scores, S, expected, k)


@pytest.mark.parametrize("budget", BUDGETS.values(), ids=BUDGETS.keys())
@pytest.mark.parametrize("method", METHODS)
def test_k_larger_than_index_is_clipped(budget, method):
    Q, X, lo, hi, skip, allowed = random_case(5)
    indices, scores = top_k(Q, X, N_ROWS + 25, lo=lo, hi=hi, skip=skip, allowed=allowed,
                            max_block_bytes=budget, n_jobs=2, method=method)
    assert indices.shape == (N_QUERIES, N_ROWS)
    S, expected = brute_force(Q, X, N_ROWS, lo, hi, skip, allowed)
    assert_matches_oracle(indices, scores, S, expected, N_ROWS)


def test_blocks_have_the_planned_sizes():
    """The budgets above do make blocks of 1, 5, 17 and all queries (every boundary hit)."""
    lo, hi = np.zeros(N_QUERIES, np.int64), np.full(N_QUERIES, N_ROWS, np.int64)
    sizes = {name: [len(b) for b in plan_blocks(lo, hi, budget)]
             for name, budget in BUDGETS.items()}
    assert sizes == {"one-per-block": [1] * 60, "blocks-of-5": [5] * 12,
                     "blocks-of-17": [17, 17, 17, 9], "huge": [60]}
    _, _, lo, hi, _, _ = random_case(0)
    blocks = plan_blocks(lo, hi, BUDGETS["blocks-of-5"])
    assert sorted(np.concatenate(blocks).tolist()) == list(range(N_QUERIES))
    assert all(len(b) >= 1 for b in blocks) and len(blocks) > 1


@pytest.mark.parametrize("method", METHODS)
def test_only_positive_scores_and_padding(method):
    # Row 0 of X is the query itself, row 1 its opposite (cosine -1), row 2 orthogonal.
    X = sp.csr_matrix(np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0.6, 0.8, 0]], np.float32))
    Q = X[[0]]
    indices, scores = top_k(Q, X, 4, method=method)
    assert indices.tolist() == [[0, 3, -1, -1]]
    np.testing.assert_allclose(scores[0, :2], [1.0, 0.6], rtol=1e-6)
    assert np.isneginf(scores[0, 2:]).all()


@pytest.mark.parametrize("method", METHODS)
def test_empty_windows_give_only_padding(method):
    Q, X, *_ = random_case(6)
    lo = np.full(N_QUERIES, 10)
    indices, scores = top_k(Q, X, 3, lo=lo, hi=lo, max_block_bytes=1, method=method)
    assert (indices == -1).all() and np.isneginf(scores).all()
    indices, scores = top_k(Q, X, 3, lo=lo, hi=lo - 4, method=method)  # lo > hi is empty too
    assert (indices == -1).all()


@pytest.mark.parametrize("method", METHODS)
def test_empty_query_row_and_empty_index(method):
    Q, X, *_ = random_case(7)
    indices, scores = top_k(Q[[7]], X, 5, method=method)  # row 7 of Q has no terms
    assert (indices == -1).all() and np.isneginf(scores).all()
    empty = sp.csr_matrix((0, N_TERMS), dtype=np.float32)
    indices, scores = top_k(Q, empty, 5, method=method)
    assert indices.shape == scores.shape == (N_QUERIES, 0)
    indices, scores = top_k(empty, X, 5, method=method)
    assert indices.shape == (0, 5)


@pytest.mark.parametrize("method", METHODS)
def test_windows_outside_the_index_are_cut_to_it(method):
    """Regression: a negative ``lo`` wrapped around (``X[-3:]``) and a ``hi`` past the end
    broke the block's shapes."""
    Q, X, *_ = random_case(8)
    lo = np.full(N_QUERIES, -3)
    hi = np.full(N_QUERIES, N_ROWS + 5)
    got = top_k(Q, X, 6, lo=lo, hi=hi, method=method)
    want = top_k(Q, X, 6, method=method)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("method", METHODS)
def test_skip_removes_only_that_row(method):
    X = sp.csr_matrix(np.array([[1, 0], [1, 0], [0.8, 0.6]], np.float32))
    indices, _ = top_k(X[[0, 1]], X, 3, skip=[0, -1], method=method)
    assert indices[0].tolist() == [1, 2, -1]
    assert sorted(indices[1].tolist()) == [0, 1, 2]


@pytest.mark.parametrize("bad, shown", [(0, "0"), (-1, "-1"), (2.5, "2.5"), (True, "True"),
                                        ("3", "'3'"), (np.bool_(True), "True"), (None, "None")])
def test_check_k_rejects(bad, shown):
    with pytest.raises(ParameterError, match=rf"^k must be a positive integer, got {shown}$"):
        check_k(bad)
    Q, X, *_ = random_case(0)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        top_k(Q, X, bad)
    with pytest.raises(ValueError, match="k must be a positive integer"):  # even on no rows
        top_k(Q, X[:0], bad)


def test_check_k_accepts_numpy_ints():
    assert check_k(np.int32(3)) == 3 and type(check_k(np.int64(4))) is int


def test_bad_shapes_are_named():
    Q, X, *_ = random_case(0)
    with pytest.raises(ParameterError, match=f"queries have 39 terms but the index has {N_TERMS}"):
        top_k(Q[:, :39], X, 3)
    with pytest.raises(ParameterError, match=r"lo must have one value per query, shape \(60,\), "
                                         r"got shape \(2,\)"):
        top_k(Q, X, 3, lo=[0, 1])
    with pytest.raises(ParameterError, match=r"skip must have one value per query"):
        top_k(Q, X, 3, skip=[0])
    with pytest.raises(ParameterError, match=r"allowed must have shape \(70,\), got \(3,\)"):
        top_k(Q, X, 3, allowed=[True, False, True])


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_bad_n_jobs(bad):
    Q, X, *_ = random_case(0)
    with pytest.raises(ParameterError, match=rf"n_jobs must be a positive integer or -1 .*got "
                                         rf"{bad!r}"):
        top_k(Q, X, 3, n_jobs=bad)


@pytest.mark.parametrize("method", METHODS)
def test_n_jobs_minus_one_means_every_cpu(method):
    Q, X, *_ = random_case(9)
    got = top_k(Q, X, 4, n_jobs=-1, max_block_bytes=1, method=method)
    want = top_k(Q, X, 4, method=method)
    np.testing.assert_array_equal(got[1], want[1])


def test_one_query_is_scored_from_postings_and_a_narrow_window_from_rows():
    """Both ways to a block's scores are taken, and they give the same scores."""
    Q, X, *_ = random_case(6, windows=False)
    products = Products(X, X.T.tocsr(), DEFAULT_BLOCK_BYTES)
    one = Q[[0]]
    assert products.by_terms(one, 0, N_ROWS)  # a few postings against every row
    assert not products.by_terms(one, 10, 12)  # two rows against the full postings
    assert not Products(X, None, DEFAULT_BLOCK_BYTES).by_terms(one, 0, N_ROWS)
    assert not Products(X, X.T.tocsr(), 1).by_terms(one, 0, N_ROWS)  # over the budget
    exact = (one @ X.T).toarray()
    for a, z in ((0, N_ROWS), (10, 12), (30, 55)):
        np.testing.assert_allclose(products(one, a, z), exact[:, a:z], atol=1e-6)


@pytest.mark.parametrize("method", METHODS)
def test_postings_of_another_shape_are_refused(method):
    Q, X, *_ = random_case(7, windows=False)
    with pytest.raises(ParameterError, match=r"^XT must be X\.T, shape \(40, 70\), got \(70, 40\)$"):
        top_k(Q, X, 3, XT=X, method=method)


def test_scipy_product_when_scikit_learn_has_no_dense_kernel(monkeypatch):
    """An older scikit-learn lacks the dense-output kernel: scipy's product gives the same."""
    Q, X, lo, hi, skip, allowed = random_case(8)
    with_kernel = top_k(Q, X, 7, lo=lo, hi=hi, skip=skip, allowed=allowed, XT=X.T.tocsr(),
                        method="scipy")
    monkeypatch.setattr(blocks, "sparse_matmul_to_dense", lambda: None)
    for XT in (None, X.T.tocsr()):
        indices, scores = top_k(Q, X, 7, lo=lo, hi=hi, skip=skip, allowed=allowed, XT=XT,
                                method="scipy")
        S, expected = brute_force(Q, X, 7, lo, hi, skip, allowed)
        assert_matches_oracle(indices, scores, S, expected, 7)
        np.testing.assert_allclose(scores, with_kernel[1], atol=TIE)


# -- choosing the method ----------------------------------------------------------------
@pytest.mark.parametrize("bad", ["fast", "NUMBA", "", None, 1])
def test_unknown_method_is_named(bad):
    Q, X, *_ = random_case(0)
    with pytest.raises(ParameterError, match=rf"^method must be one of 'auto', 'numba', 'scipy', "
                                         rf"got {re.escape(repr(bad))}$"):
        top_k(Q, X, 3, method=bad)


@pytest.fixture
def without_numba(monkeypatch):
    """As if numba were not installed: importing it fails."""
    monkeypatch.setitem(sys.modules, "numba", None)


def test_numba_asked_without_numba_says_how_to_install_it(without_numba):
    Q, X, *_ = random_case(0)
    with pytest.raises(MissingDependencyError, match=r"^method='numba' needs numba, which is not "
                                          r"installed; install it with: pip install "
                                          r"'recommender\[fast\]'"):
        top_k(Q, X, 3, method="numba")


def test_auto_without_numba_is_the_scipy_path(without_numba, monkeypatch):
    import recommender.index.topk as index

    assert index.fast_kernel() is None
    Q, X, lo, hi, skip, allowed = random_case(1)
    calls = []
    real = blocks.top_k_blocks
    monkeypatch.setattr(blocks, "top_k_blocks", lambda *a: calls.append(1) or real(*a))
    got = top_k(Q, X, 7, lo=lo, hi=hi, skip=skip, allowed=allowed)
    assert calls  # the scipy blocks did the work
    want = top_k(Q, X, 7, lo=lo, hi=hi, skip=skip, allowed=allowed, method="scipy")
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_auto_with_numba_is_the_kernel(monkeypatch):
    import recommender.index.topk as index
    import recommender.index.kernel as kernel

    assert index.fast_kernel() is kernel
    calls = []
    real = kernel.top_k_postings
    monkeypatch.setattr(kernel, "top_k_postings",
                        lambda *a, **kw: calls.append(1) or real(*a, **kw))
    Q, X, *_ = random_case(2)
    top_k(Q, X, 3)
    assert calls == [1]
