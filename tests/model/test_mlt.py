"""Tests for the More Like This scoring of ArticleRecommender (``scoring="mlt"``, the default):
its lists against a brute-force BM25 oracle written from the definition
(``helpers.Bm25Oracle``: the analysed terms of each article in dicts), with and without a
time filter; the contracts between its calls (batch and single, table and scoring, similar
and recommend, explain and the score, save and load, with_scoring and a refit); and the
folder checks of its counts and lengths."""

from __future__ import annotations

import dataclasses
import math
import re
import shutil
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from helpers import bm25_oracle, read_manifest, refresh_facts, write_manifest
from recommender import ArticleRecommender, ModelFormatError
from recommender.errors import ParameterError
from recommender.text import french_stop_words
from recommender.times import NO_LIMIT

RTOL = 1e-4  # float32 scores against float64 sums
TIGER = "CNT000001r4edC"
PARIS = ZoneInfo("Europe/Paris")
STOPS = french_stop_words()


@pytest.fixture(scope="module")
def model(small_model):
    """The sample model: More Like This with its defaults, min_df=2, calendar window."""
    assert small_model.scoring == "mlt" and small_model.window == "calendar"
    assert small_model.min_term_freq == small_model.query_stop_words == "auto"
    return small_model


@pytest.fixture(scope="module")
def oracle(model, articles):
    return bm25_oracle(model, articles)


@pytest.fixture(scope="module")
def by_id(articles) -> dict:
    return {a.id: a for a in articles}


def assert_oracle_list(got, want, score, k):
    """``got`` (ids, scores) is the oracle's top ``k``: same scores (rtol), the same ids
    but for near-ties."""
    ids, scores = got
    want = want[:k]
    assert len(ids) == len(want), (list(ids), want)
    np.testing.assert_allclose(scores, [score[a] for a in want], rtol=RTOL)
    for g, w in zip(ids, want):
        assert g == w or math.isclose(score[g], score[w], rel_tol=RTOL), (g, w)
    assert (np.diff(scores) <= 0).all()


def calendar_start(reference: datetime, days: float) -> datetime:
    """The start of the Paris day ``floor(days)`` days before the Paris day of
    ``reference``."""
    day = reference.astimezone(PARIS).date() - timedelta(days=math.floor(days))
    return datetime(day.year, day.month, day.day, tzinfo=PARIS)


# -- against the oracle --------------------------------------------------------------------
def test_the_sample_is_one_of_full_articles(model, oracle):
    """"auto" on the sample: full articles (median far above 100 terms), so query terms are
    said twice and stop words stay in the queries; the oracle resolves it on its own."""
    assert oracle.median > 100 and (oracle.min_term_freq, oracle.query_stop_words) == (2, False)
    assert model.vectorizer_.median_length_ == oracle.median
    assert model.vectorizer_.query_rule() == (2, False)


@pytest.mark.parametrize("k", [5, 40])
def test_recommend_equals_brute_force_bm25(model, oracle, by_id, k):
    assert oracle.n == 41 and len(oracle.df) == model.matrix_.shape[1]
    for source in model.ids_.tolist():
        want, score = oracle.ranking(oracle.query_of(by_id[source]), lambda a: a != source)
        assert_oracle_list(model.recommend(source, k=k, max_age=NO_LIMIT), want, score, k)


def test_recommend_with_a_time_filter_equals_brute_force_bm25(model, oracle, by_id):
    """As of the moment each site box was shown (or a fixed time), 30 calendar days back:
    candidates published from the start of that Paris day 30 days before, and before
    as_of."""
    checked = 0
    for source, article in by_id.items():
        as_of = article.related_at or datetime(2020, 6, 30, 0, 30, tzinfo=PARIS)
        start = calendar_start(as_of, 30)
        keep = (lambda a: a != source and by_id[a].published is not None
                and start <= by_id[a].published < as_of)
        want, score = oracle.ranking(oracle.query_of(article), keep)
        assert_oracle_list(model.recommend(source, k=10, as_of=as_of, max_age=30), want,
                           score, 10)
        checked += len(want) > 0
    assert checked >= 20


