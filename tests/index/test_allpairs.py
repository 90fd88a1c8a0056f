"""Tests for recommender.index.allpairs: every row against all the others, each pair once, gives
the per-query kernel's arrays bit for bit, and brute force's lists."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import recommender.index.allpairs as allpairs
from helpers import assert_matches_oracle, brute_force, unit_rows
from recommender.index.allpairs import is_all_pairs, top_k_all_pairs
from recommender.index.kernel import top_k_postings
from recommender.index.topk import top_k


def per_query(X, k, allowed=None, n_jobs=1):
    """The per-query kernel on the same case: the reference."""
    n = X.shape[0]
    return top_k_postings(X, X, X.T.tocsr(), k, np.zeros(n, np.int64), np.full(n, n, np.int64),
                          np.arange(n, dtype=np.int64), allowed, n_jobs)


def positive_rows(seed, n=90, n_terms=30):
    """Non-negative unit rows (as TF-IDF), three of them empty."""
    return unit_rows(n, n_terms, np.random.default_rng(seed), density=0.15, empty=(0, 31, 89))


@pytest.fixture(scope="module")
def sample_matrix(small_model):
    return small_model.matrix_


@pytest.mark.parametrize("k", [1, 5, 10, 40])
@pytest.mark.parametrize("n_jobs", [1, 2, 3])
@pytest.mark.parametrize("masked", [False, True])
def test_equals_the_per_query_kernel_on_the_sample(sample_matrix, k, n_jobs, masked):
    X = sample_matrix
    allowed = np.random.default_rng(k).random(X.shape[0]) < 0.7 if masked else None
    got = top_k_all_pairs(X, X.T.tocsr(), k, allowed, n_jobs)
    want = per_query(X, k, allowed)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("k", [3, 8])
def test_equals_brute_force(seed, n_jobs, k):
    X = positive_rows(seed)
    n = X.shape[0]
    allowed = np.random.default_rng(seed).random(n) < 0.8
    indices, scores = top_k_all_pairs(X, X.T.tocsr(), k, allowed, n_jobs)
    S, expected = brute_force(X, X, k, np.zeros(n, int), np.full(n, n), np.arange(n), allowed)
    assert_matches_oracle(indices, scores, S, expected, k)
    lengths = [len(e) for e in expected]
    assert min(lengths) == 0 and max(lengths) == k  # empty rows, full lists


def test_short_buffers_fall_back_to_the_per_query_kernel(sample_matrix, monkeypatch):
    """With no room beyond k, a row whose buffer is full cannot be sure of its list and is
    scored again per query; the result is the same."""
    X = sample_matrix
    calls = []
    real = allpairs.top_k_postings
    monkeypatch.setattr(allpairs, "top_k_postings",
                        lambda Q, *a, **kw: calls.append(Q.shape[0]) or real(Q, *a, **kw))
    got = top_k_all_pairs(X, X.T.tocsr(), 6, None, 1, extra=0)
    assert calls and calls[0] > 0  # rows scored again
    want = per_query(X, 6)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    calls.clear()
    top_k_all_pairs(X, X.T.tocsr(), 6, None, 1)  # with the default room: no fallback here
    assert not calls


def test_is_all_pairs(sample_matrix, monkeypatch):
    X = sp.csr_matrix(sample_matrix)
    n = X.shape[0]
    lo, hi, skip = np.zeros(n, np.int64), np.full(n, n, np.int64), np.arange(n)
    assert is_all_pairs(X, X, 10, lo, hi, skip, 1)
    assert is_all_pairs(X[np.arange(n)], X, 10, lo, hi, skip, 2)  # a copy of the rows
    assert not is_all_pairs(X[::-1], X, 10, lo, hi, skip, 1)  # other queries
    assert not is_all_pairs(X, X, 10, lo + 1, hi, skip, 1)  # a window
    assert not is_all_pairs(X, X, 10, lo, hi - 1, skip, 1)
    assert not is_all_pairs(X, X, 10, lo, hi, np.full(n, -1), 1)  # not skipping itself
    signed = X.copy()
    signed.data[0] = -signed.data[0]
    assert not is_all_pairs(signed, signed, 10, lo, hi, skip, 1)  # negative values
    monkeypatch.setattr(allpairs, "MAX_BUFFER_BYTES", n * 14 * 8 - 1)
    assert not is_all_pairs(X, X, 10, lo, hi, skip, 1)  # buffers too large


def test_top_k_uses_it_for_every_row_against_the_others(sample_matrix, monkeypatch):
    X = sample_matrix
    n = X.shape[0]
    calls = []
    real = allpairs.top_k_all_pairs
    monkeypatch.setattr(allpairs, "top_k_all_pairs",
                        lambda *a, **kw: calls.append(1) or real(*a, **kw))
    got = top_k(X, X, 7, skip=np.arange(n), method="numba")
    assert calls == [1]
    want = per_query(X, 7)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    top_k(X, X, 7, skip=np.arange(n), lo=np.full(n, 1), method="numba")
    top_k(X[:5], X, 7, skip=np.arange(5), method="numba")
    top_k(X, X, 7, skip=np.arange(n), method="scipy")
    assert calls == [1]  # a window, other queries, the scipy method: not all pairs
