"""Tests for recommender.model.estimator: contracts every fitted model meets, filters against oracles
built from the sample's own dates and categories, and the errors users meet.

:class:`RecommenderContract` holds the contract tests (as implicit's test mixin does); each
way of obtaining a model (fitted, saved and loaded, scored in tiny blocks on two threads) is
a three-line subclass, run for both scorings: More Like This (the default), whose oracle
is BM25 from the articles' text (``helpers.Bm25Oracle``), and TF-IDF cosine, whose oracle
is the cosine of the model's rows. Time windows are checked against the definition of the
model's window (calendar days in its time zone, or a rolling number of seconds).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import warnings
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from recommender import (
    ArticleRecommender,
    CorpusError,
    CorpusWarning,
    NotFittedError,
    UnknownArticleError,
    read_corpus,
)
from recommender.text import tokenize
from recommender.errors import UndatedWarning

from helpers import bm25_oracle

TIE = 1e-6
#: BM25 scores reach about 100 and are float32 sums: they match the oracle to this
#: relative tolerance, and scores closer than it are ties.
MLT_RTOL = 1e-5
SCORINGS = ["mlt", "cosine"]
# The tiger story and the two tiger stories of its site box (tests/data/README.md)
TIGER = "CNT000001r4edC"
TIGER_RELATED = ("CNT000001rdIhh", "CNT000001r2yqP")
COLBERT = "CNT000001r6juu"  # "Le taggeur de la statue de Colbert jugé en août"
STATUE = "CNT000001r5WkQ"  # "La statue de Colbert ... vandalisée", 2020-06-24T11:05:00+02:00
TESLA, MASERATI = "CNT000001fiMl0", "CNT000001t9XLN"  # car news of 2019 and 2020
NEWEST = "CNT000001tA9aa"  # the newest article of the sample: 2020-09-25T17:16:30+02:00
# examples/README.md: the page's sidebar/"Aller plus loin" teasers and its "À lire :" titles.
PAGE_TEASERS = ("CNT000001qC7ZY", "CNT000001q02vP", "CNT000001qiHFZ", "CNT000001tA9aa",
                "CNT000001rcNF3", "CNT000001qLNcO", "CNT000001qSBnI")


# -- the sample, read independently of the package ---------------------------------------
@pytest.fixture(scope="module")
def sample(articles_path) -> dict:
    """id -> raw record of tests/data/articles.jsonl, with ``when`` an aware datetime."""
    out = {}
    for line in articles_path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        record["when"] = datetime.fromisoformat(record["published"])
        out[record["id"]] = record
    assert len(out) == 41
    return out


def length_prior(model) -> np.ndarray:
    """Each row's ``(n_terms / mean n_terms) ** length_prior``, from its number of terms."""
    n_terms = np.diff(model.matrix_.indptr)
    return (np.maximum(n_terms, 1) / n_terms[n_terms > 0].mean()) ** model.length_prior


def cosine_query(model, u: np.ndarray) -> np.ndarray:
    """The cosine query of a unit TF-IDF row ``u`` from the definition: its ``query_terms``
    largest weights (ties: lowest column), renormalised (dense float64)."""
    q = np.asarray(u, np.float64).ravel().copy()
    nonzero = np.flatnonzero(q)
    if model.query_terms is not None and len(nonzero) > model.query_terms:
        strongest = nonzero[np.lexsort((nonzero, -q[nonzero]))][:model.query_terms]
        q[np.setdiff1d(nonzero, strongest)] = 0
    return q / (np.linalg.norm(q) or 1)


def oracle_scores(model, u: np.ndarray) -> np.ndarray:
    """Cosine by brute force from the definition, in dense float64: a row's score is the
    cosine of its unit row with the query of ``u`` (a unit TF-IDF row) times its length
    prior."""
    X = model.matrix_.toarray().astype(np.float64)
    norms = np.linalg.norm(X, axis=1)
    units = X / np.where(norms > 0, norms, 1)[:, None]
    return (units @ cosine_query(model, u)) * length_prior(model)


_BM25 = {}


class Oracle:
    """Brute-force lists of one model: ``oracle(source, k, keep)`` is ``(ids, score)``,
    every other kept article with a positive score, best first, and ``{id: score}``.
    Cosine scores come from the model's rows (whose own test checks them against the
    vectorizer), BM25 scores from the articles' text (:class:`helpers.Bm25Oracle`)."""

    def __init__(self, model, articles):
        self.model = model
        self.by_id = {a.id: a for a in articles}
        self.rtol = 0.0 if model.scoring == "cosine" else MLT_RTOL
        self.bm25 = None
        if model.scoring == "mlt":
            key = (model.min_df, model.max_df, model.k1, model.b, model.mlt_idf_power,
                   model.mlt_terms, model.min_term_freq, repr(model.analyzer))
            if key not in _BM25:
                _BM25[key] = bm25_oracle(model, articles)
            self.bm25 = _BM25[key]

    def scores(self, source) -> dict:
        """{id: score} of every article for the source's query (itself included)."""
        if self.bm25 is not None:
            return self.bm25.scores(self.bm25.query_of(self.by_id[source]))
        row = {a: i for i, a in enumerate(self.model.ids_.tolist())}
        x = self.model.matrix_[row[source]].toarray().ravel()
        cosine = oracle_scores(self.model, x / np.linalg.norm(x))
        return {a: float(cosine[i]) for a, i in row.items()}

    def __call__(self, source, k, keep=lambda article_id: True):
        score = self.scores(source)
        found = sorted((a for a in score if a != source and keep(a) and score[a] > 0),
                       key=lambda a: -score[a])
        return found[:k], score

    def tie(self, a: float, b: float) -> bool:
        return abs(a - b) <= TIE + self.rtol * abs(b)

    def check(self, got, want, score):
        """Same ids in the same order, except that near-ties may swap; scores as the
        oracle's."""
        ids, scores = got
        assert len(ids) == len(want), (list(ids), want)
        np.testing.assert_allclose(scores, [score[a] for a in want], rtol=self.rtol, atol=TIE)
        for g, w in zip(ids, want):
            assert g == w or self.tie(score[g], score[w]), (g, w)
        assert len(set(ids)) == len(ids)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def window_start(model, reference: datetime, days: float) -> datetime:
    """The oldest publication time that ``max_age=days`` keeps, counted back from
    ``reference``, from the definition of the model's window: ``days`` before it
    (rolling), or the start of the day ``floor(days)`` calendar days before its own day,
    both days as in the model's time zone (calendar)."""
    if model.window == "rolling":
        return reference - timedelta(days=days)
    assert model.window == "calendar"
    zone = ZoneInfo(model.time_zone)
    day = reference.astimezone(zone).date() - timedelta(days=math.floor(days))
    return datetime(day.year, day.month, day.day, tzinfo=zone)


