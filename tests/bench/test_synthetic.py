"""Synthetic corpora: deterministic for a seed, made of real sentences, realistic."""

from __future__ import annotations

from datetime import timedelta
from itertools import islice

import numpy as np
import pytest

from recommender import ArticleRecommender
from recommender.errors import CorpusError, ParameterError
from recommender.bench.synthetic import BLOCK, SentencePool, parse_scale


@pytest.fixture(scope="module")
def pool(articles):
    return SentencePool.from_articles(articles)


def test_the_same_seed_gives_the_same_corpus(pool):
    a = list(pool.articles(60, seed=3))
    b = list(pool.articles(60, seed=3))
    c = list(pool.articles(60, seed=4))
    assert a == b
    assert [x.body for x in a] != [x.body for x in c]


def test_blocks_are_independent(pool):
    """Article i depends on the seed and its block only, not on how many are asked."""
    short = list(pool.articles(25, seed=1))
    longer = list(pool.articles(40, seed=1))
    # Dates spread over a timeline that grows with n; the rest is the same.
    assert [(a.id, a.title, a.body) for a in short] == \
        [(a.id, a.title, a.body) for a in longer[:25]]
    assert BLOCK >= 40


def test_articles_are_made_of_real_sentences(pool, articles):
    real = set(pool.sentences)
    templates = {a.id: a for a in articles}
    for article in pool.articles(50, seed=0):
        assert article.id.startswith("SYN")
        assert any(article.title == t.title and article.heading == t.heading
                   and article.category == t.category
                   and article.published.time() == t.published.time()
                   and article.published.utcoffset() == t.published.utcoffset()
                   for t in articles)
        parts = article.body.split(" ")
        assert article.body  # every template has a body
        # The body is real sentences joined by spaces: each sentence is found in the pool.
        rebuilt, used = " ".join(parts), 0
        for sentence in sorted(real, key=len, reverse=True):
            if sentence in rebuilt:
                used += 1
        assert used > 0 and rebuilt == article.body
    assert len(templates) == len(articles)


def test_body_lengths_follow_the_templates(pool):
    made = list(pool.articles(400, seed=0))
    real = np.array([len(s) for s in pool.sentences])
    mean_sentence = real.mean()
    synthetic_sentences = np.mean([a.body.count(". ") + 1 for a in made])
    template_sentences = pool.counts.mean()
    assert 0.5 < synthetic_sentences / template_sentences < 2
    assert 0.5 < np.mean([len(a.body) for a in made]) / (template_sentences * mean_sentence) < 2


def test_a_synthetic_corpus_has_a_realistic_vocabulary(pool, articles):
    real = ArticleRecommender(min_df=2, table_size=0).fit(articles)
    synthetic = ArticleRecommender(min_df=2, table_size=0).fit(pool.articles(200, seed=0))
    terms_real = real.matrix_.nnz / real.n_articles
    terms_synthetic = synthetic.matrix_.nnz / synthetic.n_articles
    assert 0.5 < terms_synthetic / terms_real < 2
    # Its words are real words: most of the real vocabulary is there.
    shared = set(real.vectorizer_.vocabulary_) & set(synthetic.vectorizer_.vocabulary_)
    assert len(shared) > 0.6 * len(real.vectorizer_.vocabulary_)


def test_dates_spread_over_a_timeline_ending_on_the_last_real_day(pool):
    made = list(pool.articles(500, seed=0, per_day=10))
    days = {a.published.date() for a in made}
    assert max(days) <= pool.last_day
    span = (max(days) - min(days)).days
    assert span >= 0.8 * max(pool.real_days, 50)


@pytest.mark.parametrize("text, n", [("real", None), ("100k", 100_000), ("1m", 1_000_000),
                                     ("300K", 300_000), ("5000", 5000), ("2.5k", 2500)])
def test_parse_scale(text, n):
    assert parse_scale(text) == n


@pytest.mark.parametrize("text", ["", "big", "1g", "-5", "1", "0.5k1", "1.5"])
def test_bad_scale_is_named(text):
    with pytest.raises(ParameterError, match=f"scale {text!r}"):
        parse_scale(text)


def test_a_pool_needs_bodies(articles):
    from dataclasses import replace

    with pytest.raises(CorpusError, match="no real article with a body"):
        SentencePool.from_articles([replace(a, body="") for a in articles])


def test_stream_holds_one_article_at_a_time(pool):
    stream = pool.articles(10**8, seed=0)  # a hundred million articles, lazily
    first = list(islice(stream, 3))
    assert [a.id for a in first] == ["SYN000000001", "SYN000000002", "SYN000000003"]


def test_a_constant_rate_gives_per_day_articles_a_day_at_every_size(pool):
    for n in (300, 900):
        made = list(pool.articles(n, seed=2, per_day=30, constant_rate=True))
        days = {a.published.date() for a in made}
        # The timeline is the n / 30 days that end on the real corpus's last day.
        assert min(days) >= pool.last_day - timedelta(days=n // 30 - 1)
        assert max(days) <= pool.last_day
        assert len(days) > n // 30 * 0.8  # spread over them
    # Without the option, a small corpus spreads over the real corpus's span.
    spread = {a.published.date() for a in pool.articles(300, seed=2, per_day=30)}
    assert pool.real_days > 10 and (max(spread) - min(spread)).days + 1 > 10


@pytest.mark.parametrize("per_day", [0, -3, float("nan"), float("inf")])
def test_a_bad_rate_is_refused(pool, per_day):
    with pytest.raises(ParameterError, match="per_day must be a positive number"):
        next(pool.articles(10, per_day=per_day, constant_rate=True))
