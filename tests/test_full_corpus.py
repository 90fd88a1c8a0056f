"""Quality and consistency on the full OrangeSum corpus (minutes; run with ``-m slow``).

The full corpus is ``../shared/corpus/orangesum`` next to the checkout (CI and the team's
machines); these tests skip when it is absent. The dev lists are split by source (crc32 of
the id): the even half, TUNE, is where ``recommender tune`` chose the settings and where the
learned mode learns; the odd half, CONFIRM, is only ever measured, and the thresholds are
read there. Plain French TF-IDF (60 days) reaches recall@2 0.364, recall@10 0.620, MRR 0.360
on the dev lists; the first quality issue's targets (0.42 / 0.70 / 0.42 for the content
model) still hold on all of them.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from recommender import ArticleRecommender, CorpusWarning, read_corpus
from recommender.index.topk import top_k
from recommender.text import find_words, normalize_chars
from recommender.truth import half_of, read_ground_truth
from recommender.evaluate.runs import evaluate
from recommender.model.estimator import DEFAULT_MAX_AGE
from recommender.vectors.bm25 import SHORT_TEXT_TERMS

pytestmark = pytest.mark.slow

FULL = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "orangesum"
SHIPPED = Path(__file__).resolve().parents[1] / "corpus" / "orangesum-2020.jsonl.gz"
# The foundation issue's targets (recall@10 >= 0.60, MRR >= 0.35, both corpora) ...
MIN_RECALL_10, MIN_MRR = 0.60, 0.35
# ... the first quality issue's, for the content model on all the dev lists ...
DEV = {"recall@2": 0.42, "recall@10": 0.70, "mrr": 0.42}
# ... and on CONFIRM (the odd half of the dev lists, never read by a choice) those of the
# content model and of the learned mode (learned from TUNE, the even half). The issue's
# target for the learned mode is 0.865 recall@10; it measures 0.5705 / 0.8655 / 0.5396 on
# CONFIRM (2026-12-04: 4 links over it), so its recall@10 floor stays 0.005 under, where a
# scikit-learn whose trees differ in their last digits does not fail the run.
CONTENT = {"recall@2": 0.52, "recall@10": 0.845, "mrr": 0.50}
LEARNED = {"recall@2": 0.56, "recall@10": 0.86, "mrr": 0.535}
N_CHECKED = 200


def _fit(path) -> ArticleRecommender:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        return ArticleRecommender().fit(read_corpus(path))


def _full_corpus() -> Path:
    corpus = FULL / "articles.jsonl.gz"
    if not corpus.is_file():
        pytest.skip(f"{corpus} is absent: the full corpus is in ../shared beside the checkout "
                    f"(CI and the team's machines), not in a user's clone")
    return corpus


@pytest.fixture(scope="module")
def full_model() -> ArticleRecommender:
    """One model fitted on the 34,178 articles of the shared corpus, for every test here."""
    return _fit(_full_corpus())


@pytest.fixture(scope="module")
def checked_ids(full_model) -> np.ndarray:
    rng = np.random.default_rng(2020)
    return rng.choice(full_model.ids_, size=N_CHECKED, replace=False)


def assert_quality(report):
    assert report["recall@10"] >= MIN_RECALL_10, report
    assert report["mrr"] >= MIN_MRR, report
    for name, baseline in report["baselines"].items():
        assert report["recall@10"] > baseline["recall@10"], name
        assert report["mrr"] > baseline["mrr"], name


def test_full_corpus_on_dev_links(full_model):
    truth = read_ground_truth(FULL / "related_dev.tsv")
    report = evaluate(full_model, truth, max_age=DEFAULT_MAX_AGE)
    # ../shared/corpus/README.md: 17,227 links from 10,765 sources, all targets in the file
    assert report["n_links"] == 17_227 and report["n_sources"] == 10_765
    assert report["missing_targets"] == report["missing_sources"] == 0
    # full articles: "auto" queries take terms said twice and keep the stop words
    assert full_model.vectorizer_.median_length_ >= SHORT_TEXT_TERMS
    assert full_model.vectorizer_.query_rule() == (2, False)
    assert_quality(report)
    for name, target in DEV.items():
        assert report[name] >= target, (name, report)
    # The settings were chosen on TUNE (the even half): the targets are read on CONFIRM.
    confirm = evaluate(full_model, half_of(truth, "odd"), max_age=DEFAULT_MAX_AGE,
                       baselines=False)
    assert confirm["n_links"] < report["n_links"]
    for name, target in CONTENT.items():
        assert confirm[name] >= target, (name, confirm)


def test_learned_mode_on_lists_it_never_saw(full_model):
    truth = read_ground_truth(FULL / "related_dev.tsv")
    learned = full_model.with_scoring()  # a copy: the other tests keep the content model
    learned.max_age_days_ = DEFAULT_MAX_AGE
    learned.learn(half_of(truth, "even"))  # TUNE
    report = evaluate(learned, truth, baselines=False)
    odd = half_of(truth, "odd")
    assert report["n_links"] == len(odd)  # the even half, learned from, is left out: CONFIRM
    assert report["learned"]["links_left_out"] == len(truth) - len(odd)
    for name, target in LEARNED.items():
        assert report[name] >= target, (name, report)
        assert report[name] > report["content_only"][name], (name, report)


def test_shipped_corpus_on_its_own_links():
    model = _fit(SHIPPED)
    assert model.n_articles == 9_418  # corpus/README.md
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        truth = read_ground_truth(SHIPPED)
    report = evaluate(model, truth, max_age=DEFAULT_MAX_AGE)
    # corpus/README.md: 7,777 links from 4,232 articles, every target in the file
    assert report["n_links"] == 7_777 and report["n_sources"] == 4_232
    assert report["missing_targets"] == 0
    assert_quality(report)


def test_batch_over_all_articles_equals_single_calls(full_model, checked_ids):
    batch = full_model.recommend_batch(full_model.ids_, k=10)
    assert batch.ids.shape == (full_model.n_articles, 10)
    rows = full_model.rows_of(list(checked_ids))
    X = full_model.matrix_
    Q = full_model.row_queries(rows)  # each article's query (More Like This terms, by default)
    brute = (Q.astype(np.float64) @ X.T.astype(np.float64)).toarray()
    brute[np.arange(len(rows)), rows] = -np.inf  # never itself
    for row, article_id, products in zip(rows, checked_ids, brute):
        ids, scores = full_model.recommend(article_id, k=10)
        np.testing.assert_array_equal(batch.ids[row, :len(ids)], ids)
        np.testing.assert_array_equal(batch.scores[row, :len(ids)], scores)
        best = np.sort(products[products > 0])[::-1][:10]  # brute force
        # float32 scores: BM25 reaches about 100, so the tolerance is relative
        np.testing.assert_allclose(scores, best, rtol=2e-6, atol=1e-6)


def test_saved_and_loaded_full_model_gives_the_same_lists(full_model, checked_ids,
                                                          tmp_path_factory):
    path = tmp_path_factory.mktemp("full") / "model"
    full_model.save(path)
    loaded = ArticleRecommender.load(path)
    assert loaded.n_articles == full_model.n_articles == 34_178
    for kwargs in ({}, {"as_of": "2020-07-03T12:00:00+02:00", "max_age": 60}):
        a = full_model.recommend_batch(list(checked_ids), k=10, **kwargs)
        b = loaded.recommend_batch(list(checked_ids), k=10, **kwargs)
        np.testing.assert_array_equal(a.ids, b.ids)
        np.testing.assert_array_equal(a.scores, b.scores)


def test_table_and_both_methods_agree_on_the_full_corpus(full_model, checked_ids):
    """The neighbour table (numba) against the scipy method: same lists, ties aside."""
    table = full_model.table_indices_
    assert table.shape == (full_model.n_articles, 50)
    rows = full_model.rows_of(list(checked_ids))
    X = full_model.matrix_
    Q = full_model.row_queries(rows)  # each article's query (More Like This terms, by default)
    indices, scores = top_k(Q, X, 50, skip=rows, method="scipy")  # its own postings
    np.testing.assert_allclose(full_model.table_scores_[rows], scores, rtol=2e-6, atol=1e-6)
    differ = table[rows] != indices
    assert differ.mean() < 0.01
    i, p = np.nonzero(differ)  # only where the scores tie
    np.testing.assert_allclose(full_model.table_scores_[rows][i, p], scores[i, p], rtol=2e-6,
                               atol=1e-6)


def test_fast_word_split_is_the_regex_on_every_field_of_the_corpus():
    """text.find_words reads a Latin-1 text without the regex: on each of the ~98,000 fields
    of the full corpus (lower-cased as the analyzer does) it must give the regex's words."""
    corpus = _full_corpus()
    word = re.compile(r"[^\W_]+")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        texts = [normalize_chars(field).lower() for article in read_corpus(corpus)
                 for field in (article.title, article.heading, article.body) if field]
    assert len(texts) > 90_000
    different = [text[:80] for text in texts if find_words(text) != word.findall(text)]
    assert different == []
