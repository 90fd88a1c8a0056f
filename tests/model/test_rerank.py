"""Tests for the learned mode: :class:`~recommender.rerank.Trees` against scikit-learn's own
scores, :class:`~recommender.rerank.LinkReranker` / ``model.learn`` on the sample's site
lists (counts from tests/data/related.tsv read by hand), the re-ranked lists against the
content model's candidates, and a learned model saved and loaded."""

from __future__ import annotations

import hashlib
import math
import shutil
from datetime import datetime

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from recommender import ArticleRecommender, NotFittedError
from recommender.truth import GroundTruth, read_ground_truth
import recommender.model.rerank as rerank_module
from recommender.model.rerank import FEATURES, LinkReranker, Trees, pair_features
from recommender.text import french_stop_words
from recommender.times import NO_LIMIT, UNDATED
from recommender.errors import ModelFormatError, ParameterError
from helpers import (Bm25Oracle, bm25_oracle, flip_bytes, read_manifest, refresh_facts,
                     write_manifest)

TIGER = "CNT000001r4edC"
NEWEST = "CNT000001tA9aa"  # published 2020-09-25T17:16:30+02:00, the newest of the sample
N_CANDIDATES = 8
TEXT = ("Tigre de Sumatra empoisonné\nUn tigre de Sumatra, espèce menacée, a été retrouvé "
        "mort en Indonésie, empoisonné selon les autorités.")
#: Filters of recommend(); the learned lists must re-rank the candidates they leave.
FILTERS = [
    {},
    {"as_of": "2020-07-03T12:55:58+02:00"},
    {"max_age": 30},
    {"categories": ["france", "politique", "societe/environnement"]},
    {"exclude": ["CNT000001rdIhh", "CNT000001r2yqP"]},
    {"since": "2020-06-01T00:00:00+02:00", "until": "2020-08-01T00:00:00+02:00"},
]
RERANKER_FILES = [f"reranker.{name}.npy" for name in (*Trees.FIELDS, "roots", "links",
                                                      "sources")]


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One OpenMP thread for the classifiers these tests fit themselves: on a busy two-core
    machine their thread pool spins (20 trees took 10 s instead of 0.1 s). ``learn`` limits
    its own threads to the model's ``n_jobs``."""
    with threadpool_limits(1):
        yield


# -- the sample's links, read without the package ------------------------------------------
@pytest.fixture(scope="module")
def truth(related_path):
    return read_ground_truth(related_path)


@pytest.fixture(scope="module")
def learned(articles, truth) -> ArticleRecommender:
    """The sample model (as ``small_model``) that learned from every site list."""
    model = ArticleRecommender(min_df=2).fit(articles)
    return model.learn(truth, n_candidates=N_CANDIDATES)


def ids_of(result) -> list:
    return result[0].tolist()


# -- Trees ---------------------------------------------------------------------------------
def walked_by(trees: Trees, walker: str) -> Trees:
    """``trees`` scored by scikit-learn's compiled walker when it is usable (the default),
    or by the numpy walk that other versions of scikit-learn fall back to."""
    if walker == "numpy":
        trees._predictors = []  # as when the compiled walker cannot be built
    return trees


WALKERS = pytest.mark.parametrize("walker", ["default", "numpy"])


def noisy_data(rng, n, with_nan: bool):
    X = rng.normal(size=(n, 6))
    y = (X[:, 0] + X[:, 1] * X[:, 2] - 0.5 * X[:, 3] + rng.normal(scale=0.7, size=n)) > 0
    if with_nan:
        X[rng.random(X.shape) < 0.2] = np.nan
    return X, y


@WALKERS
@pytest.mark.parametrize("depth, leaves", [(1, 31), (2, 31), (4, 31), (None, 5), (None, 31)])
def test_trees_score_as_the_classifier(depth, leaves, walker):
    rng = np.random.default_rng(depth or leaves)
    X, y = noisy_data(rng, 800, with_nan=True)
    test, _ = noisy_data(rng, 500, with_nan=True)
    clf = HistGradientBoostingClassifier(max_iter=25, max_depth=depth, max_leaf_nodes=leaves,
                                         min_samples_leaf=10, random_state=0).fit(X, y)
    trees = walked_by(Trees.from_classifier(clf), walker)
    assert len(trees.roots) == clf.n_iter_
    np.testing.assert_allclose(trees.decision_function(test), clf.decision_function(test),
                               rtol=0, atol=1e-9)
    np.testing.assert_allclose(trees.decision_function(X), clf.decision_function(X),
                               rtol=0, atol=1e-9)