# -- the contract ---------------------------------------------------------------------------
class RecommenderContract:
    """Tests every fitted model must pass; subclasses provide the ``model`` fixture."""

    @pytest.fixture
    def model(self):
        raise NotImplementedError

    @pytest.fixture
    def oracle(self, model, articles) -> Oracle:
        return Oracle(model, articles)

    def test_rows_are_the_articles_own_vectors(self, model, sample, articles, oracle):
        """Cosine: each row is the article's unit TF-IDF vector times its length prior, and
        its query (``vectorize`` of its text) that row's strongest terms, renormalised.
        More Like This: each row is the article's BM25 weights, and its query (``vectorize``
        of its text) its More Like This terms, each weighing 1."""
        by_id = {a.id: a for a in articles}
        assert sorted(model.ids_.tolist()) == sorted(sample)
        texts = [by_id[a] for a in model.ids_]  # one call each: workers start once
        text_queries = model.text_queries(texts)
        assert (model.vectorize(by_id[TIGER]) != text_queries[model.rows_of([TIGER])]).nnz == 0
        if model.scoring == "cosine":
            prior = length_prior(model)
            units = model.vectorizer_.transform(texts).toarray()
            for i, article_id in enumerate(model.ids_):
                unit = units[i]
                assert np.linalg.norm(unit) == pytest.approx(1, abs=1e-6)
                np.testing.assert_allclose(model.matrix_[i].toarray().ravel(), unit * prior[i],
                                           atol=1e-6)
                q = text_queries[i].toarray().ravel()
                np.testing.assert_allclose(q, cosine_query(model, unit), atol=1e-6)
                np.testing.assert_allclose(q, model.row_queries([i]).toarray().ravel(),
                                           atol=1e-6)
            return
        terms = model.vectorizer_.terms()
        for i, article_id in enumerate(model.ids_):
            row = model.matrix_[i]
            got = dict(zip(terms[row.indices].tolist(), row.data.tolist()))
            want = oracle.bm25.row(article_id)
            assert got.keys() == want.keys(), article_id
            np.testing.assert_allclose([got[t] for t in want], list(want.values()),
                                       rtol=MLT_RTOL)
            q = model.row_queries([i])
            assert sorted(terms[q.indices]) == sorted(oracle.bm25.query_of(by_id[article_id]))
            assert (q.data == 1).all()
            assert (text_queries[i] != q).nnz == 0

    def test_recommend_equals_brute_force(self, model, sample, oracle):
        n = len(sample)
        for source in sample:
            ids, scores = model.recommend(source, k=n)
            want, score = oracle(source, n)
            oracle.check((ids, scores), want, score)
            assert source not in ids
            assert (np.diff(scores) <= 0).all()
            assert ids.dtype.kind == "U" and scores.dtype == np.float32

    def test_batch_row_equals_single_call(self, model, sample):
        sources = list(sample)
        batch = model.recommend_batch(sources, k=8)
        assert batch.ids.shape == batch.scores.shape == (41, 8)
        for i, source in enumerate(sources):
            ids, scores = model.recommend(source, k=8)
            n = len(ids)
            np.testing.assert_array_equal(batch.ids[i, :n], ids)
            np.testing.assert_array_equal(batch.scores[i, :n], scores)
            assert (batch.ids[i, n:] == "").all() and np.isneginf(batch.scores[i, n:]).all()

    def test_k_larger_than_catalogue_is_clipped(self, model, sample, oracle):
        batch = model.recommend_batch(list(sample), k=1000)
        assert batch.ids.shape == (41, 40)
        ids, _ = model.recommend(TIGER, k=1000)
        assert len(ids) == len(oracle(TIGER, 1000)[0])

    def test_as_of_keeps_articles_published_strictly_before(self, model, sample, oracle):
        when = sample[STATUE]["when"]  # 2020-06-24T11:05:00+02:00
        # one instant, written five ways (without an offset, a time is UTC)
        for as_of in (when, "2020-06-24T11:05:00+02:00", "2020-06-24T09:05:00Z",
                      "2020-06-24T09:05:00",
                      datetime(2020, 6, 24, 4, 5, tzinfo=timezone(timedelta(hours=-5)))):
            ids, scores = model.recommend(COLBERT, k=40, as_of=as_of)
            want, score = oracle(COLBERT, 40, lambda a: sample[a]["when"] < when)
            oracle.check((ids, scores), want, score)
            assert STATUE not in ids
        ids, _ = model.recommend(COLBERT, k=40, as_of="2020-06-24T11:05:01+02:00")
        assert STATUE in ids  # one second later it is in

    def test_max_age_counts_back_from_as_of(self, model, sample, oracle):
        when = sample[STATUE]["when"] + timedelta(days=10)  # 2020-07-04T11:05:00+02:00
        for max_age in (10, 10.0, timedelta(days=10)):
            ids, scores = model.recommend(COLBERT, k=40, as_of=when, max_age=max_age)
            want, score = oracle(COLBERT, 40, lambda a: window_start(model, when, 10)
                                 <= sample[a]["when"] < when)
            oracle.check((ids, scores), want, score)
            # exactly 10 days old (rolling), published on the day 10 days back (calendar)
            assert STATUE in ids
        # 2 s short of 10 days (rolling), 9 whole days back: from 2020-06-25 (calendar)
        short = 10 - 2 / 86_400
        ids, scores = model.recommend(COLBERT, k=40, as_of=when, max_age=short)
        want, score = oracle(COLBERT, 40, lambda a: window_start(model, when, short)
                             <= sample[a]["when"] < when)
        oracle.check((ids, scores), want, score)
        assert STATUE not in ids

    def test_max_age_without_as_of_counts_back_from_the_newest_article(self, model, sample,
                                                                      oracle):
        newest = max(r["when"] for r in sample.values())
        assert newest == sample[NEWEST]["when"]
        for source in (TIGER, NEWEST, "CNT000001t8nND"):
            ids, scores = model.recommend(source, k=40, max_age=20)
            want, score = oracle(source, 40, lambda a: sample[a]["when"]
                                 >= window_start(model, newest, 20))
            oracle.check((ids, scores), want, score)
        # by hand: only four articles are at most 20 days older than 2020-09-25T17:16:30,
        # and none was published between 2020-09-05T00:00 (20 calendar days back) and then
        ids, _ = model.recommend("CNT000001t8nND", k=40, max_age=20)
        assert set(ids) <= {"CNT000001t9XLN", "CNT000001tA7u1", NEWEST}

    def test_max_age_boundary_from_the_newest_article(self, model, sample):
        # by hand: the Maserati launch (2020-09-09T21:33:24+02:00) is 15 days 19:43:06, that
        # is 1,366,986 s, older than the newest article (2020-09-25T17:16:30+02:00)
        assert sample[NEWEST]["when"] - sample[MASERATI]["when"] == timedelta(seconds=1_366_986)
        ids, _ = model.recommend(TESLA, k=40)
        assert MASERATI in ids  # two car launches share words
        if model.window == "rolling":
            ids, _ = model.recommend(TESLA, k=40, max_age=1_366_986 / 86_400)
            assert MASERATI in ids
            ids, _ = model.recommend(TESLA, k=40, max_age=1_366_985 / 86_400)
            assert MASERATI not in ids
        else:
            # calendar days of Paris: 2020-09-09 is 16 days before 2020-09-25, so whole
            # days count, not the seconds: 15.8 days leaves it out, 16 keeps it
            ids, _ = model.recommend(TESLA, k=40, max_age=1_366_986 / 86_400)
            assert MASERATI not in ids
            for max_age in (16, 16.99):
                ids, _ = model.recommend(TESLA, k=40, max_age=max_age)
                assert MASERATI in ids
            ids, _ = model.recommend(TESLA, k=40, max_age=15.99)
            assert MASERATI not in ids

    def test_since_is_inclusive_and_until_exclusive(self, model, sample, oracle):
        when = sample[STATUE]["when"]
        ids, _ = model.recommend(COLBERT, k=40, since=when)
        assert STATUE in ids
        ids, _ = model.recommend(COLBERT, k=40, until=when)
        assert STATUE not in ids
        since, until = "2020-06-01", "2020-06-25T00:00:00+02:00"
        ids, scores = model.recommend(COLBERT, k=40, since=since, until=until)
        want, score = oracle(COLBERT, 40,
                             lambda a: at("2020-06-01T00:00:00+00:00") <= sample[a]["when"]
                             < at(until))
        oracle.check((ids, scores), want, score)
        assert len(want) >= 3

    def test_categories(self, model, sample, oracle):
        for categories, names in ((["politique", "france"], {"politique", "france"}),
                                  ("societe/environnement", {"societe/environnement"})):
            ids, scores = model.recommend(COLBERT, k=40, categories=categories)
            want, score = oracle(COLBERT, 40, lambda a: sample[a]["category"] in names)
            oracle.check((ids, scores), want, score)
        ids, _ = model.recommend(TIGER, k=40, categories="societe/environnement")
        assert set(ids) == {"CNT000001rdIhh", "CNT000001r2yqP"}  # the two others of the section

    def test_exclude(self, model, sample, oracle):
        gone = {"CNT000001rdIhh", "CNT000000qbLYj"}
        ids, scores = model.recommend(TIGER, k=40, exclude=sorted(gone))
        want, score = oracle(TIGER, 40, lambda a: a not in gone)
        oracle.check((ids, scores), want, score)
        ids, _ = model.recommend(TIGER, k=40, exclude="CNT000001rdIhh")
        assert "CNT000001rdIhh" not in ids and "CNT000000qbLYj" in ids

    def test_filters_combine(self, model, sample, oracle):
        as_of = "2020-06-30T00:00:00+02:00"  # a local midnight: both windows start 06-23
        ids, scores = model.recommend(COLBERT, k=40, as_of=as_of, max_age=7,
                                      categories=["france", "politique"], exclude=[STATUE])
        want, score = oracle(COLBERT, 40, lambda a: (
            window_start(model, at(as_of), 7) <= sample[a]["when"] < at(as_of)
            and sample[a]["category"] in ("france", "politique") and a != STATUE))
        oracle.check((ids, scores), want, score)
        assert len(want) >= 2
        assert window_start(model, at(as_of), 7) == at("2020-06-23T00:00:00+02:00")

    def test_per_article_as_of_equals_single_calls(self, model, sample):
        sources = list(sample)
        times = []
        for i, source in enumerate(sources):  # a mix of strings, datetimes and None
            related_at = sample[source]["related_at"]
            times.append((None, related_at, at(related_at) - timedelta(days=80))[i % 3])
        batch = model.recommend_batch(sources, k=6, as_of=times, max_age=90)
        for i, source in enumerate(sources):
            ids, scores = model.recommend(source, k=6, as_of=times[i], max_age=90)
            np.testing.assert_array_equal(batch.ids[i, :len(ids)], ids)
            np.testing.assert_array_equal(batch.scores[i, :len(ids)], scores)
            assert (batch.ids[i, len(ids):] == "").all()

    def test_similar_page_finds_the_tiger_stories(self, model, page_path):
        ids, scores = model.similar(page_path.read_text(encoding="utf-8"), k=10)
        assert ids[0] == TIGER  # the page is that article's text
        assert set(TIGER_RELATED) <= set(ids[:3])
        last = max(list(ids).index(a) for a in TIGER_RELATED)
        assert not set(PAGE_TEASERS) & set(ids[:last + 1])
        assert (np.diff(scores) <= 0).all()

    def test_explain_adds_up_to_the_score(self, model, sample):
        ids, scores = model.recommend(TIGER, k=5)
        for other, score in zip(ids, scores):
            terms = model.explain(TIGER, other, n_terms=10_000)
            assert sum(c for _, c in terms) == pytest.approx(float(score), rel=MLT_RTOL,
                                                             abs=1e-5)
            top = model.explain(TIGER, other, n_terms=3)
            assert top == terms[:3]
            assert sum(c for _, c in top) <= float(score) * (1 + MLT_RTOL) + 1e-6
            contributions = [c for _, c in terms]
            assert all(c > 0 for c in contributions)
            assert contributions == sorted(contributions, reverse=True)


