"""Tests for recommender.index.kernel: every path of the numba kernel against the brute-force
oracle and the scipy method, on random and real data, and the properties that the
neighbour table relies on (a list does not depend on k, on the batch or on the threads)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from helpers import N_QUERIES, N_ROWS, assert_matches_oracle, brute_force, random_case
from recommender.index.kernel import BUFFER_K, DENSE_SHARE, top_k_postings
from recommender.index.topk import top_k

#: (buffer_k, dense_share): the sorted buffer or the partition, with a list of touched rows
#: or over the whole window; and the defaults.
PATHS = {"buffer-list": (BUFFER_K, 0), "buffer-window": (BUFFER_K, 10**9),
         "partition-list": (1, 0), "partition-window": (1, 10**9),
         "defaults": (BUFFER_K, DENSE_SHARE)}


def kernel(Q, X, k, *, lo=None, hi=None, skip=None, allowed=None, n_jobs=1,
           path="defaults"):
    """``top_k_postings`` with top_k's defaults filled in."""
    n_queries, n_rows = Q.shape[0], X.shape[0]
    lo = np.zeros(n_queries, np.int64) if lo is None else np.clip(lo, 0, n_rows)
    hi = np.full(n_queries, n_rows, np.int64) if hi is None else np.clip(hi, 0, n_rows)
    skip = np.full(n_queries, -1, np.int64) if skip is None else np.asarray(skip, np.int64)
    buffer_k, dense_share = PATHS[path]
    return top_k_postings(Q, X, X.T.tocsr(), min(k, n_rows), lo, hi, skip, allowed, n_jobs,
                          buffer_k=buffer_k, dense_share=dense_share)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("k", [1, 7, N_ROWS])
def test_every_path_equals_brute_force(seed, path, n_jobs, k):
    Q, X, lo, hi, skip, allowed = random_case(seed)  # signed values, empty rows, windows
    indices, scores = kernel(Q, X, k, lo=lo, hi=hi, skip=skip, allowed=allowed,
                             n_jobs=n_jobs, path=path)
    S, expected = brute_force(Q, X, k, lo, hi, skip, allowed)
    assert_matches_oracle(indices, scores, S, expected, k)


@pytest.mark.parametrize("path", PATHS)
def test_paths_agree_exactly(path):
    """Every path returns the same canonical scores, bit for bit, and the same rows."""
    Q, X, lo, hi, skip, allowed = random_case(4)
    want = kernel(Q, X, 9, lo=lo, hi=hi, skip=skip, allowed=allowed)
    got = kernel(Q, X, 9, lo=lo, hi=hi, skip=skip, allowed=allowed, path=path)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


@pytest.fixture(scope="module")
def sample_matrix(cosine_model):
    """The sample's TF-IDF rows with the length prior: scores about 1, as the tolerances
    below assume (BM25 rows score about 100)."""
    return cosine_model.matrix_


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_all_pairs_of_the_sample_equal_the_scipy_method(sample_matrix, n_jobs):
    """Each article against all others, itself skipped: same lists as the scipy method,
    scores equal to float32 rounding, ties aside; and equal to brute force."""
    X = sample_matrix
    n = X.shape[0]
    rows = np.arange(n)
    got = top_k(X, X, 10, skip=rows, n_jobs=n_jobs, method="numba")
    want = top_k(X, X, 10, skip=rows, method="scipy")
    # The model's rows carry its length prior, so scores reach about 2: float32 rounding
    # is relative.
    np.testing.assert_allclose(got[1], want[1], rtol=2e-6, atol=1e-6)
    S, expected = brute_force(X, X, 10, np.zeros(n, int), np.full(n, n), rows, np.ones(n, bool))
    differ = got[0] != want[0]
    assert differ.mean() < 0.02  # ties (scores equal to 1e-6) may swap, and only ties
    i, p = np.nonzero(differ)
    np.testing.assert_allclose(S[i, got[0][i, p]], S[i, want[0][i, p]], rtol=2e-6, atol=1e-6)
    assert_matches_oracle(*got, S, expected, 10)
    assert (got[0] >= 0).sum() > 5 * n  # most articles have a full list: not a trivial case