@WALKERS
def test_trees_missing_values_seen_only_at_prediction(walker):
    """A feature with no NaN in training: NaN at prediction goes where scikit-learn sends
    it (the child that had most samples)."""
    rng = np.random.default_rng(5)
    X, y = noisy_data(rng, 800, with_nan=False)
    test, _ = noisy_data(rng, 400, with_nan=True)
    test[:20, :] = np.nan  # rows with nothing known
    clf = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(X, y)
    trees = walked_by(Trees.from_classifier(clf), walker)
    np.testing.assert_allclose(trees.decision_function(test), clf.decision_function(test),
                               rtol=0, atol=1e-9)


@WALKERS
def test_trees_over_several_chunks_of_rows(walker):
    """Many trees make small chunks of rows: a classifier's trees repeated 50 times score
    its baseline plus 50 times its trees' sum, on rows across several chunks."""
    rng = np.random.default_rng(7)
    X, y = noisy_data(rng, 600, with_nan=True)
    clf = HistGradientBoostingClassifier(max_iter=40, max_depth=2, random_state=0).fit(X, y)
    one = Trees.from_classifier(clf)
    size, copies = len(one.feature), 50
    offsets = np.repeat(np.arange(copies) * size, size)
    tiled = {f: np.tile(getattr(one, f), copies) for f in Trees.FIELDS}
    tiled["left"] = tiled["left"] + offsets
    tiled["right"] = tiled["right"] + offsets
    roots = (one.roots[None, :] + (np.arange(copies) * size)[:, None]).ravel()
    many = walked_by(Trees(**tiled, roots=roots, baseline=one.baseline), walker)
    rows = 2_000_000 // len(roots) * 3 + 17  # three chunks and a bit
    test, _ = noisy_data(rng, rows, with_nan=True)
    want = one.baseline + copies * (clf.decision_function(test) - one.baseline)
    np.testing.assert_allclose(many.decision_function(test), want, rtol=0, atol=1e-7)


@WALKERS
def test_trees_of_single_leaf_trees_and_of_no_rows(walker):
    X = np.ones((60, 3))
    y = np.arange(60) % 3 == 0  # nothing to split on: each tree is one leaf
    clf = HistGradientBoostingClassifier(max_iter=5).fit(X, y)
    trees = walked_by(Trees.from_classifier(clf), walker)
    assert trees.is_leaf.all()
    np.testing.assert_allclose(trees.decision_function(X), clf.decision_function(X),
                               rtol=0, atol=1e-9)
    assert trees.decision_function(np.zeros((0, 3))).shape == (0,)


def test_trees_refuse_a_multiclass_classifier():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3))
    clf = HistGradientBoostingClassifier(max_iter=3).fit(X, np.arange(90) % 3)
    with pytest.raises(ValueError, match=r"^only a binary HistGradientBoostingClassifier can "
                                         r"be kept$"):
        Trees.from_classifier(clf)


def test_trees_refuse_categorical_splits():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=200), rng.integers(0, 4, 200)])
    clf = HistGradientBoostingClassifier(max_iter=3, categorical_features=[1],
                                         min_samples_leaf=5).fit(X, X[:, 1] >= 2)
    with pytest.raises(ValueError, match=r"^categorical splits are not supported; give "
                                         r"numbers$"):
        Trees.from_classifier(clf)


# -- LinkReranker / learn -----------------------------------------------------------------
def test_learned_sources_are_the_known_sources_of_the_lists(learned, sample_links):
    want = sorted({source for source, _ in sample_links})
    assert len(want) == 24  # tests/data/README.md: 5 of the 29 sources have no known link
    assert learned.reranker_.sources_.tolist() == want


def in_candidates(model, sample_links, n) -> int:
    """The links whose target is among the content model's ``n`` best as of when the list
    was shown (with the model's own filters)."""
    return sum(target in ids_of(model.recommend(source, n, as_of=shown))
               for (source, target), shown in sample_links.items())


def test_info_counts(learned, sample_links, small_model):
    assert len(sample_links) == 37
    assert learned.reranker_.info_ == {
        "n_lists": 24, "n_links": 37, "n_candidates": N_CANDIDATES,
        "n_targets_in_candidates": in_candidates(small_model, sample_links, N_CANDIDATES)}


def test_info_counts_the_targets_within_the_cut(truth, sample_links, small_model):
    want = in_candidates(small_model, sample_links, 2)
    assert 0 < want < 37  # two candidates miss some targets on the sample
    model = small_model.content_only().learn(truth, n_candidates=2)
    assert model.reranker_.info_["n_targets_in_candidates"] == want
    assert model.reranker_.info_["n_candidates"] == 2


def test_links_and_category_share(learned, sample_links, articles):
    reranker = learned.reranker_
    category = {a.id: a.category for a in articles}
    targets = [target for _, target in sample_links]
    for row, article_id in enumerate(learned.ids_.tolist()):
        assert reranker.links_[row] == targets.count(article_id)
    shares = {c: sum(category[t] == c for t in targets) / len(targets)
              for c in {category[t] for t in targets}}
    assert reranker.category_share_ == pytest.approx(shares, abs=1e-12)
    assert sum(reranker.category_share_.values()) == pytest.approx(1)