class TestFittedModel(RecommenderContract):
    @pytest.fixture(params=SCORINGS)
    def model(self, request, sample_models):
        return sample_models[request.param]


class TestLoadedModel(RecommenderContract):
    @pytest.fixture(params=SCORINGS)
    def model(self, request, sample_dirs):
        return ArticleRecommender.load(sample_dirs[request.param])


class TestTinyBlocksTwoThreads(RecommenderContract):
    @pytest.fixture(params=SCORINGS)
    def model(self, request, tiny_blocks_models):
        return tiny_blocks_models[request.param]


class TestRollingWindow(RecommenderContract):
    """The contract with ``window="rolling"``: ``max_age`` counted back to the second."""

    @pytest.fixture(params=SCORINGS)
    def model(self, request, rolling_models):
        return rolling_models[request.param]


def _fit_sample(path, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        return ArticleRecommender(**{"min_df": 2, **params}).fit(read_corpus(path))


@pytest.fixture(scope="module")
def tiny_blocks_models(articles_path) -> dict:
    """One query per block of scores, two threads; by scoring."""
    return {scoring: _fit_sample(articles_path, scoring=scoring, max_block_bytes=1, n_jobs=2)
            for scoring in SCORINGS}


@pytest.fixture(scope="module")
def rolling_models(articles_path) -> dict:
    """The sample models with a rolling window; by scoring."""
    return {scoring: _fit_sample(articles_path, scoring=scoring, window="rolling")
            for scoring in SCORINGS}


@pytest.fixture(params=SCORINGS)
def any_model(request, sample_models):
    """The sample model of each scoring."""
    return sample_models[request.param]


# -- beyond the contract: the sample model ----------------------------------------------
def test_time_filters_on_dated_articles_do_not_warn(small_model):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        small_model.recommend(TIGER, as_of="2020-07-01", max_age=30, since="2020-01-01")


def test_default_max_age_is_the_models(small_model, articles_path):
    model = _fit_sample(articles_path, max_age=20)
    for source in (TIGER, "CNT000001t8nND"):
        got = model.recommend(source, k=40)
        want = small_model.recommend(source, k=40, max_age=20)
        np.testing.assert_array_equal(got[0], want[0])
    assert len(model.recommend(TIGER, k=40)[0]) < len(small_model.recommend(TIGER, k=40)[0])


def test_explain_words_are_readable_and_shared(any_model, articles):
    """Each word is a real lower-cased word of the sample (not a stem) whose term both
    articles hold: a term of the source's query and of the other's row."""
    model = any_model
    tokens = set()
    for article in articles:
        tokens.update(tokenize(article.text))
    analyzer = model.vectorizer_.build_analyzer()
    vocabulary = model.vectorizer_.vocabulary_
    rows = model.rows_of([TIGER, "CNT000001r2yqP"])
    query = model.row_queries(rows[:1])
    if model.scoring == "cosine":
        assert query.nnz == model.query_terms < model.matrix_[rows[0]].nnz
    else:
        assert query.nnz == model.mlt_terms < model.matrix_[rows[0]].nnz
    both = set(query.indices) & set(model.matrix_[rows[1]].indices)
    terms = model.explain(TIGER, "CNT000001r2yqP", n_terms=10_000)
    assert len(terms) == len(both)
    for word, _ in terms:
        assert word in tokens and word == word.lower()
        assert vocabulary[analyzer.term(word)] in both
    if model.scoring == "cosine":
        # both titles are "Indonésie: ... tigre de Sumatra ...": those words lead
        assert {"tigre", "sumatra"} <= {w for w, _ in terms[:3]}
    else:
        # each contribution is the other article's BM25 weight of a query term
        bm25 = bm25_oracle(model, articles)
        want = {t: bm25.weight(t, "CNT000001r2yqP")
                for t in bm25.query_of(next(a for a in articles if a.id == TIGER))}
        got = {analyzer.term(w): c for w, c in terms}
        assert got.keys() == {t for t, w in want.items() if w > 0}
        np.testing.assert_allclose([got[t] for t in got], [want[t] for t in got],
                                   rtol=MLT_RTOL)
        assert {"tigre", "sumatra"} <= {w for w, _ in terms[:4]}


def test_explain_words_are_written_in_the_two_articles(small_model, articles):
    by_id = {a.id: a for a in articles}
    written = set(tokenize(by_id[TIGER].text)) | set(tokenize(by_id["CNT000001r2yqP"].text))
    for word, _ in small_model.explain(TIGER, "CNT000001r2yqP", n_terms=10_000):
        assert word in written


def test_explain_without_shared_words_is_empty(cosine_model):
    # "Municipales: Hidalgo reconduite à Paris" and the tiger story share no term once the
    # stop words are out (the cosine's analyzer)
    assert cosine_model.explain(TIGER, "CNT000001rcO7J", n_terms=5) == []
    assert "CNT000001rcO7J" not in cosine_model.recommend(TIGER, k=40)[0]


def test_explain_of_a_query_without_shared_words_is_empty(any_model):
    # no stop list for More Like This: every article shares "de" with the tiger story, so
    # the query is a text of two words, each twice: one in no article, and "tigre"
    q = any_model.vectorize("Tigre ornithorynque\nTigre ornithorynque.")
    tigre = any_model.vectorizer_.vocabulary_["tigre"]
    assert q.indices.tolist() == [tigre]
    assert any_model.explain_vector(q, "CNT000001rcO7J", n_terms=5) == []
    assert any_model.explain_vector(q, TIGER, n_terms=5)[0][0] == "tigre"


def test_explain_vector_of_a_text(any_model):
    q = any_model.vectorize("Un tigre de Sumatra\nLe tigre a été empoisonné à Sumatra.")
    terms = any_model.explain_vector(q, "CNT000001rdIhh", n_terms=10)
    assert [w for w, _ in terms][:2] in (["tigre", "sumatra"], ["sumatra", "tigre"])


def test_explain_vector_of_an_articles_query_is_its_explain(any_model, articles):
    """vectorize(text) is the text's query row, and explain_vector takes it as it is: for
    an article of the model, explain() (to float32 rounding: a cosine row query is cut
    from the row with its length prior, then renormalised)."""
    by_id = {a.id: a for a in articles}
    q = any_model.vectorize(by_id[TIGER])
    row_query = any_model.row_queries(any_model.rows_of([TIGER]))
    assert q.indices.tolist() == row_query.indices.tolist()
    np.testing.assert_allclose(q.data, row_query.data, rtol=1e-6)
    for other in any_model.recommend(TIGER, k=5)[0].tolist():
        got = any_model.explain_vector(q, other, n_terms=20)
        want = any_model.explain(TIGER, other, n_terms=20)
        assert {w for w, _ in got} == {w for w, _ in want} and len(got) > 0
        np.testing.assert_allclose(sorted(c for _, c in got), sorted(c for _, c in want),
                                   rtol=1e-5)


def test_similar_accepts_articles_and_dicts(any_model, articles):
    by_id = {a.id: a for a in articles}
    ids_a, scores_a = any_model.similar(by_id[TIGER], k=3)
    ids_d, scores_d = any_model.similar({"title": by_id[TIGER].title,
                                         "heading": by_id[TIGER].heading,
                                         "body": by_id[TIGER].body}, k=3)
    np.testing.assert_array_equal(ids_a, ids_d)
    np.testing.assert_array_equal(scores_a, scores_d)
    want = Oracle(any_model, articles).scores(TIGER)[TIGER]  # its own text: its own query
    assert ids_a[0] == TIGER
    assert scores_a[0] == pytest.approx(want, rel=MLT_RTOL, abs=1e-5)


def test_similar_to_nothing_is_empty(small_model):
    ids, scores = small_model.similar("", k=5)
    assert ids.shape == scores.shape == (0,)


# -- articles without text, undated articles ---------------------------------------------
@pytest.fixture(scope="module")
def odd_corpus(tmp_path_factory, articles_path, sample):
    """The sample plus an article with no text and two undated copies of the tiger story."""
    path = tmp_path_factory.mktemp("odd") / "odd.jsonl"
    tiger = {k: v for k, v in sample[TIGER].items() if k not in ("when", "related")}
    extra = [
        {"id": "EMPTY", "title": "", "heading": "", "body": "",
         "published": "2020-06-20T10:00:00+02:00", "category": "france"},
        {**{k: v for k, v in tiger.items() if k not in ("published", "date")},
         "id": "UNDATED-1"},
        {**{k: v for k, v in tiger.items() if k not in ("published", "date")},
         "id": "UNDATED-2", "title": "Tigres de Sumatra empoisonnés"},
    ]
    shutil.copy(articles_path, path)
    with path.open("a", encoding="utf-8") as fh:
        for record in extra:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


@pytest.fixture(scope="module")
def odd_model(odd_corpus):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = ArticleRecommender(min_df=2).fit(read_corpus(odd_corpus))
    messages = [str(w.message) for w in caught if issubclass(w.category, CorpusWarning)]
    assert any("1 articles have no text; they are kept but never recommended: 'EMPTY'" in m
               for m in messages), messages
    return model


def test_article_without_text_is_kept_but_never_recommended(odd_model):
    assert "EMPTY" in odd_model.ids_ and "EMPTY" in odd_model
    assert odd_model.info_["n_without_text"] == 1
    ids, scores = odd_model.recommend("EMPTY", k=5)
    assert ids.shape == scores.shape == (0,)
    batch = odd_model.recommend_batch(odd_model.ids_, k=odd_model.n_articles)
    assert "EMPTY" not in batch.ids
    assert odd_model.article_info("EMPTY")["published"] == "2020-06-20T08:00:00+00:00"


def test_undated_articles_are_candidates_without_a_time_filter(odd_model):
    assert odd_model.info_["n_undated"] == 2
    assert list(odd_model.ids_[-2:]) == ["UNDATED-1", "UNDATED-2"]  # undated rows last
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ids, scores = odd_model.recommend("CNT000001r2yqP", k=3)
    assert set(ids) == {"UNDATED-1", "UNDATED-2", TIGER}  # three copies of the tiger story
    score = dict(zip(ids.tolist(), scores.tolist()))
    assert score["UNDATED-1"] == pytest.approx(score[TIGER], abs=1e-6)  # the same text
    assert odd_model.article_info("UNDATED-1")["published"] is None


def test_batch_with_some_as_of_none_equals_single_calls_with_undated_articles(odd_model):
    """Regression: in a batch with per-article as_of, a row whose as_of was None lost the
    undated articles, which a single call without as_of keeps."""
    sources = ["CNT000001r2yqP", "CNT000001rdIhh", TIGER]
    times = [None, "2020-07-01", None]
    batch = odd_model.recommend_batch(sources, k=5, as_of=times)
    for i, (source, as_of) in enumerate(zip(sources, times)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            ids, scores = odd_model.recommend(source, k=5, as_of=as_of)
        np.testing.assert_array_equal(batch.ids[i, :len(ids)], ids)
        np.testing.assert_array_equal(batch.scores[i, :len(ids)], scores)
    assert "UNDATED-1" in batch.ids[0] and "UNDATED-1" not in batch.ids[1]


UNDATED_MESSAGE = r"^2 articles have no date; a time filter leaves them out of the candidates$"


def test_undated_articles_warn_once_at_fit_pointing_at_the_caller(odd_corpus):
    """Regression: the warning was given on every request with a time filter, and pointed
    into the model's code rather than at the caller."""
    with pytest.warns(UndatedWarning, match=UNDATED_MESSAGE) as caught:
        warnings.simplefilter("ignore", CorpusWarning)
        ArticleRecommender(min_df=2, max_age=30).fit(read_corpus(odd_corpus))
    undated = [w for w in caught if issubclass(w.category, UndatedWarning)]
    assert len(undated) == 1 and undated[0].filename == __file__


def test_undated_articles_warn_once_at_load_pointing_at_the_caller(odd_model, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndatedWarning)
        odd_model.save(tmp_path / "odd")
    with pytest.warns(UndatedWarning, match=UNDATED_MESSAGE) as caught:
        ArticleRecommender.load(tmp_path / "odd")
    undated = [w for w in caught if issubclass(w.category, UndatedWarning)]
    assert len(undated) == 1 and undated[0].filename == __file__


@pytest.mark.parametrize("filters", [{"max_age": 30}, {"as_of": "2020-07-01"},
                                     {"since": "2020-01-01"}, {"until": "2021-01-01"}])
def test_a_time_filter_leaves_undated_articles_out_without_a_warning(odd_model, filters):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ids, _ = odd_model.recommend("CNT000001r2yqP", k=40, **filters)
        batch = odd_model.recommend_batch(["CNT000001r2yqP"], k=40, **filters)
    assert not {"UNDATED-1", "UNDATED-2"} & set(ids)
    np.testing.assert_array_equal(batch.ids[0, :len(ids)], ids)


# -- fitting errors and regressions --------------------------------------------------------
def test_fit_rejects_a_string():
    for wrong in ("tests/data/articles.jsonl", b"articles"):
        with pytest.raises(TypeError, match=r"An iterable of articles \(Article records or "
                                            rf"dicts\) was expected, {type(wrong).__name__} "
                                            r"object received\. To read a file, pass "
                                            r"read_corpus\(path\)"):
            ArticleRecommender().fit(wrong)


def test_fit_rejects_a_single_article(articles):
    with pytest.raises(TypeError, match="a single article received; pass a list of them"):
        ArticleRecommender().fit(articles[0])
    with pytest.raises(TypeError, match="a single article received"):
        ArticleRecommender().fit({"id": "a", "title": "Un tigre"})


@pytest.mark.parametrize("n", [0, 1])
def test_fit_needs_two_articles(n, articles):
    with pytest.raises(ValueError, match=rf"at least 2 articles are needed to recommend one "
                                         rf"from another, got {n}; fit on a larger corpus"):
        ArticleRecommender().fit(articles[:n])


def test_fit_on_a_one_article_corpus_file(tmp_path, articles_path):
    path = tmp_path / "one.jsonl"
    path.write_text(articles_path.read_text(encoding="utf-8").splitlines()[0] + "\n",
                    encoding="utf-8")
    with pytest.raises(ValueError, match=r"at least 2 articles are needed .* got 1"):
        ArticleRecommender().fit(read_corpus(path))


def test_fit_on_an_empty_corpus_file_names_the_file(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"empty\.jsonl: no articles in this file"):
        ArticleRecommender().fit(read_corpus(path))


def test_fit_bad_first_line_is_not_hidden(tmp_path, articles_path):
    """Regression: an error on the corpus' first line was replaced by "at least 2 articles
    are needed, got 0", hiding the file, the line and the fix."""
    lines = articles_path.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "bad.jsonl"
    path.write_text(lines[0][:-1] + "\n" + "\n".join(lines[1:]) + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match=r"bad\.jsonl, line 1: malformed JSON"):
        ArticleRecommender().fit(read_corpus(path))
    with pytest.raises(ValueError, match=r"^article 1 of the input: record has no 'id'$"):
        ArticleRecommender().fit([{"title": "Un tigre"}, {"id": "b", "title": "Un tigre"}])


def test_fit_duplicate_ids_would_recommend_an_article_to_itself(articles):
    """Regression: two records with one id were both kept, and recommend(id) returned the
    other copy, that is the article itself."""
    copies = list(articles) + [articles[3]]
    with pytest.raises(ValueError, match=rf"article id '{articles[3].id}' appears more than "
                                         rf"once \(article 42\); ids must be unique"):
        ArticleRecommender().fit(copies)


@pytest.mark.parametrize("params, message", [
    ({"min_df": 0}, r"^min_df must be a positive integer, got 0$"),
    ({"min_df": 2.0}, r"^min_df must be a positive integer, got 2\.0$"),
    ({"min_df": True}, r"^min_df must be a positive integer, got True$"),
    ({"max_df": 1.5}, r"^max_df must be in \(0, 1\], got 1\.5$"),
    ({"max_df": "0.5"}, r"^max_df must be in \(0, 1\], got '0\.5'$"),
    ({"max_df": True}, r"^max_df must be in \(0, 1\], got True$"),
    ({"field_weights": {"titre": 1}}, r"^field_weights has unknown fields \['titre'\]; "
                                      r"expected some of title, heading, body$"),
    ({"field_weights": {"title": 0}}, r"^field_weights must be non-negative with one positive"),
])
def test_bad_parameters_are_named(articles, params, message):
    """Regression: a bad min_df or max_df was reported as "at least 2 articles are needed,
    got 0", since the check ran before the first article was read."""
    with pytest.raises(ValueError, match=message):
        ArticleRecommender(**params).fit(articles)


def test_numpy_parameters_are_accepted(articles, small_model, cosine_model):
    model = ArticleRecommender(scoring="cosine", min_df=np.int64(2),
                               max_df=np.float64(0.5)).fit(articles)
    np.testing.assert_array_equal(model.matrix_.indices, cosine_model.matrix_.indices)
    model = ArticleRecommender(min_df=np.int64(2), max_df=np.float64(1.0),
                               k1=np.float64(0.8), b=np.float64(0.75),
                               mlt_idf_power=np.float64(0.75), mlt_terms=np.int64(30),
                               min_term_freq=np.int64(2)).fit(articles)
    for name in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(getattr(model.matrix_, name),
                                      getattr(small_model.matrix_, name))
    assert (model.row_queries(np.arange(41)) != small_model.row_queries(np.arange(41))).nnz == 0


# -- usage errors -------------------------------------------------------------------------
def test_unknown_id_is_a_key_error_naming_the_id_and_the_catalogue(small_model):
    with pytest.raises(UnknownArticleError, match=r"^Unknown article id 'CNT_NOPE': not among "
                                                  r"the 41 articles of this model \(trained "
                                                  r"\d{4}-") as info:
        small_model.recommend("CNT_NOPE")
    assert isinstance(info.value, KeyError)
    with pytest.raises(KeyError, match="'CNT_NOPE'"):
        small_model.recommend_batch([TIGER, "CNT_NOPE"])
    with pytest.raises(UnknownArticleError, match="'CNT_NOPE'"):
        small_model.explain(TIGER, "CNT_NOPE")
    with pytest.raises(UnknownArticleError, match=r"Unknown article id \['x'\]"):
        small_model.recommend(["x"])  # unhashable
    assert "CNT_NOPE" not in small_model and TIGER in small_model


@pytest.mark.parametrize("k, shown", [(0, "0"), (-1, "-1"), (2.5, "2.5"), ("3", "'3'"),
                                      (True, "True"), (None, "None")])
def test_bad_k(small_model, k, shown):
    with pytest.raises(ValueError, match=rf"^k must be a positive integer, got {shown}$"):
        small_model.recommend(TIGER, k=k)
    with pytest.raises(ValueError, match=rf"^k must be a positive integer, got {shown}$"):
        small_model.recommend_batch([TIGER], k=k)
    with pytest.raises(ValueError, match=rf"^k must be a positive integer, got {shown}$"):
        small_model.similar("Un tigre de Sumatra", k=k)


def test_bad_n_terms_is_named(small_model):
    with pytest.raises(ValueError, match=r"^n_terms must be a positive integer, got 0$"):
        small_model.explain(TIGER, "CNT000001r2yqP", n_terms=0)


def test_not_fitted():
    model = ArticleRecommender()
    calls = [lambda: model.recommend(TIGER), lambda: model.recommend_batch([TIGER]),
             lambda: model.similar("Un tigre"), lambda: model.explain(TIGER, TIGER),
             lambda: model.n_articles, lambda: model.save("unused")]
    for call in calls:
        with pytest.raises(NotFittedError, match=r"this ArticleRecommender is not fitted yet; "
                                                 r"call fit\(articles\) or "
                                                 r"ArticleRecommender\.load\(path\) first"):
            call()


def test_as_of_list_of_the_wrong_length(small_model):
    with pytest.raises(ValueError, match=r"^as_of has 1 times for 2 articles; give one time "
                                         r"for all or one per article$"):
        small_model.recommend_batch([TIGER, COLBERT], as_of=["2020-07-01"])


@pytest.mark.parametrize("name", ["as_of", "since", "until"])
def test_bad_times(small_model, name):
    with pytest.raises(ValueError, match=rf"^cannot read {name} 'yesterday': expected ISO "
                                         r"8601 such as '2020-07-03'"):
        small_model.recommend(TIGER, **{name: "yesterday"})
    with pytest.raises(ValueError, match=rf"^cannot read {name} 1593734400: expected an ISO "
                                         r"8601 string, got int$"):
        small_model.recommend(TIGER, **{name: 1593734400})
    with pytest.raises(ValueError, match=rf"cannot read {name} '2020-13-01'"):
        small_model.recommend_batch([TIGER], **{name: "2020-13-01"})


@pytest.mark.parametrize("max_age, message", [
    (0, r"^max_age must be a positive number of days, got 0$"),
    (-3.5, r"^max_age must be a positive number of days, got -3.5$"),
    ("30", r"^max_age must be a number of days or a timedelta, got '30'$"),
    (True, r"^max_age must be a number of days or a timedelta, got True$"),
])
def test_bad_max_age(small_model, max_age, message):
    with pytest.raises(ValueError, match=message):
        small_model.recommend(TIGER, max_age=max_age)
    with pytest.raises(ValueError, match=message):
        ArticleRecommender(max_age=max_age).fit([{"id": "a", "title": "x"}])


def test_recommend_batch_rejects_a_string(small_model):
    with pytest.raises(TypeError, match=r"a list of article ids was expected, got the string "
                                        r"'CNT000001r4edC'; use recommend\(\) for one article"):
        small_model.recommend_batch(TIGER)


# -- the neighbour table --------------------------------------------------------------------
@pytest.fixture
def scoring_calls(monkeypatch):
    """Counts the calls of the scoring kernel (top_k) made by the model."""
    import recommender.model.search as model_module

    calls = []
    real = model_module.top_k
    monkeypatch.setattr(model_module, "top_k", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    return calls


def test_table_is_what_recommend_batch_returns(small_model):
    table = small_model.table_indices_
    assert table.shape == (41, 40) and table.dtype == np.int32
    assert small_model.table_scores_.dtype == np.float32
    batch = small_model.recommend_batch(small_model.ids_, k=50)
    ids = np.where(table >= 0, small_model.ids_[np.maximum(table, 0)], "")
    np.testing.assert_array_equal(ids, batch.ids)
    np.testing.assert_array_equal(small_model.table_scores_, batch.scores)


@pytest.mark.parametrize("k", [1, 5, 17, 40, 1000])
def test_recommend_from_the_table_equals_scoring(small_model, scoring_calls, k):
    for source in small_model.ids_:
        table = small_model.recommend(source, k=k)
        assert not scoring_calls  # answered from the table
        scored = small_model.recommend_batch([source], k=k)  # scoring, one row
        n = len(table[0])
        np.testing.assert_array_equal(table[0], scored.ids[0, :n])
        np.testing.assert_array_equal(table[1], scored.scores[0, :n])
        assert (scored.ids[0, n:] == "").all()
        scoring_calls.clear()


@pytest.mark.parametrize("filters", [
    {"as_of": "2020-07-01"}, {"max_age": 30}, {"since": "2020-01-01"}, {"until": "2020-08-01"},
    {"categories": ["france"]}, {"exclude": ["CNT000001rdIhh"]}, {"exclude": "CNT000001rdIhh"},
], ids=lambda f: next(iter(f)))
def test_recommend_with_a_filter_scores(small_model, scoring_calls, filters):
    ids, _ = small_model.recommend(TIGER, k=5, **filters)
    assert scoring_calls == [1]
    want = small_model.recommend_batch([TIGER], k=5, **filters)
    np.testing.assert_array_equal(ids, want.ids[0, :len(ids)])


def test_recommend_with_default_filters_spelled_out_reads_the_table(small_model, scoring_calls):
    got = small_model.recommend(TIGER, k=5, max_age=None, exclude=[], categories=None)
    assert not scoring_calls
    np.testing.assert_array_equal(got[0], small_model.recommend(TIGER, k=5)[0])


def test_recommend_beyond_the_table_scores(articles_path, scoring_calls):
    model = _fit_sample(articles_path, table_size=3)
    scoring_calls.clear()  # the fit built the table with one call
    assert model.table_indices_.shape == (41, 3)
    small = model.recommend(TIGER, k=3)
    assert not scoring_calls
    large = model.recommend(TIGER, k=4)
    assert scoring_calls == [1]
    np.testing.assert_array_equal(small[0], large[0][:3])
    np.testing.assert_array_equal(small[1], large[1][:3])


def test_table_with_the_models_max_age(articles_path, scoring_calls):
    model = _fit_sample(articles_path, max_age=20)
    scoring_calls.clear()
    for source in (TIGER, "CNT000001t8nND", NEWEST):
        table = model.recommend(source, k=40)
        same = model.recommend(source, k=40, max_age=20)  # the default, spelled out
        assert not scoring_calls
        scored = model.recommend_batch([source], k=40)
        np.testing.assert_array_equal(table[0], same[0])
        np.testing.assert_array_equal(table[0], scored.ids[0, :len(table[0])])
        np.testing.assert_array_equal(table[1], scored.scores[0, :len(table[0])])
        scoring_calls.clear()
    ids, _ = model.recommend("CNT000001t8nND", k=40)
    assert set(ids) <= {"CNT000001t9XLN", "CNT000001tA7u1", NEWEST}  # 20 days, by hand
    model.recommend(TIGER, k=5, max_age=30)  # another age: scored
    assert scoring_calls == [1]


def test_no_table(articles_path, scoring_calls, small_model):
    model = _fit_sample(articles_path, table_size=0)
    assert model.table_indices_ is None and model.table_scores_ is None
    assert not scoring_calls  # fit scored nothing
    got = model.recommend(TIGER, k=5)
    assert scoring_calls == [1]
    np.testing.assert_array_equal(got[0], small_model.recommend(TIGER, k=5)[0])


def test_build_table_again_with_another_size(articles_path):
    model = _fit_sample(articles_path, table_size=0)
    assert model.build_table(7) is model
    assert model.table_size == 7 and model.table_indices_.shape == (41, 7)
    want = model.recommend_batch(model.ids_, k=7)
    np.testing.assert_array_equal(model.table_scores_, want.scores)
    model.build_table(0)
    assert model.table_indices_ is None


@pytest.mark.parametrize("bad", [-1, 2.5, True, "50", None, np.int64(-3)])
def test_bad_table_size_is_named(articles, bad):
    message = (rf"^table_size must be a non-negative integer \(0 for no neighbour table\), "
               rf"got {re.escape(repr(bad.item() if isinstance(bad, np.generic) else bad))}$")
    with pytest.raises(ValueError, match=message):
        ArticleRecommender(min_df=2, table_size=bad).fit(articles)
    model = ArticleRecommender(min_df=2, table_size=0).fit(articles)
    if bad is not None:  # build_table(None) builds with the model's table_size
        with pytest.raises(ValueError, match=message):
            model.build_table(bad)
    assert model.table_size == 0 and model.table_indices_ is None  # unchanged


def test_build_table_before_fit(articles):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        ArticleRecommender().build_table()