@pytest.mark.parametrize("path", PATHS)
def test_a_list_does_not_depend_on_k(sample_matrix, path):
    """The best 5 are exactly the first 5 of the best 30 (what a neighbour table needs)."""
    X = sample_matrix
    skip = np.arange(X.shape[0])
    short = kernel(X, X, 5, skip=skip, path=path)
    long = kernel(X, X, 30, skip=skip, path=path)
    np.testing.assert_array_equal(short[0], long[0][:, :5])
    np.testing.assert_array_equal(short[1], long[1][:, :5])


@pytest.mark.parametrize("n_jobs", [1, 2, 3])
def test_a_list_does_not_depend_on_the_batch_or_the_threads(sample_matrix, n_jobs):
    X = sample_matrix
    n = X.shape[0]
    batch = kernel(X, X, 8, skip=np.arange(n), n_jobs=n_jobs)
    for i in (0, 17, n - 1):
        single = kernel(X[[i]], X, 8, skip=[i])
        np.testing.assert_array_equal(single[0][0], batch[0][i])
        np.testing.assert_array_equal(single[1][0], batch[1][i])


@pytest.fixture(scope="module")
def mlt_pair(small_model):
    """The sample's More Like This queries (binary rows) and BM25 rows: scores about 100."""
    return small_model.row_queries(np.arange(small_model.n_articles)), small_model.matrix_


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_mlt_lists_of_the_sample_equal_brute_force(mlt_pair, n_jobs):
    """The same properties for the queries and rows of More Like This, with tolerances
    relative to the scores."""
    Q, X = mlt_pair
    n = X.shape[0]
    rows = np.arange(n)
    got = top_k(Q, X, 10, skip=rows, n_jobs=n_jobs, method="numba")
    want = top_k(Q, X, 10, skip=rows, method="scipy")
    np.testing.assert_allclose(got[1], want[1], rtol=2e-6)
    S, expected = brute_force(Q, X, 10, np.zeros(n, int), np.full(n, n), rows, np.ones(n, bool))
    for i in range(n):
        k = len(expected[i])
        np.testing.assert_allclose(got[1][i, :k], S[i, expected[i]], rtol=2e-6)
        np.testing.assert_allclose(S[i, got[0][i, :k]], S[i, expected[i]], rtol=2e-6)
        assert (got[0][i, k:] == -1).all()
    assert (got[0] >= 0).sum() > 5 * n


@pytest.mark.parametrize("path", PATHS)
def test_an_mlt_list_does_not_depend_on_k(mlt_pair, path):
    Q, X = mlt_pair
    skip = np.arange(X.shape[0])
    short = kernel(Q, X, 5, skip=skip, path=path)
    long = kernel(Q, X, 30, skip=skip, path=path)
    np.testing.assert_array_equal(short[0], long[0][:, :5])
    np.testing.assert_array_equal(short[1], long[1][:, :5])


@pytest.mark.parametrize("n_jobs", [1, 2, 3])
def test_an_mlt_list_does_not_depend_on_the_batch_or_the_threads(mlt_pair, n_jobs):
    Q, X = mlt_pair
    n = X.shape[0]
    batch = kernel(Q, X, 8, skip=np.arange(n), n_jobs=n_jobs)
    for i in (0, 17, n - 1):
        single = kernel(Q[[i]], X, 8, skip=[i])
        np.testing.assert_array_equal(single[0][0], batch[0][i])
        np.testing.assert_array_equal(single[1][0], batch[1][i])


@pytest.mark.parametrize("n_jobs", [2, 3, 5])
@pytest.mark.parametrize("seed", [0, 1])
def test_one_query_on_several_threads_splits_the_rows(n_jobs, seed):
    """Fewer queries than threads: each thread scores a range of rows, and the merged
    list is the one-thread list exactly (windows, skip and allowed included)."""
    Q, X, lo, hi, skip, allowed = random_case(seed)
    for i in range(0, N_QUERIES, 7):
        rows = list(range(i, min(i + n_jobs - 1, N_QUERIES)))  # fewer than n_jobs
        args = dict(lo=lo[rows], hi=hi[rows], skip=skip[rows], allowed=allowed)
        one = kernel(Q[rows], X, 6, **args)
        split = kernel(Q[rows], X, 6, n_jobs=n_jobs, **args)
        np.testing.assert_array_equal(split[0], one[0])
        np.testing.assert_array_equal(split[1], one[1])