def real(ids_row) -> list:
    return [i for i in ids_row.tolist() if i]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(f) or "none")
def test_learned_lists_reorder_the_content_candidates(learned, filters):
    """With k = n_candidates a learned list is a permutation of the content list (with the
    same filters); a shorter one is its start; a longer one holds the same n_candidates."""
    content = learned.content_only()
    sources = learned.ids_.tolist()
    best = content.recommend_batch(sources, N_CANDIDATES, **filters)
    got = learned.recommend_batch(sources, N_CANDIDATES, **filters)
    top = learned.recommend_batch(sources, 3, **filters)
    wide = learned.recommend_batch(sources, N_CANDIDATES + 4, **filters)
    assert wide.ids.shape == (41, N_CANDIDATES + 4)
    for i, source in enumerate(sources):
        ids = real(got.ids[i])
        assert sorted(ids) == sorted(real(best.ids[i])), source
        assert real(top.ids[i]) == ids[:3]
        np.testing.assert_array_equal(top.scores[i], got.scores[i, :3])
        assert real(wide.ids[i]) == ids  # at most n_candidates, whatever k
        np.testing.assert_array_equal(wide.scores[i, :len(ids)], got.scores[i, :len(ids)])
        assert np.isneginf(wide.scores[i, len(ids):]).all()
        assert source not in ids
        scores = got.scores[i, :len(ids)]
        assert scores.dtype == np.float32
        assert ((scores > 0) & (scores < 1)).all(), scores
        assert (np.diff(scores) <= 0).all()
        assert np.isneginf(got.scores[i, len(ids):]).all()


def test_learning_changes_some_order(learned, small_model):
    """The re-ranker is applied: some list's order differs from the content model's."""
    changed = [s for s in learned.ids_.tolist()
               if ids_of(learned.recommend(s, N_CANDIDATES))
               != ids_of(small_model.recommend(s, N_CANDIDATES))]
    assert changed


@pytest.mark.parametrize("when", [
    "as_of",  # every list scored
    "none",   # the neighbour table answers recommend() (n_candidates < table_size: the
              # regression of a table that re-ranked table_size candidates, not n_candidates)
    "mixed",  # both in one batch
])
def test_learned_recommend_is_a_batch_row(learned, when):
    sources = learned.ids_.tolist()
    shown = "2020-07-03T12:55:58+02:00"
    times = {"as_of": [shown] * len(sources), "none": [None] * len(sources),
             "mixed": [None if i % 3 == 0 else shown for i in range(len(sources))]}[when]
    batch = learned.recommend_batch(sources, 6, as_of=times)
    assert batch.ids.shape == batch.scores.shape == (41, 6)
    for i, source in enumerate(sources):
        ids, scores = learned.recommend(source, 6, as_of=times[i])
        n = len(ids)
        np.testing.assert_array_equal(batch.ids[i, :n], ids)
        np.testing.assert_array_equal(batch.scores[i, :n], scores)
        assert (batch.ids[i, n:] == "").all() and np.isneginf(batch.scores[i, n:]).all()


def test_content_only_gives_the_content_lists(learned, small_model):
    content = learned.content_only()
    assert content.reranker_ is None and learned.reranker_ is not None
    for source in small_model.ids_.tolist():
        ids, scores = content.recommend(source, 10)
        want_ids, want_scores = small_model.recommend(source, 10)
        assert ids.tolist() == want_ids.tolist()
        np.testing.assert_allclose(scores, want_scores, rtol=0, atol=1e-7)


def test_similar_on_a_learned_model_reorders_the_content_candidates(learned):
    ids, scores = learned.similar(TEXT, N_CANDIDATES)
    best = ids_of(learned.content_only().similar(TEXT, N_CANDIDATES))
    assert len(best) == N_CANDIDATES
    assert sorted(ids.tolist()) == sorted(best)
    assert ((scores > 0) & (scores < 1)).all() and (np.diff(scores) <= 0).all()


def test_learning_again_gives_the_same_re_ranker(learned, truth):
    """learn() ranks the content model's candidates, not those of a re-ranker it had."""
    again = learned.content_only()
    again.reranker_ = learned.reranker_  # as if learned already
    again.learn(truth, n_candidates=N_CANDIDATES)
    assert again.reranker_ is not learned.reranker_
    for name, array in learned.reranker_.trees_.arrays().items():
        np.testing.assert_array_equal(again.reranker_.trees_.arrays()[name], array)
    assert again.reranker_.info_ == learned.reranker_.info_


