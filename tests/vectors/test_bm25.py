"""Tests for recommender.vectors.bm25: the counts, lengths, statistics, BM25 weights and More
Like This queries of :class:`Bm25Vectorizer` against the brute-force oracle of
``helpers.Bm25Oracle`` (plain dicts over the analysed terms of each article), on the sample
and on hand-written texts; its settings and their errors."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from helpers import Bm25Oracle
from recommender.corpus import Article
from recommender.errors import NotFittedError, ParameterError
from recommender.model.search import mlt_queries
from recommender.text import french_stop_words
from recommender.vectors.bm25 import (AUTO, MLT_ANALYZER, MLT_FIELD_WEIGHTS, SHORT_TEXT_TERMS,
                                      Bm25Vectorizer)

RTOL = 1e-5  # float32 weights


def fitted(articles, **params):
    vectorizer = Bm25Vectorizer(**{"min_df": 2, **params})
    vectors = vectorizer.fit_vectors(articles)
    oracle = Bm25Oracle(articles, vectorizer.build_analyzer(),
                        min_df=params.get("min_df", 2), max_df=params.get("max_df", 1.0),
                        **{k: v for k, v in params.items()
                           if k in ("k1", "b", "idf_power", "query_terms", "min_term_freq",
                                    "query_stop_words")})
    return vectorizer, vectors, oracle


@pytest.fixture(scope="module")
def sample_fit(articles):
    """The sample with min_df=2, the other settings the defaults."""
    return fitted(articles)


def rows_as_dicts(vectorizer, X) -> list[dict]:
    terms = vectorizer.terms()
    return [dict(zip(terms[X.indices[a:z]].tolist(), X.data[a:z].tolist()))
            for a, z in zip(X.indptr[:-1], X.indptr[1:])]


def query_terms(vectorizer, counts) -> list[list]:
    """The terms of each row's More Like This query, as the package chooses them."""
    Q = mlt_queries(vectorizer.query_weights(counts), vectorizer.settings()["query_terms"])
    assert (Q.data == 1).all() and Q.dtype == np.float32
    terms = vectorizer.terms()
    return [sorted(terms[Q.indices[a:z]].tolist()) for a, z in zip(Q.indptr[:-1], Q.indptr[1:])]


# -- the defaults ------------------------------------------------------------------------------
def test_one_field_without_a_stop_list_by_default():
    assert MLT_FIELD_WEIGHTS == {"title": 1.0, "heading": 1.0, "body": 1.0}
    assert MLT_ANALYZER == {"stop_words": False}
    settings = Bm25Vectorizer().settings()
    assert settings["field_weights"] == MLT_FIELD_WEIGHTS
    assert settings["analyzer"]["stop_words"] is False
    assert {k: settings[k] for k in ("min_df", "max_df", "k1", "b", "idf_power",
                                     "query_terms", "min_term_freq", "query_stop_words")} == {
        "min_df": 5, "max_df": 1.0, "k1": 0.8, "b": 0.75, "idf_power": 0.75,
        "query_terms": 30, "min_term_freq": "auto", "query_stop_words": "auto"}
    assert AUTO == "auto" and SHORT_TEXT_TERMS == 100
    analyzer = Bm25Vectorizer().build_analyzer()
    assert analyzer("Le tigre et la forêt") == ["le", "tigre", "et", "la", "foret"]


@pytest.mark.parametrize("analyzer, words", [
    (None, ["le", "tigre", "et", "la", "foret"]),
    ({"stop_words": True}, ["tigre", "foret"]),  # the user's dict goes over MLT_ANALYZER
    ({"min_length": 3}, ["tigre", "foret"]),     # and keeps its stop_words False
])
def test_the_users_analyzer_goes_over_the_default(analyzer, words):
    vectorizer = Bm25Vectorizer(analyzer=analyzer)
    assert vectorizer.build_analyzer()("Le tigre et la forêt") == words
    assert vectorizer.settings()["analyzer"]["stop_words"] is (
        (analyzer or {}).get("stop_words", False))
    assert MLT_ANALYZER == {"stop_words": False}  # left alone