@pytest.fixture(scope="module")
def short_texts(articles) -> list:
    """The sample's titles and leads alone: a corpus of short texts (median under 100)."""
    return [dataclasses.replace(a, body="") for a in articles]


@pytest.mark.parametrize("corpus, params, rule", [
    ("full", {"query_stop_words": True}, (2, True)),
    ("full", {"min_term_freq": 1, "query_stop_words": True}, (1, True)),
    ("full", {"min_term_freq": 3}, (3, False)),
    ("short", {}, (1, True)),
    ("short", {"min_term_freq": 2, "query_stop_words": False}, (2, False)),
], ids=["stops-out", "once-stops-out", "thrice", "short-auto", "short-explicit"])
def test_other_query_rules_equal_brute_force_bm25(articles, short_texts, corpus, params, rule):
    texts = articles if corpus == "full" else short_texts
    model = ArticleRecommender(min_df=2, max_age=None, **params).fit(texts)
    oracle = bm25_oracle(model, texts)
    assert (oracle.min_term_freq, oracle.query_stop_words) == rule
    assert (oracle.median < 100) == (corpus == "short")
    assert model.vectorizer_.query_rule() == rule
    assert model.vectorizer_.median_length_ == oracle.median
    stops_in_queries = 0
    for article in texts:
        query = oracle.query_of(article)
        stops_in_queries += len(set(query) & STOPS)
        want, score = oracle.ranking(query, lambda a: a != article.id)
        assert_oracle_list(model.recommend(article.id, k=10), want, score, 10)
    assert (stops_in_queries == 0) == rule[1]


def test_stop_words_leave_the_queries_not_the_rows(model, articles):
    """query_stop_words=True changes the queries only: the rows (and so the scores of a
    given query) are the default model's, and some default query held stop words."""
    out = ArticleRecommender(min_df=2, query_stop_words=True).fit(articles)
    assert (out.matrix_ != model.matrix_).nnz == 0
    terms = model.vectorizer_.terms()
    stop_columns = np.flatnonzero([t in STOPS for t in terms.tolist()])
    assert model.matrix_[:, stop_columns].nnz > 0  # the rows hold stop words
    default_q, out_q = model.row_queries(np.arange(41)), out.row_queries(np.arange(41))
    assert default_q[:, stop_columns].nnz > 0 and out_q[:, stop_columns].nnz == 0


def test_scores_are_sums_over_the_query_terms(model, oracle, by_id):
    """One score by hand from the oracle's parts: the tiger story for its own box."""
    query = oracle.query_of(by_id[TIGER])
    assert len(query) == 30 and {"tigre", "sumatra", "braconnage"} <= set(query)
    other = "CNT000001r2yqP"
    by_term = {t: oracle.weight(t, other) for t in query}
    ids, scores = model.recommend(TIGER, k=40, max_age=NO_LIMIT)
    got = dict(zip(ids.tolist(), scores.tolist()))
    assert got[other] == pytest.approx(sum(by_term.values()), rel=RTOL)
    tf = oracle.tf[other]["tigre"]
    norm = 0.8 * (1 - 0.75 + 0.75 * oracle.length[other] / oracle.avgdl)
    assert by_term["tigre"] == pytest.approx(oracle.idf("tigre") ** 0.75 * tf * 1.8
                                             / (tf + norm), rel=1e-12)


# -- contracts between the calls -----------------------------------------------------------
def test_batch_equals_single_calls(model):
    sources = model.ids_.tolist()
    as_of = [None if i % 3 == 0 else f"2020-0{6 + i % 3}-1{i % 10}T23:30:00+02:00"
             for i in range(len(sources))]
    for filters in ({"max_age": NO_LIMIT}, {"as_of": as_of, "max_age": 20}):
        batch = model.recommend_batch(sources, k=12, **filters)
        for i, source in enumerate(sources):
            one = {k: (v[i] if k == "as_of" else v) for k, v in filters.items()}
            ids, scores = model.recommend(source, k=12, **one)
            np.testing.assert_array_equal(batch.ids[i, :len(ids)], ids)
            np.testing.assert_array_equal(batch.scores[i, :len(ids)], scores)
            assert (batch.ids[i, len(ids):] == "").all()