def test_lists_without_a_known_link(small_model):
    truth = GroundTruth(np.array(["NOPE", TIGER]), np.array([TIGER, "GONE"]),
                        np.array([0, 0], np.int64))
    model = small_model.content_only()
    with pytest.raises(ValueError, match=r"^none of the 2 links has both its source and its "
                                         r"target in the model; are they lists of this "
                                         r"corpus\?$"):
        model.learn(truth)
    assert model.reranker_ is None


def test_no_target_among_the_candidates(small_model):
    """The newest article cannot be a candidate of a list shown before it was published."""
    shown = int(datetime.fromisoformat("2020-07-03T12:55:58+02:00").timestamp())
    truth = GroundTruth(np.array([TIGER]), np.array([NEWEST]), np.array([shown], np.int64))
    with pytest.raises(ValueError, match=r"^none of the 1 learned links has its target among "
                                         r"the 8 candidates of its source; check that the "
                                         r"lists come from this corpus and raise n_candidates$"):
        small_model.content_only().learn(truth, n_candidates=8)


@pytest.mark.parametrize("bad, shown", [(0, "0"), (-3, "-3"), (2.5, "2.5"), (True, "True")])
def test_bad_n_candidates(small_model, truth, bad, shown):
    with pytest.raises(ValueError, match=rf"^n_candidates must be a positive integer, "
                                         rf"got {shown}$"):
        small_model.content_only().learn(truth, n_candidates=bad)


@pytest.mark.parametrize("bad, shown", [(0, "0"), (1.5, "1.5"), (-0.1, "-0.1"),
                                       ("half", "'half'"), (True, "True"), (None, "None")])
def test_bad_max_features(small_model, truth, bad, shown):
    with pytest.raises(ParameterError, match=rf"^max_features must be a share of the features "
                                             rf"in \(0, 1\], got {shown}$"):
        small_model.content_only().learn(truth, n_candidates=8, max_features=bad)


def test_max_features_chooses_among_a_share_of_the_features(small_model, truth):
    """Each split draws from max_features of the features (1.0: all of them, scikit-learn's
    plain boosting): the trees change with it, and are the same for the same draws."""
    def trees(share):
        model = small_model.content_only().learn(truth, n_candidates=8, max_iter=20,
                                                 max_features=share)
        return model.reranker_.trees_

    every, some = trees(1.0), trees(0.3)
    assert every.feature.shape != some.feature.shape or \
        not np.array_equal(every.feature, some.feature)
    again = trees(0.3)  # the draws follow random_state: the same trees twice
    for name, array in some.arrays().items():
        np.testing.assert_array_equal(again.arrays()[name], array)


def test_learn_before_fit(truth):
    with pytest.raises(NotFittedError, match=r"not fitted yet"):
        ArticleRecommender().learn(truth)


def test_reranker_params():
    assert LinkReranker(n_candidates=7).get_params() == {
        "n_candidates": 7, "max_iter": 200, "learning_rate": 0.05, "max_leaf_nodes": 31,
        "min_samples_leaf": 40, "l2_regularization": 1.0, "max_features": 0.6, "random_state": 0,
        "features": None}


# -- the features -----------------------------------------------------------------------
#: The features of the learned mode before the cosine, reverse and loose scores.
OLD_FEATURES = ("score", "rank", "score_ratio", "candidate_age", "source_age", "same_category",
                "category_share", "candidate_terms", "title_cosine", "links")


def test_features_are_the_old_ten_then_four():
    assert FEATURES == (*OLD_FEATURES, "cosine_score", "cosine_rank", "reverse_score",
                        "loose_score")


@pytest.mark.parametrize("features, shown", [
    (["score", "bogus"], r"\['score', 'bogus'\]"),
    ([], r"\[\]"),
    (("Score",), r"\['Score'\]"),
])
def test_unknown_features_are_refused(small_model, truth, features, shown):
    model = small_model.content_only()
    with pytest.raises(ParameterError, match=rf"^features must be some of "
                                             rf"{', '.join(FEATURES)}; got {shown}$"):
        model.learn(truth, n_candidates=N_CANDIDATES, features=features)
    assert model.reranker_ is None


def test_all_features_named_are_the_default(learned, small_model, truth):
    named = small_model.content_only().learn(truth, n_candidates=N_CANDIDATES,
                                             features=list(FEATURES))
    assert named.reranker_.features_ == learned.reranker_.features_ == FEATURES
    for name, array in learned.reranker_.trees_.arrays().items():
        np.testing.assert_array_equal(named.reranker_.trees_.arrays()[name], array)


SUBSET = ("rank", "cosine_score", "reverse_score", "score")  # not in FEATURES's order