# -- fitting on the sample ---------------------------------------------------------------------
def test_counts_and_lengths_are_the_analysed_terms(sample_fit, articles):
    vectorizer, (counts, lengths), oracle = sample_fit
    assert counts.dtype == np.float32 and lengths.dtype == np.float64
    assert counts.shape == (41, len(oracle.df))
    # columns in alphabetical order of the terms kept by min_df
    assert vectorizer.terms().tolist() == sorted(oracle.df)
    for i, article in enumerate(articles):  # rows in input order
        assert rows_as_dicts(vectorizer, counts)[i] == {
            t: n for t, n in oracle.tf[article.id].items() if t in oracle.df}
        assert lengths[i] == oracle.length[article.id]  # terms dropped by min_df included
    assert (lengths > np.asarray(counts.sum(axis=1)).ravel()).any()


def test_statistics_of_the_corpus(sample_fit):
    vectorizer, _, oracle = sample_fit
    assert vectorizer.n_documents_ == 41
    assert vectorizer.mean_length_ == pytest.approx(oracle.avgdl, rel=1e-12)
    assert vectorizer.median_length_ == oracle.median  # 41 lengths: the 21st
    assert oracle.median == sorted(oracle.length.values())[20]
    terms = vectorizer.terms()
    assert vectorizer.df_.dtype == np.int64
    assert dict(zip(terms.tolist(), vectorizer.df_.tolist())) == oracle.df
    assert vectorizer.idf_.dtype == np.float32
    np.testing.assert_allclose(vectorizer.idf_, [oracle.idf(t) ** 0.75 for t in terms],
                               rtol=RTOL)
    assert (vectorizer.idf_ > 0).all()  # BM25's idf + 1 inside the log: never negative


def test_weights_are_bm25(sample_fit, articles):
    vectorizer, vectors, oracle = sample_fit
    X = vectorizer.weigh(*vectors)
    assert X.dtype == np.float32 and X.shape == vectors.counts.shape
    np.testing.assert_array_equal(X.indices, vectors.counts.indices)
    for i, row in enumerate(rows_as_dicts(vectorizer, X)):
        want = oracle.row(articles[i].id)
        assert row.keys() == want.keys()
        np.testing.assert_allclose([row[t] for t in want], list(want.values()), rtol=RTOL)


def test_transform_gives_the_rows_of_the_fit(sample_fit, articles):
    vectorizer, vectors, _ = sample_fit
    X = vectorizer.weigh(*vectors)
    again = vectorizer.transform_vectors(articles)
    np.testing.assert_array_equal(again.lengths, vectors.lengths)
    assert (again.counts != vectors.counts).nnz == 0
    assert (vectorizer.transform(articles) != X).nnz == 0
    assert (Bm25Vectorizer(min_df=2).fit_transform(articles) != X).nnz == 0


def test_queries_are_the_more_like_this_terms(sample_fit, articles):
    vectorizer, (counts, _), oracle = sample_fit
    got = query_terms(vectorizer, counts)
    for i, article in enumerate(articles):
        assert got[i] == sorted(oracle.query_of(article)), article.id
    sizes = [len(q) for q in got]
    assert max(sizes) == 30 and min(sizes) < 30  # some articles have fewer terms said twice


@pytest.mark.parametrize("settings", [{"min_term_freq": 1}, {"query_terms": 5},
                                      {"min_term_freq": 3, "query_terms": 12},
                                      {"k1": 1.2, "b": 0.3, "idf_power": 1.0},
                                      {"query_stop_words": True},
                                      {"min_term_freq": 1, "query_stop_words": True},
                                      {"min_term_freq": 2, "query_stop_words": False}],
                         ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()))
def test_other_settings_against_the_oracle(articles, settings):
    vectorizer, vectors, oracle = fitted(articles, **settings)
    got = query_terms(vectorizer, vectors.counts)
    rows = rows_as_dicts(vectorizer, vectorizer.weigh(*vectors))
    for i, article in enumerate(articles):
        assert got[i] == sorted(oracle.query_of(article)), article.id
        want = oracle.row(article.id)
        np.testing.assert_allclose([rows[i][t] for t in want], list(want.values()), rtol=RTOL)


