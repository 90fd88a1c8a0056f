"""Tests for recommender.vectors.tfidf and ``recommender.index.topk.keep_strongest``:
``keep_strongest`` against a per-row brute force, the idf power of
:class:`FieldTfidfVectorizer` against weights computed by hand, and its parameters."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.corpus import Article
from recommender.errors import NotFittedError, ParameterError
from recommender.index.topk import fast_kernel, keep_strongest
from recommender.vectors.tfidf import FieldTfidfVectorizer


# -- keep_strongest ------------------------------------------------------------------------
def strongest_by_row(X, n: int) -> list[dict]:
    """Brute force, one row at a time: {column: value} of the ``n`` largest values, ties at
    the cut going to the lowest column."""
    dense = X.toarray()
    stored = X.copy()
    stored.data[:] = 1  # which cells are stored, zero values included
    present = stored.toarray() > 0
    out = []
    for values, mask in zip(dense, present):
        cells = sorted(np.flatnonzero(mask).tolist(), key=lambda c: (-values[c], c))[:n]
        out.append({c: float(values[c]) for c in cells})
    return out


@pytest.fixture(params=["compiled", "numpy"])
def selection(request, monkeypatch):
    """keep_strongest's two paths: compiled row by row (numba), and one numpy sort."""
    if request.param == "numpy":
        monkeypatch.setattr("recommender.index.topk.fast_kernel", lambda: None)
    elif fast_kernel() is None:
        pytest.skip("numba is not installed")
    return request.param


def rows_of(X) -> list[dict]:
    return [dict(zip(X.indices[a:z].tolist(), X.data[a:z].astype(float).tolist()))
            for a, z in zip(X.indptr[:-1], X.indptr[1:])]


def random_matrix(rng, n_rows: int, n_cols: int, density: float, levels: int):
    """A float32 CSR matrix whose values take ``levels`` distinct values: many ties."""
    X = sp.random(n_rows, n_cols, density=density, format="csr", random_state=rng,
                  dtype=np.float32)
    X.data = rng.integers(1, levels + 1, X.nnz).astype(np.float32) / levels
    return X


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_keep_strongest_equals_brute_force(seed, n, selection):
    rng = np.random.default_rng(seed)
    X = random_matrix(rng, 25, 12, density=[0.05, 0.3, 0.8][seed % 3], levels=[2, 3, 50][seed % 3])
    rows = np.ones(25, np.float32)
    rows[3] = 0  # an empty row whatever the draw
    X = (sp.diags(rows) @ X).tocsr()
    X.eliminate_zeros()
    X.sort_indices()
    before = X.copy()
    Y = keep_strongest(X, n)
    Y.check_format(full_check=True)
    assert isinstance(Y, sp.csr_matrix) and Y.shape == X.shape and Y.dtype == np.float32
    assert rows_of(Y) == strongest_by_row(X, n)
    assert np.diff(Y.indptr).tolist() == np.minimum(np.diff(X.indptr), n).tolist()
    assert Y.has_sorted_indices  # sorted in, sorted out
    # the input is left as it was
    assert (X != before).nnz == 0 and X.nnz == before.nnz


def test_keep_strongest_ties_go_to_the_lowest_column(selection):
    X = sp.csr_matrix(np.array([[0.5, 0.5, 0.5, 0.5],        # four-way tie
                                [0.125, 0.75, 0.75, 0.25],   # tie of the two best
                                [0.0, 0.25, 0.0, 0.25],      # two entries only
                                [0.0, 0.0, 0.0, 0.0]],       # empty
                               dtype=np.float32))
    assert rows_of(keep_strongest(X, 1)) == [{0: 0.5}, {1: 0.75}, {1: 0.25}, {}]
    assert rows_of(keep_strongest(X, 2)) == [{0: 0.5, 1: 0.5}, {1: 0.75, 2: 0.75},
                                             {1: 0.25, 3: 0.25}, {}]
    assert rows_of(keep_strongest(X, 3)) == [{0: 0.5, 1: 0.5, 2: 0.5},
                                             {1: 0.75, 2: 0.75, 3: 0.25},
                                             {1: 0.25, 3: 0.25}, {}]


def test_keep_strongest_with_rows_shorter_than_n_is_an_equal_copy(selection):
    X = sp.csr_matrix(np.array([[0.0, 2.0, 1.0], [3.0, 0.0, 0.0]], dtype=np.float32))
    Y = keep_strongest(X, 5)
    assert rows_of(Y) == rows_of(X)
    Y.data[:] = 0  # a new matrix: writing to it leaves the input alone
    assert X.data.tolist() == [2.0, 1.0, 3.0]


def test_keep_strongest_of_an_all_empty_matrix(selection):
    X = sp.csr_matrix((3, 4), dtype=np.float32)
    Y = keep_strongest(X, 2)
    assert Y.shape == (3, 4) and Y.nnz == 0
    Y.check_format(full_check=True)