def test_table_equals_scoring(model, articles):
    assert model.table_indices_ is not None
    bare = ArticleRecommender(min_df=2, table_size=0).fit(articles)
    assert bare.table_indices_ is None
    for k in (1, 10, 40):
        table = model.recommend_batch(model.ids_, k=k)
        scored = bare.recommend_batch(model.ids_, k=k)
        np.testing.assert_array_equal(table.ids, scored.ids)
        np.testing.assert_array_equal(table.scores, scored.scores)


def test_a_fit_without_a_table_makes_its_rows_on_first_use(model, articles, tmp_path,
                                                            monkeypatch):
    # A cluster fit builds its table on the workers: its client fits with no table, saves
    # the counts, and never needs the BM25 rows and queries (seconds, and a copy of the
    # matrix, at 300k articles).
    from recommender.vectors.bm25 import Bm25Vectorizer

    made, weigh = [], Bm25Vectorizer.weigh
    monkeypatch.setattr(Bm25Vectorizer, "weigh",
                        lambda self, *args: made.append(1) or weigh(self, *args))
    bare = ArticleRecommender(min_df=2, table_size=0).fit(articles)
    bare.save(tmp_path / "bare")
    assert made == []
    assert (bare.matrix_ != model.matrix_).nnz == 0 and made == [1]
    assert (bare.content_.queries != model.content_.queries).nnz == 0
    np.testing.assert_array_equal(bare.recommend_batch(model.ids_, k=10).ids,
                                  model.recommend_batch(model.ids_, k=10).ids)
    assert made == [1]


@pytest.mark.parametrize("form", ["text", "article"])
def test_similar_of_an_article_is_its_list_and_itself(model, by_id, form):
    """Its text is its query: the same candidates and scores, with itself among them."""
    for source, article in by_id.items():
        text = (article if form == "article"
                else "\n".join((article.title, article.heading, article.body)))
        ids, scores = model.similar(text, k=40)
        others = [i for i, a in enumerate(ids.tolist()) if a != source]
        want_ids, want_scores = model.recommend(source, k=40)
        n = len(others)
        assert n >= len(want_ids) - 1  # similar lists 40 at most, itself included
        np.testing.assert_array_equal(ids[others], want_ids[:n])
        np.testing.assert_array_equal(scores[others], want_scores[:n])


def test_explain_adds_up_to_the_score(model):
    for source in model.ids_.tolist():
        ids, scores = model.recommend(source, k=5)
        for other, score in zip(ids, scores):
            terms = model.explain(source, other, n_terms=10_000)
            assert len(terms) <= model.mlt_terms
            assert sum(c for _, c in terms) == pytest.approx(float(score), rel=1e-5)


def test_save_and_load_give_the_same_lists(model, tmp_path, by_id):
    model.save(tmp_path / "model")
    loaded = ArticleRecommender.load(tmp_path / "model")
    assert loaded.scoring == "mlt" and loaded.get_params() == model.get_params()
    sources = model.ids_.tolist()
    for filters in ({}, {"max_age": NO_LIMIT}, {"as_of": "2020-07-01T00:00:00+02:00",
                                                "max_age": 10}):
        a = model.recommend_batch(sources, k=40, **filters)
        b = loaded.recommend_batch(sources, k=40, **filters)
        np.testing.assert_array_equal(a.ids, b.ids)
        np.testing.assert_array_equal(a.scores, b.scores)
    text = by_id[TIGER]
    for x, y in zip(model.similar(text, k=10), loaded.similar(text, k=10)):
        np.testing.assert_array_equal(x, y)
    assert model.explain(TIGER, "CNT000001r2yqP", 8) == loaded.explain(TIGER, "CNT000001r2yqP", 8)