def test_query_ties_go_to_the_alphabetically_first_term():
    # in "q", every word occurs twice and in 2 of the 3 texts: equal strengths
    docs = [Article(id="q", body="zèbre zèbre alpaga alpaga mouflon mouflon bison bison"),
            Article(id="a", body="zèbre alpaga mouflon bison"),
            Article(id="b", body="loutre")]
    vectorizer = Bm25Vectorizer(min_df=1, query_terms=2, min_term_freq=2)
    counts, _ = vectorizer.fit_vectors(docs)
    assert query_terms(vectorizer, counts) == [["alpaga", "bison"], [], []]
    vectorizer.set_params(query_terms=3)
    assert query_terms(vectorizer, counts)[0] == ["alpaga", "bison", "mouflon"]
    # short texts (lengths 8, 4, 1): "auto" takes words said once, ties alike
    vectorizer.set_params(query_terms=2, min_term_freq="auto")
    assert query_terms(vectorizer, counts) == [["alpaga", "bison"], ["alpaga", "bison"],
                                               ["loutre"]]


def test_a_query_term_needs_min_term_freq_occurrences():
    docs = [Article(id="q", title="Loutre", body="loutre castor castor castor héron"),
            Article(id="a", body="loutre castor héron"), Article(id="b", body="bison")]
    vectorizer = Bm25Vectorizer(min_df=1)
    counts, lengths = vectorizer.fit_vectors(docs)
    assert lengths.tolist() == [6, 3, 1]
    # short texts: "auto" is 1, so héron (said once) is a query term
    assert vectorizer.query_rule() == (1, True)
    assert query_terms(vectorizer, counts)[0] == ["castor", "heron", "loutre"]
    vectorizer.set_params(min_term_freq=2)
    assert query_terms(vectorizer, counts)[0] == ["castor", "loutre"]  # héron: once
    vectorizer.set_params(min_term_freq=3)
    assert query_terms(vectorizer, counts)[0] == ["castor"]
    # strength tf * (ln((N + 1) / (df + 1)) + 1): castor 3 * (ln(4/3) + 1) before loutre
    weights = vectorizer.query_weights(counts).toarray()[0]
    castor = vectorizer.vocabulary_["castor"]
    assert weights[castor] == pytest.approx(3 * (math.log(4 / 3) + 1), rel=1e-12)


# -- the query rule: "auto" from the median length -------------------------------------------
def texts_of_lengths(*lengths) -> list:
    """Texts of these numbers of terms (one word repeated: no stop word)."""
    return [Article(id=str(i), body=" ".join(["tigre"] * n)) for i, n in enumerate(lengths)]


@pytest.mark.parametrize("lengths, median, rule", [
    ((99, 99, 500), 99.0, (1, True)),
    ((10, 100, 100), 100.0, (2, False)),    # 100 is not short: under 100 only
    ((50, 149, 10, 200), 99.5, (1, True)),  # an even count: the mean of the middle two
    ((50, 151, 10, 200), 100.5, (2, False)),
])
def test_auto_is_chosen_by_the_median_length(lengths, median, rule):
    vectorizer = Bm25Vectorizer(min_df=1).fit(texts_of_lengths(*lengths))
    assert vectorizer.median_length_ == median
    assert vectorizer.query_rule() == rule
    assert vectorizer.settings()["min_term_freq"] == vectorizer.settings()[
        "query_stop_words"] == "auto"  # the settings keep "auto"; the rule resolves it


@pytest.mark.parametrize("params, short, long", [
    ({"min_term_freq": 3}, (3, True), (3, False)),
    ({"query_stop_words": False}, (1, False), (2, False)),
    ({"query_stop_words": True}, (1, True), (2, True)),
    ({"min_term_freq": 1, "query_stop_words": False}, (1, False), (1, False)),
])
def test_explicit_values_are_kept(params, short, long):
    for lengths, want in (((5, 5, 5), short), ((300, 300, 300), long)):
        vectorizer = Bm25Vectorizer(min_df=1, **params).fit(texts_of_lengths(*lengths))
        assert vectorizer.query_rule() == want


def test_query_rule_of_the_sample(sample_fit):
    vectorizer, _, oracle = sample_fit
    assert oracle.median > SHORT_TEXT_TERMS  # full articles
    assert vectorizer.query_rule() == (2, False)


def test_query_rule_needs_a_fit():
    with pytest.raises(NotFittedError, match=r"^this vectorizer is not fitted yet"):
        Bm25Vectorizer().query_rule()