@pytest.fixture(scope="module")
def learned_subset(small_model, truth) -> ArticleRecommender:
    return small_model.content_only().learn(truth, n_candidates=N_CANDIDATES,
                                            features=list(SUBSET), min_samples_leaf=5)


def test_a_subset_of_features(learned_subset, tmp_path):
    reranker = learned_subset.reranker_
    assert reranker.features_ == SUBSET and reranker.get_params()["features"] == list(SUBSET)
    inner = ~reranker.trees_.is_leaf
    assert inner.any() and reranker.trees_.feature[inner].max() < len(SUBSET)
    learned_subset.save(tmp_path / "model")
    assert read_manifest(tmp_path / "model")["learned"]["features"] == list(SUBSET)
    loaded = ArticleRecommender.load(tmp_path / "model")
    assert loaded.reranker_.features_ == SUBSET
    sources = learned_subset.ids_.tolist()
    a, b = loaded.recommend_batch(sources, 8), learned_subset.recommend_batch(sources, 8)
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.scores, b.scores)


def test_the_trees_read_the_named_columns(learned_subset, monkeypatch):
    """A list's probabilities are the trees' on the named columns of the pair features."""
    seen = []
    original = rerank_module.pair_features

    def keep(*args, **kwargs):
        seen.append(original(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(rerank_module, "pair_features", keep)
    ids, scores = learned_subset.recommend(TIGER, N_CANDIDATES, as_of="2020-07-03T12:55:58+02:00")
    (features,) = seen
    valid = ~np.isnan(features[0, :, FEATURES.index("score")])
    columns = [FEATURES.index(name) for name in SUBSET]
    raw = learned_subset.reranker_.trees_.decision_function(features[0][valid][:, columns])
    want = np.sort(1 / (1 + np.exp(-raw)))[::-1]
    assert len(ids) == valid.sum() > 1
    np.testing.assert_allclose(scores, want, rtol=1e-6)


def test_a_folder_of_the_old_ten_features_still_loads(small_model, truth, tmp_path):
    """A folder written before the four new features: its manifest lists the ten old ones
    and its parameters have no "features"."""
    old = small_model.content_only().learn(truth, n_candidates=N_CANDIDATES,
                                           features=list(OLD_FEATURES), min_samples_leaf=5)
    path = tmp_path / "model"
    old.save(path)
    manifest = read_manifest(path)
    assert manifest["learned"]["features"] == list(OLD_FEATURES)
    del manifest["learned"]["params"]["features"]
    write_manifest(path, manifest)
    loaded = ArticleRecommender.load(path)
    assert loaded.reranker_.features_ == OLD_FEATURES
    sources = old.ids_.tolist()
    for filters in FILTERS[:2]:
        a, b = loaded.recommend_batch(sources, 8, **filters), old.recommend_batch(sources, 8,
                                                                                   **filters)
        np.testing.assert_array_equal(a.ids, b.ids)
        np.testing.assert_array_equal(a.scores, b.scores)


# -- the pair features of the cosine, reverse and loose scores, against oracles ---------------
def cosine_oracle(oracle: Bm25Oracle, idf_power: float, length_prior: float, query_terms: int):
    """``({id: row}, {id: query})`` of the cosine features of a More Like This model, from
    their definition over the BM25 oracle's counts: ``(1 + ln tf) × (ln((1 + N) / (1 + df))
    + 1) ** idf_power`` over the model's terms but stop words and terms of more than half
    the articles; unit rows times ``(n / mean n) ** length_prior`` (n: a row's terms, the
    mean over rows with terms); a query is a row's ``query_terms`` strongest terms (ties: the
    alphabetically first), unit."""
    stops = french_stop_words()
    rows = {}
    for article_id, counts in oracle.tf.items():
        row = {t: (1 + math.log(tf)) * (math.log((1 + oracle.n) / (1 + oracle.df[t])) + 1)
               ** idf_power for t, tf in counts.items()
               if t in oracle.df and oracle.df[t] <= 0.5 * oracle.n and t not in stops}
        norm = math.sqrt(sum(w * w for w in row.values()))
        rows[article_id] = {t: w / norm for t, w in row.items()}
    sizes = [len(row) for row in rows.values() if row]
    mean = sum(sizes) / len(sizes)
    queries = {}
    for article_id, row in rows.items():
        kept = sorted(row, key=lambda t: (-row[t], t))[:query_terms]
        norm = math.sqrt(sum(row[t] ** 2 for t in kept))
        queries[article_id] = {t: row[t] / norm for t in kept}
        scale = (max(len(row), 1) / mean) ** length_prior
        rows[article_id] = {t: w * scale for t, w in row.items()}
    return rows, queries


def content_candidates(model, width):
    """``(source_rows, candidates, scores)``: each row's content list of ``width`` with no
    time filter, as rows (-1 / -inf padded)."""
    sources = model.ids_.tolist()
    ids, scores = model.content_only().recommend_batch(sources, width, max_age=NO_LIMIT)
    rows = {a: r for r, a in enumerate(sources)}
    candidates = np.array([[rows.get(a, -1) for a in row] for row in ids.tolist()], np.int64)
    return np.arange(len(sources)), candidates, scores


def features_of(model, width=8):
    sources, candidates, scores = content_candidates(model, width)
    n = model.n_articles
    features = pair_features(model.pair_context(), sources, candidates, scores,
                             np.full(len(sources), UNDATED), links=np.zeros(n),
                             category_share={})
    return candidates, features


def column(name: str) -> int:
    return FEATURES.index(name)


def test_the_cosine_reverse_and_loose_scores_of_a_more_like_this_model(small_model, articles):
    model = small_model
    candidates, features = features_of(model)
    ids = model.ids_.tolist()
    oracle = bm25_oracle(model, articles)
    loose = Bm25Oracle(articles, model.vectorizer_.build_analyzer(), min_df=2, min_term_freq=1)
    assert (loose.min_term_freq, loose.query_stop_words) == (1, False)
    rows, queries = cosine_oracle(oracle, model.idf_power, model.length_prior, model.query_terms)
    by_id = {a.id: a for a in articles}
    checked = 0
    for i, source in enumerate(ids):
        valid = candidates[i] >= 0
        assert np.isnan(features[i, ~valid]).all()
        others = [ids[c] for c in candidates[i, valid]]
        cosine = [sum(w * rows[c].get(t, 0.0) for t, w in queries[source].items())
                  for c in others]
        np.testing.assert_allclose(features[i, valid, column("cosine_score")], cosine,
                                   rtol=0, atol=1e-5)
        # the rank among the candidates by that score (0 = best); near-ties either way
        rank = features[i, valid, column("cosine_rank")]
        assert sorted(rank.tolist()) == list(range(len(others)))
        for j in range(len(others)):
            for k in range(len(others)):
                if cosine[j] > cosine[k] + 1e-5:
                    assert rank[j] < rank[k], (source, others[j], others[k])
        # reverse: the score of the source for the candidate's own query
        reverse = [sum(oracle.weight(t, source) for t in oracle.query_of(by_id[c]))
                   for c in others]
        np.testing.assert_allclose(features[i, valid, column("reverse_score")], reverse,
                                   rtol=1e-4)
        # loose: the source's query with terms said once allowed, on the candidate's row
        query = loose.query_of(by_id[source])
        np.testing.assert_allclose(features[i, valid, column("loose_score")],
                                   [sum(oracle.weight(t, c) for t in query) for c in others],
                                   rtol=1e-4)
        checked += len(others)
    assert checked > 200


def test_the_cosine_and_reverse_scores_of_a_cosine_model(cosine_model):
    """With cosine scoring the cosine score is the model's own score, the reverse score
    the source's score in the candidate's own list, and there is no loose score."""
    model = cosine_model
    candidates, features = features_of(model)
    ids = model.ids_.tolist()
    lists = model.recommend_batch(ids, 40, max_age=NO_LIMIT)
    score_in = {(ids[r], a): s for r in range(len(ids))
                for a, s in zip(lists.ids[r].tolist(), lists.scores[r].tolist()) if a}
    for i, source in enumerate(ids):
        valid = candidates[i] >= 0
        np.testing.assert_allclose(features[i, valid, column("cosine_score")],
                                   features[i, valid, column("score")], rtol=0, atol=1e-6)
        reverse = [score_in.get((ids[c], source), 0.0) for c in candidates[i, valid]]
        np.testing.assert_allclose(features[i, valid, column("reverse_score")], reverse,
                                   rtol=0, atol=1e-6)
        assert np.isnan(features[i, :, column("loose_score")]).all()


# -- learning with a cosine model ------------------------------------------------------------
def test_regression_a_cosine_model_learns_with_the_default_features(cosine_model, truth):
    """learn() failed on every cosine model: its loose score, all NaN, broke scikit-learn's
    binning. By default a model learns from the features it has."""
    model = cosine_model.content_only().learn(truth, n_candidates=N_CANDIDATES)
    assert model.reranker_.features_ == tuple(f for f in FEATURES if f != "loose_score")


@pytest.fixture(scope="module")
def learned_cosine(cosine_model, truth) -> ArticleRecommender:
    """A cosine model learned without the loose score (which it does not have)."""
    return cosine_model.content_only().learn(
        truth, n_candidates=N_CANDIDATES, min_samples_leaf=5,
        features=[name for name in FEATURES if name != "loose_score"])


def test_a_cosine_model_learns_without_the_loose_score(learned_cosine, cosine_model):
    assert "loose_score" not in learned_cosine.reranker_.features_
    content = learned_cosine.content_only()
    sources = cosine_model.ids_.tolist()
    got = learned_cosine.recommend_batch(sources, N_CANDIDATES)
    best = content.recommend_batch(sources, N_CANDIDATES)
    for i in range(len(sources)):
        assert sorted(real(got.ids[i])) == sorted(real(best.ids[i]))


#: Features that depend on the source being a row of the model (its date, its category),
#: or on the candidates as a list (its own text is a candidate of ``similar``).
ROW_ONLY = {"rank", "score_ratio", "source_age", "same_category", "cosine_rank"}

# Regression (cosine): a text's reverse score was read from its unit row, without the
# length prior that the model's rows carry.
@pytest.mark.parametrize("scoring", ["mlt", "cosine"])
def test_the_features_of_a_text_are_those_of_its_article(scoring, learned, learned_cosine,
                                                          articles, monkeypatch):
    """similar(an article's text) describes each candidate as recommend(that article) does,
    but for what needs the source to be a row (ROW_ONLY)."""
    model = {"mlt": learned, "cosine": learned_cosine}[scoring]
    seen = []
    original = rerank_module.pair_features

    def keep(context, source_rows, candidates, *args, **kwargs):
        seen.append((candidates, original(context, source_rows, candidates, *args, **kwargs)))
        return seen[-1][1]

    monkeypatch.setattr(rerank_module, "pair_features", keep)
    compared = 0
    for article in articles[::4]:
        if not article.has_text:
            continue
        seen.clear()
        shown = "2020-07-03T12:55:58+02:00"
        model.recommend(article.id, N_CANDIDATES, as_of=shown)
        model.similar(article, N_CANDIDATES, as_of=shown)
        (rows_of_row, of_row), (rows_of_text, of_text) = seen
        at = {c: j for j, c in enumerate(rows_of_text[0].tolist()) if c >= 0}
        for j, c in enumerate(rows_of_row[0].tolist()):
            if c < 0 or c not in at:
                continue
            for f, name in enumerate(FEATURES):
                if name not in ROW_ONLY:
                    np.testing.assert_allclose(of_text[0, at[c], f], of_row[0, j, f], rtol=1e-5,
                                               atol=1e-6, err_msg=(article.id, name))
            compared += 1
    assert compared > 30


# -- save and load -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def learned_dir(tmp_path_factory, learned):
    path = tmp_path_factory.mktemp("learned") / "model"
    learned.save(path)
    return path


@pytest.fixture
def learned_copy(tmp_path, learned_dir):
    return shutil.copytree(learned_dir, tmp_path / "model")


def test_learned_model_round_trip(learned, learned_dir):
    loaded = ArticleRecommender.load(learned_dir)
    assert loaded.reranker_ is not None
    assert loaded.reranker_.sources_.tolist() == learned.reranker_.sources_.tolist()
    assert loaded.reranker_.info_ == learned.reranker_.info_
    assert loaded.reranker_.get_params() == learned.reranker_.get_params()
    for name, array in learned.reranker_.trees_.arrays().items():
        np.testing.assert_array_equal(loaded.reranker_.trees_.arrays()[name], array)
    sources = learned.ids_.tolist()
    for filters in FILTERS[:2]:
        got = loaded.recommend_batch(sources, 10, **filters)
        want = learned.recommend_batch(sources, 10, **filters)
        np.testing.assert_array_equal(got.ids, want.ids)
        np.testing.assert_allclose(got.scores, want.scores, rtol=0, atol=1e-7)
    got, want = loaded.similar(TEXT, 5), learned.similar(TEXT, 5)
    assert ids_of(got) == ids_of(want)


def test_learned_manifest(learned_dir):
    manifest = read_manifest(learned_dir)
    for name in RERANKER_FILES:
        facts = manifest["files"][name]
        data = (learned_dir / name).read_bytes()
        assert facts == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    assert manifest["learned"]["n_lists"] == 24
    assert manifest["learned"]["n_links"] == 37
    assert manifest["learned"]["n_candidates"] == N_CANDIDATES
    assert manifest["learned"]["features"] == list(FEATURES)
    assert manifest["learned"]["params"]["n_candidates"] == N_CANDIDATES
    sources = np.load(learned_dir / "reranker.sources.npy", allow_pickle=False)
    assert len(sources) == 24


def test_content_model_has_no_reranker_files(model_dir):
    manifest = read_manifest(model_dir)
    assert "learned" not in manifest
    assert not [f for f in manifest["files"] if f.startswith("reranker.")]
    assert not list(model_dir.glob("reranker.*"))
    assert ArticleRecommender.load(model_dir).reranker_ is None


@pytest.mark.parametrize("name", ["reranker.links.npy", "reranker.value.npy",
                                  "reranker.sources.npy"])
def test_missing_reranker_file_is_named(learned_copy, name):
    (learned_copy / name).unlink()
    with pytest.raises(ModelFormatError, match=rf"file {name.replace('.', '[.]')} is missing; "
                                               rf"the model is incomplete\. Retrain it\."):
        ArticleRecommender.load(learned_copy)


def rewrite(folder, name, array) -> None:
    """Write ``array`` as ``name`` and put its true size and checksum in the manifest."""
    np.save(folder / name, array, allow_pickle=False)
    refresh_facts(folder, name)


def test_reranker_links_of_the_wrong_length(learned_copy):
    rewrite(learned_copy, "reranker.links.npy", np.zeros(40))
    with pytest.raises(ModelFormatError, match=r"reranker\.links\.npy has 40 values for 41 "
                                               r"articles; retrain the model$"):
        ArticleRecommender.load(learned_copy)


def test_tampered_reranker_file(learned_copy):
    flip_bytes(learned_copy / "reranker.threshold.npy")
    with pytest.raises(ModelFormatError, match=r"file reranker\.threshold\.npy does not match "
                                               r"its checksum in the manifest"):
        ArticleRecommender.load(learned_copy)


@pytest.mark.parametrize("features, shown", [
    (["score", "rank", "popularity"], r"\['score', 'rank', 'popularity'\]"),
    ([], r"\[\]"),
    ("score", "score"),
    (None, "None"),
    (["score", 3], r"\['score', 3\]"),
])
def test_learned_entry_of_other_features(learned_copy, features, shown):
    manifest = read_manifest(learned_copy)
    manifest["learned"]["features"] = features
    write_manifest(learned_copy, manifest)
    with pytest.raises(ModelFormatError, match=rf"the re-ranker was trained on other features "
                                               rf"\({shown}\); retrain it with this version$"):
        ArticleRecommender.load(learned_copy)


def test_learned_entry_of_fewer_features_than_the_trees_read(learned_copy):
    """Known names, but fewer than the trees read: the trees' bound is the list's length."""
    manifest = read_manifest(learned_copy)
    manifest["learned"]["features"] = ["score", "rank"]
    write_manifest(learned_copy, manifest)
    with pytest.raises(ModelFormatError, match=r"reranker\.feature\.npy holds a feature "
                                               r"outside \[0, 2\); retrain it$"):
        ArticleRecommender.load(learned_copy)


def test_learned_entry_without_its_baseline(learned_copy):
    manifest = read_manifest(learned_copy)
    del manifest["learned"]["baseline"]
    write_manifest(learned_copy, manifest)
    with pytest.raises(ModelFormatError, match=r"the learned re-ranker is incomplete "
                                               r"\('baseline'\); retrain it$"):
        ArticleRecommender.load(learned_copy)


def test_learning_from_lists_without_times(small_model, tmp_path, related_path):
    """Regression: lists without shown_at (a TSV of source_id, target_id) left the age
    features all NaN, and scikit-learn's binning failed with 'window shape cannot be larger
    than input array shape'."""
    links = tmp_path / "links.tsv"
    links.write_text("".join("\t".join(line.split("\t")[:2]) + "\n"
                             for line in related_path.read_text("utf-8").splitlines()),
                     encoding="utf-8")
    truth = read_ground_truth(links)
    assert len(truth) == 47
    model = small_model.content_only().learn(truth, n_candidates=N_CANDIDATES)
    assert model.reranker_.info_["n_lists"] == 24
    ids = ids_of(model.recommend(TIGER, N_CANDIDATES))
    assert sorted(ids) == sorted(ids_of(small_model.recommend(TIGER, N_CANDIDATES)))


def test_an_unfitted_classifier_is_refused():
    from sklearn.ensemble import HistGradientBoostingClassifier

    with pytest.raises(ValueError, match=r"^the classifier is not fitted yet; fit it first$"):
        Trees.from_classifier(HistGradientBoostingClassifier())


@pytest.mark.parametrize("name, bad", [("idf_power", None), ("idf_power", -1),
                                       ("length_prior", "0.2"), ("query_terms", 0)])
def test_regression_a_learned_mlt_folder_with_a_bad_cosine_setting_is_refused(learned_copy,
                                                                              name, bad):
    """The learned features of a More Like This model are made with the cosine settings;
    an mlt folder whose manifest held idf_power null loaded, then failed in the first
    request with a TypeError (found by the slow fuzz of mutated folders)."""
    manifest = read_manifest(learned_copy)
    assert manifest["params"]["scoring"] == "mlt"
    manifest["params"][name] = bad
    write_manifest(learned_copy, manifest)
    with pytest.raises(ModelFormatError, match=rf"manifest\.json: params: {name} must be "):
        ArticleRecommender.load(learned_copy)