# -- with_scoring --------------------------------------------------------------------------
@pytest.mark.parametrize("changes", [{"k1": 1.2}, {"b": 0.0}, {"b": 1.0}, {"mlt_idf_power": 1.0},
                                     {"mlt_terms": 8}, {"min_term_freq": 1},
                                     {"k1": 2.0, "b": 0.5, "mlt_terms": 50, "min_term_freq": 3},
                                     {"query_stop_words": True},
                                     {"min_term_freq": 1, "query_stop_words": True},
                                     {"window": "rolling"}, {"max_age": 30}],
                         ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_with_scoring_equals_a_refit(model, articles, changes):
    got = model.with_scoring(**changes)
    want = ArticleRecommender(min_df=2, **changes).fit(articles)
    assert got.get_params() == {**want.get_params(), "table_size": got.table_size}
    assert got.table_ is None  # the table held the old scoring's lists
    assert got.vectorizer_.query_rule() == want.vectorizer_.query_rule()
    for filters in ({}, {"max_age": NO_LIMIT}, {"as_of": "2020-06-30T08:00:00+02:00",
                                                "max_age": 6.5}):
        a = got.recommend_batch(model.ids_, k=15, **filters)
        b = want.recommend_batch(model.ids_, k=15, **filters)
        np.testing.assert_array_equal(a.ids, b.ids)
        np.testing.assert_allclose(a.scores, b.scores, rtol=1e-5)
    a, b = got.similar("Tigre de Sumatra\nUn tigre de Sumatra a été empoisonné.", k=8), \
        want.similar("Tigre de Sumatra\nUn tigre de Sumatra a été empoisonné.", k=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1], rtol=1e-5)


def test_with_scoring_leaves_the_original_alone(model):
    before = model.recommend_batch(model.ids_, k=10)
    data = model.matrix_.data.copy()
    params = model.get_params()
    other = model.with_scoring(k1=1.5, mlt_terms=5)
    assert other.vectorizer_ is not model.vectorizer_
    assert model.get_params() == params and model.vectorizer_.settings()["k1"] == 0.8
    np.testing.assert_array_equal(model.matrix_.data, data)
    after = model.recommend_batch(model.ids_, k=10)
    np.testing.assert_array_equal(before.ids, after.ids)
    np.testing.assert_array_equal(before.scores, after.scores)


@pytest.mark.parametrize("name", ["idf_power", "query_terms", "length_prior"])
def test_with_scoring_refuses_a_cosine_setting(model, name):
    with pytest.raises(ParameterError, match=rf"^with_scoring: {name} cannot change without "
                                             rf"refitting a model that scores with 'mlt'; its "
                                             rf"settings are k1, b, mlt_idf_power, mlt_terms, "
                                             rf"min_term_freq, query_stop_words, window, "
                                             rf"max_age$"):
        model.with_scoring(**{name: 1.0})


def test_with_scoring_refuses_what_needs_a_refit(model, cosine_model):
    with pytest.raises(ParameterError, match=r"^with_scoring: min_df, scoring cannot change "
                                             r"without refitting a model that scores with "
                                             r"'mlt'; its settings are k1, b, "):
        model.with_scoring(scoring="cosine", min_df=3)
    with pytest.raises(ParameterError, match=r"^with_scoring: k1 cannot change without "
                                             r"refitting a model that scores with 'cosine'; "
                                             r"its settings are idf_power, query_terms, "
                                             r"length_prior, window, max_age$"):
        cosine_model.with_scoring(k1=1.2)


def test_with_scoring_checks_the_values(model):
    with pytest.raises(ParameterError, match=r"^k1 must be a number between 0 and 10, got 20$"):
        model.with_scoring(k1=20)
    with pytest.raises(ParameterError, match=r"^window must be 'rolling' or 'calendar', got "
                                             r"'weekly'$"):
        model.with_scoring(window="weekly")


# -- the folder ----------------------------------------------------------------------------
@pytest.fixture
def copy_of(model_dir, tmp_path):
    path = tmp_path / "model"
    shutil.copytree(model_dir, path)
    return path


