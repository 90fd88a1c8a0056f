"""Time that a mis-dated article cannot break, and filters that could only give empty lists.

Regressions of issue 11: one article dated years ahead moved the reference "now" of the
freshness window (most lists came out empty, without a word); a corpus without dates gave
every list empty under the default maximum age; a ``since`` after ``until`` or an unknown
category gave empty lists and no error.
"""

from __future__ import annotations

import warnings
from dataclasses import replace
from datetime import datetime, timezone

import numpy as np
import pytest

from recommender import Article, ArticleRecommender, CorpusWarning
from recommender.errors import ParameterError

TIGER = "CNT000001r4edC"


def _fit(articles, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        return ArticleRecommender(min_df=2, **params).fit(articles)


def test_regression_one_article_dated_years_ahead_empties_the_lists(articles):
    newest = max(a.published for a in articles if a.published)
    future = Article(id="FUTURE", title=articles[3].title, body=articles[3].body,
                     published=datetime(2031, 1, 1, tzinfo=timezone.utc))
    with pytest.warns(CorpusWarning, match=r"^1 articles are dated after this run's time "
                                           r"\(.*\): 'FUTURE' \(2031-01-01T00:00:00\+00:00\); "
                                           r"they do not move the reference time"):
        mis = ArticleRecommender(min_df=2, max_age=30).fit([*articles, future])
    # The oracle: the same article dated on the corpus's last day (same vectors, same rows).
    fixed = _fit([*articles, replace(future, published=newest)], max_age=30)
    assert mis.info_["n_after_run"] == 1
    np.testing.assert_array_equal(mis.ids_, fixed.ids_)
    sources = [a.id for a in articles]
    got, want = mis.recommend_batch(sources, k=10), fixed.recommend_batch(sources, k=10)
    np.testing.assert_array_equal(got.ids, want.ids)
    np.testing.assert_array_equal(got.scores, want.scores)
    assert (got.scores[:, 0] > -np.inf).sum() > len(sources) // 2  # lists, not empty ones
    ids, _ = mis.recommend(TIGER, k=10)
    np.testing.assert_array_equal(ids, fixed.recommend(TIGER, k=10)[0])


def test_the_reference_time_survives_save_and_load(articles, tmp_path):
    future = Article(id="FUTURE", title="Tigre", body=articles[0].body,
                     published=datetime(2031, 1, 1, tzinfo=timezone.utc))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        model = ArticleRecommender(min_df=2, max_age=30, table_size=0).fit([*articles, future])
    model.save(tmp_path / "m")
    loaded = ArticleRecommender.load(tmp_path / "m")
    sources = [a.id for a in articles]
    np.testing.assert_array_equal(loaded.recommend_batch(sources, k=8).ids,
                                  model.recommend_batch(sources, k=8).ids)


def test_regression_a_corpus_without_dates_gives_every_list_empty(articles):
    undated = [replace(a, published=None) for a in articles]
    with pytest.raises(ParameterError, match=r"^none of the 41 articles has a date, so a maximum "
                                             r"age of 62 days would leave every list empty: fit "
                                             r"with max_age=None \(recommender train "
                                             r"--no-max-age\), or give the articles their "
                                             r"'published' dates$"):
        _fit(undated, max_age=62)
    model = _fit(undated)  # no maximum age: lists without a time filter
    assert len(model.recommend(TIGER, k=5)[0]) == 5
    with pytest.raises(ParameterError, match=r"^this model's articles have no date, so a time "
                                             r"filter \(max_age\) would leave every list empty"):
        model.recommend(TIGER, k=5, max_age=30)


@pytest.mark.parametrize("since, until", [("2020-07-01", "2020-07-01"),
                                          ("2020-08-01", "2020-07-01")])
def test_regression_since_after_until_gives_an_empty_list(small_model, since, until):
    with pytest.raises(ParameterError, match=rf"^since \({since}\) is not before until "
                                             rf"\({until}\): no article can be published in "
                                             rf"that window$"):
        small_model.recommend(TIGER, k=5, since=since, until=until)
    with pytest.raises(ParameterError, match="is not before until"):
        small_model.recommend_batch([TIGER], k=5, since=since, until=until)


def test_regression_an_unknown_category_gives_an_empty_list(small_model):
    known = sorted(set(small_model.categories_.tolist()) - {""})
    with pytest.raises(ParameterError, match=rf"^unknown category 'sprots': the model's "
                                             rf"categories are {', '.join(known)}$"):
        small_model.recommend(TIGER, k=5, categories=["sprots"])
    with pytest.raises(ParameterError, match=r"^categories is empty: give at least one"):
        small_model.recommend(TIGER, k=5, categories=[])
    ids, _ = small_model.recommend(TIGER, k=5, categories=[known[0], "sprots"])  # one known
    assert set(small_model.categories_[small_model.rows_of(ids)]) <= {known[0]}