def test_stop_words_leave_the_queries_only():
    # "le" and "dans" are stop words said twice; "tigre" and "foret" are not
    docs = [Article(id="q", body="le tigre dans la forêt, le tigre dans la forêt"),
            Article(id="a", body="le tigre dans la forêt"), Article(id="b", body="loutre")]
    keep = Bm25Vectorizer(min_df=1, min_term_freq=2, query_stop_words=False)
    out = Bm25Vectorizer(min_df=1, min_term_freq=2, query_stop_words=True)
    vectors = keep.fit_vectors(docs)
    out.fit_vectors(docs)
    assert {"le", "dans", "la"} <= french_stop_words()
    assert query_terms(keep, vectors.counts)[0] == ["dans", "foret", "la", "le", "tigre"]
    assert query_terms(out, vectors.counts)[0] == ["foret", "tigre"]
    assert (keep.weigh(*vectors) != out.weigh(*vectors)).nnz == 0  # the rows keep them
    weights = out.query_weights(vectors.counts)
    assert weights[0, out.vocabulary_["le"]] == 0 and weights[0, out.vocabulary_["tigre"]] > 0


def test_stop_words_are_compared_without_accents():
    """Terms are accent-free: "été" and "où" (stop words) are the terms "ete" and "ou"."""
    docs = [Article(id="q", body="été été où où tigre tigre"), Article(id="a", body="tigre")]
    vectorizer = Bm25Vectorizer(min_df=1, min_term_freq=2, query_stop_words=True)
    counts, _ = vectorizer.fit_vectors(docs)
    assert sorted(vectorizer.vocabulary_) == ["ete", "ou", "tigre"]
    assert query_terms(vectorizer, counts)[0] == ["tigre"]


def test_words_outside_the_vocabulary_count_in_the_length_only(sample_fit):
    vectorizer, _, _ = sample_fit
    text = Article(id="x", title="Tigre de Sumatra",
                   body="Un ornithorynque et un tigre, xyzzyq.")
    counts, lengths = vectorizer.transform_vectors([text])
    analysed = vectorizer.build_analyzer()
    terms = analysed(text.title) + analysed(text.body)
    assert lengths.tolist() == [len(terms)] == [9]  # 3 + 6 words, none dropped
    assert counts.shape == (1, len(vectorizer.vocabulary_))
    row = rows_as_dicts(vectorizer, counts)[0]
    assert row == {t: terms.count(t) for t in set(terms) if t in vectorizer.vocabulary_}
    assert "ornithorynque" not in row and row["tigre"] == 2 and row["un"] == 2


# -- with_settings -----------------------------------------------------------------------------
def test_with_settings_equals_a_fit_with_those_settings(sample_fit, articles):
    vectorizer, vectors, _ = sample_fit
    idf = vectorizer.idf_.copy()
    other = vectorizer.with_settings(k1=1.5, b=0.2, idf_power=1.0, query_terms=7,
                                     min_term_freq=3, query_stop_words=True)
    refit, refit_vectors, _ = fitted(articles, k1=1.5, b=0.2, idf_power=1.0, query_terms=7,
                                     min_term_freq=3, query_stop_words=True)
    np.testing.assert_array_equal(other.idf_, refit.idf_)
    assert other.settings() == refit.settings()
    assert (other.weigh(*vectors) != refit.weigh(*refit_vectors)).nnz == 0
    assert query_terms(other, vectors.counts) == query_terms(refit, refit_vectors.counts)
    # the original is left alone
    np.testing.assert_array_equal(vectorizer.idf_, idf)
    assert vectorizer.settings()["k1"] == 0.8 and vectorizer.settings()["query_terms"] == 30
    assert vectorizer.query_rule() == (2, False) and other.query_rule() == (3, True)


def test_a_fitted_vectorizer_pickles(sample_fit, articles):
    vectorizer, vectors, _ = sample_fit
    again = pickle.loads(pickle.dumps(vectorizer))
    assert (again.transform(articles[:5]) != vectorizer.transform(articles[:5])).nnz == 0


# -- errors ------------------------------------------------------------------------------------
def test_not_fitted():
    for call in (lambda v: v.transform([Article(id="a", title="x")]), lambda v: v.terms(),
                 lambda v: v.with_settings(k1=1.0)):
        with pytest.raises(NotFittedError, match=r"^this vectorizer is not fitted yet; call "
                                                 r"fit\(\) first$"):
            call(Bm25Vectorizer())