@pytest.mark.parametrize("path", PATHS)
def test_ties_go_to_the_lower_row(path):
    # rows 1, 2 and 4 are one vector; row 3 is orthogonal to the query
    X = sp.csr_matrix(np.array([[1, 0, 0], [0.6, 0.8, 0], [0.6, 0.8, 0], [0, 0, 1],
                                [0.6, 0.8, 0]], np.float32))
    indices, scores = kernel(X[[0]], X, 3, skip=[0], path=path)
    assert indices.tolist() == [[1, 2, 4]]
    assert kernel(X[[0]], X, 3, skip=[0], path=path, n_jobs=2)[0].tolist() == [[1, 2, 4]]
    assert scores[0, 0] == scores[0, 1] == scores[0, 2] == np.float32(0.6)


def test_scores_are_the_canonical_sum():
    """Each score is the float64 sum of the row's products in column order, as float32."""
    Q, X, *_ = random_case(5, windows=False, skip=False, allowed=False)
    indices, scores = kernel(Q, X, 6)
    X64, Q64 = X.astype(np.float64), Q.astype(np.float64).toarray()
    for i in range(N_QUERIES):
        for j, s in zip(indices[i], scores[i]):
            if j >= 0:
                row = X64[j]
                assert s == np.float32(sum(v * Q64[i, t] for t, v in zip(row.indices, row.data)))


def test_duplicate_terms_in_a_query_are_added(sample_matrix):
    """A query in non-canonical CSR (a term twice) is the sum of its entries, as in scipy."""
    X = sample_matrix
    q = X[[3]]
    half = sp.csr_matrix((np.concatenate([q.data / 2, q.data / 2]),
                          np.concatenate([q.indices, q.indices]), [0, 2 * q.nnz]),
                         shape=q.shape)
    assert not half.has_canonical_format
    got = top_k(half, X, 6, method="numba")
    want = top_k(q, X, 6, method="numba")
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_allclose(got[1], want[1], atol=1e-6)


def test_postings_with_unsorted_indices_are_sorted_first(sample_matrix):
    X = sample_matrix
    XT = X.T.tocsr()
    shuffled = XT.copy()
    rng = np.random.default_rng(0)
    for t in range(shuffled.shape[0]):
        a, z = shuffled.indptr[t], shuffled.indptr[t + 1]
        perm = a + rng.permutation(z - a)
        shuffled.indices[a:z], shuffled.data[a:z] = XT.indices[perm], XT.data[perm]
    shuffled.has_sorted_indices = False
    lo, hi = np.full(X.shape[0], 5), np.full(X.shape[0], 30)  # windows need sorted postings
    got = top_k(X, X, 4, lo=lo, hi=hi, XT=shuffled, method="numba")
    want = top_k(X, X, 4, lo=lo, hi=hi, XT=XT, method="numba")
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_queries_that_are_not_unit_vectors(sample_matrix):
    """A query that is not a unit vector (scaled by 1000) gets the same rows, its scores
    scaled, and agrees with brute force."""
    X = sample_matrix
    skip = np.arange(X.shape[0])
    unit = kernel(X, X, 8, skip=skip)
    big = kernel(sp.csr_matrix(X * 1000, dtype=np.float32), X, 8, skip=skip)
    np.testing.assert_array_equal(big[0], unit[0])
    np.testing.assert_allclose(big[1], unit[1] * 1000, rtol=1e-5)
    S, expected = brute_force(X * 1000, X, 8, np.zeros(len(skip), int),
                              np.full(len(skip), len(skip)), skip, np.ones(len(skip), bool))
    for i in range(len(skip)):  # the oracle, with ties at the scaled tolerance
        n = len(expected[i])
        np.testing.assert_allclose(big[1][i, :n], S[i, expected[i]], rtol=1e-5)