def test_keep_strongest_unsorted_input_indices(selection):
    """A CSR matrix whose column indices are not sorted within rows (as sums of products
    leave them): the choice is by value then column, not by storage position."""
    X = sp.csr_matrix((np.array([0.25, 0.75, 0.25, 0.75], np.float32), np.array([3, 2, 0, 1]),
                       np.array([0, 4])), shape=(1, 4))
    assert not X.has_sorted_indices
    Y = keep_strongest(X, 3)
    Y.check_format(full_check=True)
    assert rows_of(Y) == [{1: 0.75, 2: 0.75, 0: 0.25}]


def test_keep_strongest_paths_agree_on_a_large_matrix_with_ties(monkeypatch):
    if fast_kernel() is None:
        pytest.skip("numba is not installed")
    X = random_matrix(np.random.default_rng(7), 3000, 400, density=0.1, levels=6)
    compiled = keep_strongest(X, 20)
    monkeypatch.setattr("recommender.index.topk.fast_kernel", lambda: None)
    plain = keep_strongest(X, 20)
    for part in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(compiled, part), getattr(plain, part))


# -- idf_power -----------------------------------------------------------------------------
# Body only, weight 1, every term kept: weight = (1 + ln(count)) * idf ** p, rows unit.
DOCS = {"a": "chat chat chien", "b": "chien souris", "c": "souris oiseau chat chat chat"}
COUNTS = {"a": {"chat": 2, "chien": 1}, "b": {"chien": 1, "souris": 1},
          "c": {"souris": 1, "oiseau": 1, "chat": 3}}


def hand_weights(p: float) -> dict:
    """{article: {term: weight}} from the formula, in float64."""
    n = len(DOCS)
    df = {}
    for counts in COUNTS.values():
        for term in counts:
            df[term] = df.get(term, 0) + 1
    idf = {t: math.log((1 + n) / (1 + d)) + 1 for t, d in df.items()}
    out = {}
    for doc, counts in COUNTS.items():
        raw = {t: (1 + math.log(c)) * idf[t] ** p for t, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in raw.values()))
        out[doc] = {t: v / norm for t, v in raw.items()}
    return out


def tiny_vectorizer(**params):
    articles = [Article(id=i, body=text) for i, text in DOCS.items()]
    vec = FieldTfidfVectorizer(**{"field_weights": {"body": 1.0}, "min_df": 1, "max_df": 1.0,
                                  **params})
    return vec, vec.fit_transform(articles)


def as_dicts(vec, X) -> dict:
    terms = vec.terms()
    return {doc: {terms[c]: float(v) for c, v in row.items()}
            for doc, row in zip(DOCS, rows_of(X))}


@pytest.mark.parametrize("p", [0, 0.5, 1, 2.5, 4])
def test_weights_are_sublinear_tf_times_idf_to_the_power(p):
    vec, X = tiny_vectorizer(idf_power=p)
    assert sorted(vec.vocabulary_) == ["chat", "chien", "oiseau", "souris"]
    got, want = as_dicts(vec, X), hand_weights(p)
    assert got.keys() == want.keys()
    for doc in DOCS:
        assert got[doc].keys() == want[doc].keys(), doc
        for term, w in want[doc].items():
            assert got[doc][term] == pytest.approx(w, abs=1e-6), (doc, term)
    assert vec.settings()["idf_power"] == float(p)
    assert type(vec.settings()["idf_power"]) is float


def test_idf_power_zero_ignores_document_frequency():
    """p = 0: a word in every other article weighs as much as a word in one."""
    vec, X = tiny_vectorizer(idf_power=0)
    row_c = dict(zip(vec.terms()[X[2].indices].tolist(), X[2].data.tolist()))
    chat = 1 + math.log(3)  # souris and oiseau once each, chat three times
    norm = math.sqrt(1 + 1 + chat ** 2)
    assert row_c == pytest.approx({"souris": 1 / norm, "oiseau": 1 / norm, "chat": chat / norm},
                                  abs=1e-6)


def test_idf_power_1_is_the_plain_behaviour():
    plain_vec, plain = tiny_vectorizer()
    vec, X = tiny_vectorizer(idf_power=1)
    assert plain_vec.idf_power == 1.0
    assert (plain != X).nnz == 0
    np.testing.assert_array_equal(plain_vec.idf_, vec.idf_)
    # and it is sklearn's smooth idf, by hand: ln(4 / 3) + 1 for a term in 2 of 3 articles
    assert float(vec.idf_[vec.vocabulary_["chat"]]) == pytest.approx(math.log(4 / 3) + 1,
                                                                      rel=1e-6)


def test_transform_uses_the_idf_power():
    vec, X = tiny_vectorizer(idf_power=2.5)
    again = vec.transform([Article(id=i, body=t) for i, t in DOCS.items()])
    np.testing.assert_allclose(again.toarray(), X.toarray(), rtol=0, atol=1e-7)