@pytest.mark.parametrize("params, message", [
    ({"k1": 11}, r"^k1 must be a number between 0 and 10, got 11$"),
    ({"k1": None}, r"^k1 must be a number between 0 and 10, got None$"),
    ({"b": -0.1}, r"^b must be a number between 0 and 1, got -0\.1$"),
    ({"b": True}, r"^b must be a number between 0 and 1, got True$"),
    ({"idf_power": 4.5}, r"^idf_power must be a number between 0 and 4, got 4\.5$"),
    ({"query_terms": 0}, r"^query_terms must be a positive integer, got 0$"),
    ({"query_terms": None}, r"^query_terms must be a positive integer, got None$"),
    ({"min_term_freq": 0}, r"^min_term_freq must be a positive integer or 'auto', got 0$"),
    ({"min_term_freq": "Auto"}, r"^min_term_freq must be a positive integer or 'auto', got "
                                r"'Auto'$"),
    ({"min_term_freq": True}, r"^min_term_freq must be a positive integer or 'auto', got "
                              r"True$"),
    ({"query_stop_words": "yes"}, r"^query_stop_words must be true, false or 'auto', got "
                                  r"'yes'$"),
    ({"query_stop_words": 1}, r"^query_stop_words must be true, false or 'auto', got 1$"),
    ({"query_stop_words": None}, r"^query_stop_words must be true, false or 'auto', got "
                                 r"None$"),
    ({"min_df": 0}, r"^min_df must be a positive integer, got 0$"),
    ({"max_df": 0}, r"^max_df must be in \(0, 1\], got 0$"),
    ({"field_weights": {"titre": 1}}, r"^field_weights has unknown fields \['titre'\]"),
])
def test_bad_settings_are_named(articles, params, message):
    vectorizer = Bm25Vectorizer(**params)
    with pytest.raises(ParameterError, match=message):
        vectorizer.settings()
    with pytest.raises(ParameterError, match=message):
        vectorizer.fit(articles)  # before any article is read
    assert not hasattr(vectorizer, "idf_")


def test_no_term_left_is_named(articles):
    with pytest.raises(ParameterError, match=r"^no term is left after min_df=100 and "
                                             r"max_df=1\.0 on 41 articles; lower min_df$"):
        Bm25Vectorizer(min_df=100).fit(articles)


@pytest.mark.parametrize("settings", [{}, {"min_term_freq": 1}, {"min_term_freq": 3},
                                      {"query_stop_words": True, "k1": 1.2, "b": 0.3}],
                         ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()) or "defaults")
@pytest.mark.parametrize("block", [1, 7, 500, None])
def test_weights_are_those_of_the_formula_bit_for_bit(monkeypatch, articles, settings, block):
    """The weights and query weights (made a block of rows at a time, as a model's load
    makes them; blocks smaller than a row, of several rows, or all of them) are bit for bit
    those of the formulas written plainly in float64: a saved model's rows do not move
    with the way they are computed."""
    import recommender.vectors.rowblocks as rowblocks

    if block is not None:
        monkeypatch.setattr(rowblocks, "BLOCK_ENTRIES", block)
    vectorizer, (counts, lengths), _ = fitted(articles, **settings)
    k1, b = vectorizer.settings()["k1"], vectorizer.settings()["b"]
    row = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    tf = counts.data.astype(np.float64)
    norm = k1 * (1 - b + b * lengths / vectorizer.mean_length_)
    want = (tf * (k1 + 1) / (tf + norm[row]) * vectorizer.idf_[counts.indices]).astype(np.float32)
    got = vectorizer.weigh(counts, lengths)
    assert np.array_equal(got.indices, counts.indices)
    assert np.array_equal(got.data.view(np.int32), want.view(np.int32))

    min_tf, stops = vectorizer.query_rule()
    kept = (counts.data >= min_tf) & ~(stops & vectorizer.stop_terms()[counts.indices])
    select_idf = np.log((vectorizer.n_documents_ + 1) / (vectorizer.df_ + 1.0)) + 1
    got = vectorizer.query_weights(counts)
    assert got.dtype == np.float64 and np.array_equal(got.indices, counts.indices[kept])
    assert np.array_equal(got.indptr, np.r_[0, np.cumsum(np.bincount(row[kept],
                                                                     minlength=len(lengths)))])
    assert np.array_equal(got.data, tf[kept] * select_idf[counts.indices[kept]])