def test_lengths_not_listed_are_refused(copy_of):
    manifest = read_manifest(copy_of)
    del manifest["files"]["lengths.npy"]
    write_manifest(copy_of, manifest)
    with pytest.raises(ModelFormatError, match=r"manifest\.json: the model scores with 'mlt' "
                                               r"but lengths\.npy is not listed; the model is "
                                               r"damaged\. Retrain it\."):
        ArticleRecommender.load(copy_of)


@pytest.mark.parametrize("bad", [-1.0, math.inf, math.nan])
def test_lengths_that_are_not_counts_are_refused(copy_of, bad):
    lengths = np.load(copy_of / "lengths.npy")
    lengths[7] = bad
    np.save(copy_of / "lengths.npy", lengths, allow_pickle=False)
    refresh_facts(copy_of, "lengths.npy")  # a consistent manifest: the content check stops it
    with pytest.raises(ModelFormatError, match=r"lengths\.npy or matrix\.data\.npy holds a "
                                               r"negative or infinite count; the model is "
                                               r"damaged"):
        ArticleRecommender.load(copy_of, verify=False)


def test_lengths_of_another_shape_are_refused(copy_of):
    np.save(copy_of / "lengths.npy", np.ones(40), allow_pickle=False)
    refresh_facts(copy_of, "lengths.npy")
    with pytest.raises(ModelFormatError, match=r"lengths\.npy holds float64\[40\], expected "
                                               r"float64\[41\]"):
        ArticleRecommender.load(copy_of)


def test_a_count_that_is_not_positive_is_refused(copy_of):
    data = np.load(copy_of / "matrix.data.npy")
    data[3] = 0
    np.save(copy_of / "matrix.data.npy", data, allow_pickle=False)
    refresh_facts(copy_of, "matrix.data.npy")
    with pytest.raises(ModelFormatError, match=r"lengths\.npy or matrix\.data\.npy holds a "
                                               r"negative or infinite count"):
        ArticleRecommender.load(copy_of)


def test_the_manifest_holds_the_corpus_facts(model, model_dir, oracle):
    facts = read_manifest(model_dir)["bm25"]
    assert facts == {"n_documents": 41, "mean_length": pytest.approx(oracle.avgdl, rel=1e-12),
                     "median_length": oracle.median}
    loaded = ArticleRecommender.load(model_dir)
    assert loaded.vectorizer_.median_length_ == oracle.median
    assert loaded.vectorizer_.query_rule() == (2, False)


def test_a_loaded_model_resolves_auto_from_its_saved_median(copy_of, model):
    """The rule is read from the manifest's median, not recomputed: a median under 100
    makes the loaded model's queries those of short texts."""
    manifest = read_manifest(copy_of)
    manifest["bm25"]["median_length"] = 99.5
    write_manifest(copy_of, manifest)
    loaded = ArticleRecommender.load(copy_of)
    assert loaded.vectorizer_.query_rule() == (1, True)
    assert model.vectorizer_.query_rule() == (2, False)


@pytest.mark.parametrize("facts", [None, {"n_documents": 41}, {"n_documents": "41",
                                                                "mean_length": 237.2},
                                   {"n_documents": 41, "mean_length": -1},
                                   {"n_documents": 41, "mean_length": 237.2},
                                   {"n_documents": 41, "mean_length": 237.2,
                                    "median_length": -1},
                                   {"n_documents": 41, "mean_length": 237.2,
                                    "median_length": "303"}])
def test_bm25_facts_that_are_not_facts_are_refused(copy_of, facts):
    manifest = read_manifest(copy_of)
    if facts is None:
        del manifest["bm25"]
    else:
        manifest["bm25"] = facts
    write_manifest(copy_of, manifest)
    with pytest.raises(ModelFormatError, match=r"manifest\.json: vectorizer: bm25 must hold "
                                               r"n_documents \(an integer\), mean_length and "
                                               r"median_length \(numbers\), got "
                                               + re.escape(repr(facts))
                                               + r"; the model is damaged"):
        ArticleRecommender.load(copy_of)