@pytest.mark.parametrize("bad, shown", [(-1, "-1"), (5, "5"), ("0.5", "'0.5'"),
                                        (True, "True"), (float("nan"), "nan"),
                                        (None, "None"), (4.0001, "4.0001")])
def test_bad_idf_power(bad, shown):
    message = rf"^idf_power must be a number between 0 and 4, got {shown}$"
    with pytest.raises(ParameterError, match=message):
        tiny_vectorizer(idf_power=bad)
    with pytest.raises(ParameterError, match=message):
        FieldTfidfVectorizer(idf_power=bad).settings()
    FieldTfidfVectorizer(idf_power=bad).get_params()  # only stores it, as scikit-learn's


# -- parameters and settings ---------------------------------------------------------------
SETTINGS = dict(field_weights={"title": 1, "body": 3, "heading": 0}, min_df=3, max_df=0.9,
                sublinear_tf=False, analyzer={"stem": True, "min_length": 3}, idf_power=2)


def test_get_params_are_the_constructor_arguments():
    vec = FieldTfidfVectorizer(**SETTINGS, n_jobs=3, chunk_size=17)
    assert vec.get_params() == {**SETTINGS, "n_jobs": 3, "chunk_size": 17}
    assert vec.get_params()["field_weights"] is SETTINGS["field_weights"]  # stored as given
    vec.set_params(min_df=4, idf_power=0.5)
    assert (vec.min_df, vec.idf_power) == (4, 0.5)
    with pytest.raises(ParameterError, match="FieldTfidfVectorizer has no parameter 'mindf'"):
        vec.set_params(mindf=2)


def test_settings_are_the_resolved_values_a_model_saves():
    """Positive field weights as floats, the analyzer's whole parameters, idf_power a float;
    no setting of the run (n_jobs, chunk_size)."""
    vec = FieldTfidfVectorizer(**SETTINGS, n_jobs=3, chunk_size=17)
    settings = vec.settings()
    assert settings == {
        "field_weights": {"title": 1.0, "body": 3.0}, "min_df": 3, "max_df": 0.9,
        "sublinear_tf": False,
        "analyzer": {"stop_words": True, "stem": True, "min_length": 3, "keep_numbers": True,
                     "clean": True, "fold_stops": True},
        "idf_power": 2.0}
    assert list(settings) == ["field_weights", "min_df", "max_df", "sublinear_tf", "analyzer",
                              "idf_power"]
    assert list(settings["field_weights"]) == ["title", "body"]  # the fields' own order
    assert all(type(w) is float for w in settings["field_weights"].values())
    assert type(settings["idf_power"]) is float


def test_a_changed_analyzer_parameter_rebuilds_the_analyzer():
    vec = FieldTfidfVectorizer(analyzer={"min_length": 2})
    assert vec.build_analyzer()("Le PS et la loi") == ["ps", "loi"]
    vec.set_params(analyzer={"min_length": 3})
    assert vec.build_analyzer()("Le PS et la loi") == ["loi"]


@pytest.mark.parametrize("weights, message", [
    ({"lead": 1.0}, r"^field_weights has unknown fields \['lead'\]; expected some of title, "
                    r"heading, body$"),
    ({"title": 0, "body": 0}, r"^field_weights must be non-negative with one positive, got "),
    ({"title": -1, "body": 2}, r"^field_weights must be non-negative with one positive, got "),
])
def test_bad_field_weights(weights, message):
    with pytest.raises(ParameterError, match=message):
        FieldTfidfVectorizer(field_weights=weights).settings()
    with pytest.raises(ParameterError, match=message):
        FieldTfidfVectorizer(field_weights=weights).fit([Article(id="a", body="chat")])


@pytest.mark.parametrize("name, bad, message", [
    ("min_df", 0, r"^min_df must be a positive integer, got 0$"),
    ("min_df", 2.0, r"^min_df must be a positive integer, got 2\.0$"),
    ("max_df", 0, r"^max_df must be in \(0, 1\], got 0$"),
    ("max_df", 1.5, r"^max_df must be in \(0, 1\], got 1\.5$"),
    ("max_df", True, r"^max_df must be in \(0, 1\], got True$"),
])
def test_bad_document_frequency_limits(name, bad, message):
    with pytest.raises(ParameterError, match=message):
        tiny_vectorizer(**{name: bad})


def test_no_term_left_says_to_lower_min_df():
    with pytest.raises(ParameterError, match=r"^no term is left after min_df=4 and max_df=1\.0 "
                                             r"on 3 articles; lower min_df$"):
        tiny_vectorizer(min_df=4)


def test_transform_before_fit_is_not_fitted():
    with pytest.raises(NotFittedError, match=r"^this vectorizer is not fitted yet; call fit\(\) "
                                             r"first$"):
        FieldTfidfVectorizer().transform([Article(id="a", body="chat")])
