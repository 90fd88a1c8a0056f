"""Tests for recommender.times: one internal form of time, and the ages of the filters."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest

from recommender.errors import ParameterError
from recommender.times import (NO_LIMIT, UNDATED, check_days, days_to_seconds, parse_time,
                               times_of, to_iso, to_seconds)

TIGER = "CNT000001r4edC"
# 2020-07-03T10:43:14Z, worked out by hand: 18,446 days since 1970 and 38,594 seconds
JULY_3 = 18_446 * 86_400 + 10 * 3600 + 43 * 60 + 14


@pytest.mark.parametrize("value", ["2020-07-03T12:43:14+02:00", "2020-07-03T10:43:14Z",
                                   "2020-07-03T10:43:14", " 2020-07-03 10:43:14z ",
                                   datetime(2020, 7, 3, 10, 43, 14, tzinfo=timezone.utc),
                                   datetime(2020, 7, 3, 10, 43, 14),
                                   np.datetime64("2020-07-03T10:43:14")])
def test_every_form_of_a_time_gives_the_same_seconds(value):
    assert to_seconds(value) == JULY_3


def test_a_date_alone_is_midnight_utc():
    assert to_seconds(date(2020, 7, 3)) == to_seconds("2020-07-03") == 18_446 * 86_400


def test_no_time_is_undated_and_back():
    assert to_seconds(None) == to_seconds("") == UNDATED
    assert to_iso(UNDATED) is None
    assert to_iso(JULY_3) == "2020-07-03T10:43:14+00:00"
    assert to_seconds(to_iso(JULY_3)) == JULY_3


@pytest.mark.parametrize("bad, message", [
    ("03/07/2020", r"cannot read as_of '03/07/2020': expected ISO 8601 such as '2020-07-03'"),
    (1593772994, r"cannot read as_of 1593772994: expected an ISO 8601 string, got int"),
])
def test_an_unreadable_time_is_named(bad, message):
    with pytest.raises(ParameterError, match=message):
        to_seconds(bad, "as_of")
    with pytest.raises(ValueError):  # a ParameterError is a ValueError
        parse_time(bad, what="as_of")


def test_times_of_gives_one_time_per_query():
    np.testing.assert_array_equal(times_of(None, 3), [UNDATED] * 3)
    np.testing.assert_array_equal(times_of("2020-07-03T10:43:14Z", 2), [JULY_3, JULY_3])
    np.testing.assert_array_equal(times_of(["2020-07-03T10:43:14Z", None], 2), [JULY_3, UNDATED])
    stamps = np.array(["2020-07-03T10:43:14", "NaT"], dtype="datetime64[s]")
    np.testing.assert_array_equal(times_of(stamps, 2), [JULY_3, UNDATED])
    millis = stamps.astype("datetime64[ms]")
    np.testing.assert_array_equal(times_of(millis, 2), [JULY_3, UNDATED])
    assert times_of(stamps, 2).dtype == np.int64


def test_times_of_refuses_a_count_that_does_not_match():
    with pytest.raises(ParameterError, match=r"^as_of has 2 times for 3 articles; give one time "
                                             r"for all or one per article$"):
        times_of(["2020-07-03", None], 3)
    with pytest.raises(ParameterError, match="as_of has 2 times for 1 articles"):
        times_of(np.array(["2020-07-03", "NaT"], dtype="datetime64[s]"), 1)


def test_days_and_their_seconds():
    assert check_days(None) is None
    assert check_days(2) == 2.0 and check_days(timedelta(hours=36)) == 1.5
    assert check_days(NO_LIMIT) == math.inf
    assert days_to_seconds(1.5) == 129_600
    assert days_to_seconds(62) == 62 * 86_400
    assert days_to_seconds(None) is None and days_to_seconds(NO_LIMIT) is None


@pytest.mark.parametrize("bad, message", [
    (0, "max_age must be a positive number of days, got 0"),
    (-3, "max_age must be a positive number of days, got -3"),
    (math.nan, "max_age must be a positive number of days, got nan"),
    (True, "max_age must be a number of days or a timedelta, got True"),
    ("62", "max_age must be a number of days or a timedelta, got '62'"),
])
def test_a_bad_age_is_named(bad, message):
    with pytest.raises(ParameterError, match=f"^{message}$"):
        check_days(bad)


# -- the model's edge: NO_LIMIT and datetime64 ------------------------------------------------
def test_no_limit_is_the_list_of_a_model_without_max_age(articles):
    from recommender import ArticleRecommender

    limited = ArticleRecommender(min_df=2, max_age=10, table_size=0).fit(articles)
    unlimited = ArticleRecommender(min_df=2, table_size=0).fit(articles)
    for source in limited.ids_[:20]:
        ids, scores = limited.recommend(source, k=10, max_age=NO_LIMIT)
        want_ids, want_scores = unlimited.recommend(source, k=10)
        np.testing.assert_array_equal(ids, want_ids)
        np.testing.assert_array_equal(scores, want_scores)
    assert len(limited.recommend(TIGER, k=40)[0]) < len(unlimited.recommend(TIGER, k=40)[0])


def test_datetime64_as_of_is_the_iso_as_of(small_model):
    sources = list(small_model.ids_[:12])
    iso = [None if i % 3 == 0 else f"2020-0{5 + i % 4}-1{i % 10}T08:00:00+00:00"
           for i in range(12)]
    stamps = np.array([("NaT" if t is None else t[:19]) for t in iso], dtype="datetime64[s]")
    a = small_model.recommend_batch(sources, k=8, as_of=iso, max_age=30)
    b = small_model.recommend_batch(sources, k=8, as_of=stamps, max_age=30)
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.scores, b.scores)
