"""Tests for recommender.index.dense: the common terms' postings as dense rows, and the
kernel that adds them: the same lists, bit for bit, as from the postings alone."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from helpers import random_case
from recommender.errors import ParameterError
from recommender.index.dense import DENSE_TERM_SHARE, DensePostings, dense_postings
from recommender.index.kernel import top_k_postings
from recommender.index.topk import top_k

from test_kernel import PATHS


@pytest.mark.parametrize("share", [0.0, 0.1, DENSE_TERM_SHARE, 0.6, 1.0])
def test_dense_rows_are_the_columns_of_the_common_terms(small_model, share):
    X = small_model.matrix_
    dense = dense_postings(X.T.tocsr(), share)
    full = X.toarray()
    found_in = (full != 0).sum(axis=0)
    common = np.flatnonzero(found_in >= max(1, share * X.shape[0]))
    assert dense.slot.dtype == np.int32 and dense.values.dtype == np.float32
    assert dense.start == 0  # every article of the sample has terms
    np.testing.assert_array_equal(np.flatnonzero(dense.slot >= 0), common)
    np.testing.assert_array_equal(dense.slot[common], np.arange(len(common)))
    np.testing.assert_array_equal(dense.values, full[:, common].T)
    if 0 < share <= DENSE_TERM_SHARE:  # the sample has stop words in most articles
        assert 0 < len(common) < X.shape[1]


def _with_empty_rows(X, before, after):
    """``X`` between empty rows, as a worker holds the rows of some shards only."""
    return sp.vstack([sp.csr_matrix((before, X.shape[1]), dtype=np.float32), X,
                      sp.csr_matrix((after, X.shape[1]), dtype=np.float32)], format="csr")


def test_dense_rows_span_the_rows_that_hold_terms(small_model):
    X = _with_empty_rows(small_model.matrix_, 500, 300)
    n = small_model.n_articles
    dense = dense_postings(X.T.tocsr())
    full = small_model.matrix_.toarray()
    common = np.flatnonzero((full != 0).sum(axis=0) >= DENSE_TERM_SHARE * n)  # of n, not
    assert dense.start == 500 and dense.values.shape == (len(common), n)  # of n + 800
    np.testing.assert_array_equal(dense.values, full[:, common].T)


def test_no_term_is_common_enough():
    XT = sp.csr_matrix(np.eye(6, dtype=np.float32))
    dense = dense_postings(XT, 0.5)
    assert (dense.slot == -1).all() and dense.values.shape == (0, 6) and dense.start == 0
    empty = dense_postings(sp.csr_matrix((4, 9), dtype=np.float32))
    assert (empty.slot == -1).all() and empty.values.shape == (0, 0)


def _windows(n_queries, n_rows, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n_rows + 1, (2, n_queries))
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    lo[::5], hi[::5] = 0, n_rows  # whole windows
    return lo.astype(np.int64), hi.astype(np.int64)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("share", [0.0, DENSE_TERM_SHARE])
def test_mlt_lists_from_dense_rows_are_those_from_the_postings(small_model, path, n_jobs,
                                                               share):
    """The sample's More Like This queries and BM25 rows, in windows: every path of the
    kernel gives the same rows and scores, bit for bit, with and without dense rows."""
    X = small_model.matrix_
    n = X.shape[0]
    Q = small_model.row_queries(np.arange(n))
    XT = X.T.tocsr()
    lo, hi = _windows(n, n, 3)
    skip = np.arange(n, dtype=np.int64)
    buffer_k, dense_share = PATHS[path]
    plain = top_k_postings(Q, X, XT, 12, lo, hi, skip, None, n_jobs, buffer_k=buffer_k,
                           dense_share=dense_share)
    dense = top_k_postings(Q, X, XT, 12, lo, hi, skip, None, n_jobs, buffer_k=buffer_k,
                           dense_share=dense_share, dense_terms=dense_postings(XT, share))
    np.testing.assert_array_equal(dense[0], plain[0])
    np.testing.assert_array_equal(dense[1], plain[1])
    assert (plain[0] >= 0).sum() > 5 * n


@pytest.mark.parametrize("path", PATHS)
def test_rows_between_empty_ones_from_dense_rows_are_those_from_the_postings(small_model,
                                                                              path):
    """A worker's rows: the dense values span only the rows that hold terms, and windows
    start before them, end after them or fall inside them."""
    n = small_model.n_articles
    X = _with_empty_rows(small_model.matrix_, 40, 25)
    Q = _with_empty_rows(small_model.row_queries(np.arange(n)), 40, 25)
    XT = X.T.tocsr()
    lo, hi = _windows(X.shape[0], X.shape[0], 5)
    skip = np.arange(X.shape[0], dtype=np.int64)
    buffer_k, dense_share = PATHS[path]
    args = (Q, X, XT, 8, lo, hi, skip, None, 1)
    plain = top_k_postings(*args, buffer_k=buffer_k, dense_share=dense_share)
    dense = top_k_postings(*args, buffer_k=buffer_k, dense_share=dense_share,
                           dense_terms=dense_postings(XT, 0.0))
    np.testing.assert_array_equal(dense[0], plain[0])
    np.testing.assert_array_equal(dense[1], plain[1])
    assert (plain[0] >= 0).sum() > 3 * n


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("path", PATHS)
def test_signed_values_from_dense_rows_are_those_from_the_postings(seed, path):
    """Signed unit rows (some empty), random windows, rows to skip and an allowed mask."""
    Q, X, lo, hi, skip, allowed = random_case(seed)
    XT = X.T.tocsr()
    buffer_k, dense_share = PATHS[path]
    args = (Q, X, XT, 9, lo.astype(np.int64), hi.astype(np.int64), skip.astype(np.int64),
            allowed, 1)
    plain = top_k_postings(*args, buffer_k=buffer_k, dense_share=dense_share)
    dense = top_k_postings(*args, buffer_k=buffer_k, dense_share=dense_share,
                           dense_terms=dense_postings(XT, 0.0))
    np.testing.assert_array_equal(dense[0], plain[0])
    np.testing.assert_array_equal(dense[1], plain[1])


def test_top_k_passes_dense_rows_to_the_kernel(small_model):
    X = small_model.matrix_
    n = X.shape[0]
    Q = small_model.row_queries(np.arange(n))
    XT = X.T.tocsr()
    want = top_k(Q, X, 10, skip=np.arange(n), XT=XT, method="numba")
    got = top_k(Q, X, 10, skip=np.arange(n), XT=XT, dense_terms=dense_postings(XT),
                method="numba")
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_dense_rows_of_other_postings_are_refused(small_model):
    X = small_model.matrix_
    n, n_terms = X.shape
    XT = X.T.tocsr()
    longer = dense_postings(_with_empty_rows(X, 3, 0).T.tocsr(), 0.0)  # rows 3 to n + 3
    Q = small_model.row_queries(np.arange(3))
    lo, hi = np.zeros(3, np.int64), np.full(3, n, np.int64)
    skip = np.full(3, -1, np.int64)
    with pytest.raises(ParameterError, match=rf"^dense_terms are not those of these "
                                             rf"postings: {n_terms} terms and rows 3 to "
                                             rf"{n + 3}, for {n_terms} terms and {n} rows$"):
        top_k_postings(Q, X, XT, 5, lo, hi, skip, None, dense_terms=longer)
    short = DensePostings(np.zeros(2, np.int32), np.zeros((1, n), np.float32), 0)
    with pytest.raises(ParameterError, match=r"^dense_terms are not those of these "
                                             r"postings: 2 terms"):
        top_k_postings(Q, X, XT, 5, lo, hi, skip, None, dense_terms=short)
    few = DensePostings(np.zeros(n_terms, np.int32), np.zeros((3, n), np.float32), 0)
    with pytest.raises(ParameterError, match=r"^dense_terms are not those"):
        top_k_postings(Q, X, XT, 5, lo, hi, skip, None, dense_terms=few)
