"""Tests for recommender.times: one internal form of time, the ages of the filters, and the
calendar window (the start of a day some days back, as in a time zone) against datetime and
zoneinfo, in the function and in the model."""

from __future__ import annotations

import csv
import json
import math
import shutil
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from helpers import read_manifest, write_manifest
from recommender import ArticleRecommender, ModelFormatError
from recommender.errors import ParameterError
from recommender.times import (NO_LIMIT, UNDATED, calendar_starts, check_days,
                               days_to_seconds, parse_time, time_zone, times_of, to_iso,
                               to_seconds)

TIGER = "CNT000001r4edC"
# 2020-07-03T10:43:14Z, worked out by hand: 18,446 days since 1970 and 38,594 seconds
JULY_3 = 18_446 * 86_400 + 10 * 3600 + 43 * 60 + 14
PARIS = ZoneInfo("Europe/Paris")


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
    ("07/31/2020", r"cannot read as_of '07/31/2020': expected ISO 8601 such as '2020-07-03' "
                   r"or '2020-07-03T12:43:14\+02:00', or a French date such as '15 décembre "
                   r"2019', '1er oct\. 2019 à 16h50' or '02/06/2020 16:50' \(day first\)$"),
    ("31 février 2020", r"cannot read as_of '31 février 2020': expected ISO 8601"),
    (1593772994, r"cannot read as_of 1593772994: expected an ISO 8601 string, got int"),
])
def test_an_unreadable_time_is_named(bad, message):
    with pytest.raises(ParameterError, match=message):
        to_seconds(bad, "as_of")
    with pytest.raises(ValueError):  # a ParameterError is a ValueError
        parse_time(bad, what="as_of")


# -- French dates and the zone of a time without offset (issue 16) ---------------------------
@pytest.mark.parametrize("value, expected", [
    ("15 décembre 2019", datetime(2019, 12, 15, tzinfo=timezone.utc)),
    ("mardi 02 juin 2020 à 16h50", datetime(2020, 6, 2, 16, 50, tzinfo=timezone.utc)),
    ("02/06/2020 16:50", datetime(2020, 6, 2, 16, 50, tzinfo=timezone.utc)),
    ("Publié le 3 juil. 2020 à 12h43, mis à jour le 4 juil.",
     datetime(2020, 7, 3, 12, 43, tzinfo=timezone.utc)),
])
def test_parse_time_reads_french_dates_in_utc_by_default(value, expected):
    assert parse_time(value) == expected


@pytest.mark.parametrize("zone", [PARIS, "Europe/Paris"])
def test_the_zone_of_a_time_without_offset(zone):
    # 12:43:14 in Paris on 2020-07-03 is JULY_3 (10:43:14Z), in every form that has no offset
    for value in ("2020-07-03T12:43:14", "3 juillet 2020 à 12:43:14", "03/07/2020 12:43:14",
                  datetime(2020, 7, 3, 12, 43, 14)):
        assert to_seconds(value, zone=zone) == JULY_3, value
        assert parse_time(value, zone=zone).utcoffset() == timedelta(hours=2)
    # a date alone is midnight there
    assert to_seconds("2020-07-03", zone=zone) == to_seconds("3 juil. 2020", zone=zone) \
        == 18_446 * 86_400 - 2 * 3600
    assert to_seconds(date(2020, 7, 3), zone=zone) == 18_446 * 86_400 - 2 * 3600


@pytest.mark.parametrize("value", ["2020-07-03T10:43:14Z", "2020-07-03T06:43:14-04:00",
                                   "03/07/2020 10:43:14 UTC", "3 juillet 2020 à 12:43:14 +02:00",
                                   datetime(2020, 7, 3, 10, 43, 14, tzinfo=timezone.utc)])
def test_an_explicit_offset_is_kept_whatever_the_zone(value):
    assert to_seconds(value, zone=PARIS) == to_seconds(value) == JULY_3


def test_iso_8601_is_read_before_the_french_forms():
    # "2020-06-02" is ISO (2 June), never a day-first "20/20/06"; "02-06-2020" is French.
    assert parse_time("2020-06-02") == parse_time("02-06-2020") == parse_time("2 juin 2020")


def test_a_bad_zone_is_named():
    with pytest.raises(ParameterError, match=r"^time_zone: unknown time zone 'Mars/Olympus'"):
        parse_time("2 juin 2020", zone="Mars/Olympus")
    with pytest.raises(ParameterError, match=r"^time_zone: unknown time zone 'Mars/Olympus'"):
        parse_time("2020-06-02T16:50", zone="Mars/Olympus")


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


# -- the calendar window -----------------------------------------------------------------------

def seconds(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp())


def start_of_day(moment: int, days: int, zone: ZoneInfo) -> int:
    """The oracle: the local day of ``moment`` in ``zone`` (datetime), ``days`` days back,
    its first instant (local midnight, or the first time after a gap at midnight)."""
    day = datetime.fromtimestamp(moment, zone).date() - timedelta(days=days)
    return int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())


#: (a time, whole days back, the start of that day in Paris), worked out by hand: CET is
#: +01:00, CEST +02:00; in 2020 summer time began 03-29 at 01:00Z (02:00 CET became 03:00
#: CEST) and ended 10-25 at 01:00Z (03:00 CEST became 02:00 CET).
PARIS_STARTS = [
    # just before and at local midnight, summer: 06-23 23:59:59 CEST, then 06-24 00:00 CEST
    ("2020-06-23T21:59:59Z", 0, "2020-06-22T22:00:00Z"),
    ("2020-06-23T22:00:00Z", 0, "2020-06-23T22:00:00Z"),
    ("2020-06-23T22:00:01Z", 1, "2020-06-22T22:00:00Z"),
    # winter: 01-15 23:59:59 CET, then 01-16 00:00 CET
    ("2020-01-15T22:59:59Z", 0, "2020-01-14T23:00:00Z"),
    ("2020-01-15T23:00:00Z", 0, "2020-01-15T23:00:00Z"),
    ("2020-01-15T23:00:00Z", 30, "2019-12-16T23:00:00Z"),
    # summer time begins on 03-29: a 23-hour day
    ("2020-03-29T00:59:59Z", 0, "2020-03-28T23:00:00Z"),  # 01:59:59 CET
    ("2020-03-29T01:00:00Z", 0, "2020-03-28T23:00:00Z"),  # 03:00:00 CEST
    ("2020-03-29T21:59:59Z", 0, "2020-03-28T23:00:00Z"),  # 23:59:59 CEST
    ("2020-03-29T22:00:00Z", 0, "2020-03-29T22:00:00Z"),  # 03-30 00:00 CEST
    ("2020-03-29T22:00:00Z", 1, "2020-03-28T23:00:00Z"),  # back across the change
    ("2020-04-05T12:00:00Z", 10, "2020-03-25T23:00:00Z"),
    # summer time ends on 10-25: a 25-hour day, 02:00-03:00 twice
    ("2020-10-25T00:59:59Z", 0, "2020-10-24T22:00:00Z"),  # 02:59:59 CEST
    ("2020-10-25T01:00:00Z", 0, "2020-10-24T22:00:00Z"),  # 02:00:00 CET
    ("2020-10-25T22:59:59Z", 0, "2020-10-24T22:00:00Z"),  # 23:59:59 CET
    ("2020-10-25T23:00:00Z", 0, "2020-10-25T23:00:00Z"),  # 10-26 00:00 CET
    ("2020-10-25T23:00:00Z", 1, "2020-10-24T22:00:00Z"),
    ("2020-11-01T10:00:00Z", 62, "2020-08-30T22:00:00Z"),
]


@pytest.mark.parametrize("moment, days, start", PARIS_STARTS)
def test_calendar_start_in_paris_by_hand(moment, days, start):
    got = calendar_starts(np.array([seconds(moment)], np.int64), days, PARIS)
    assert got.dtype == np.int64
    assert got.tolist() == [seconds(start)] == [start_of_day(seconds(moment), days, PARIS)]


@pytest.mark.parametrize("zone", ["Europe/Paris", "UTC", "America/New_York",
                                  "Australia/Lord_Howe", "Asia/Kathmandu", "America/St_Johns",
                                  "Pacific/Chatham"])
def test_calendar_starts_equal_the_datetime_oracle(zone):
    """Around every midnight and offset change of two years, one second either side, and
    at random times: zones with half-hour and 45-minute offsets, and Lord Howe's half-hour
    summer time."""
    tz = ZoneInfo(zone)
    moments = []
    for day in range(730):
        midnight = datetime.combine(date(2020, 1, 1) + timedelta(days=day), datetime.min.time(),
                                    tzinfo=tz)
        m = int(midnight.timestamp())
        moments += [m - 1, m, m + 1, m + 3 * 3600 + 1]
    rng = np.random.default_rng(0)
    moments += rng.integers(seconds("2019-12-01T00:00:00Z"), seconds("2022-01-01T00:00:00Z"),
                            2000).tolist()
    moments = np.array(moments, np.int64)
    for days in (0, 1, 7, 62):
        got = calendar_starts(moments, days, tz)
        want = [start_of_day(m, days, tz) for m in moments.tolist()]
        np.testing.assert_array_equal(got, want)


def test_calendar_starts_keep_the_shape():
    same_day = [(m, start) for m, days, start in PARIS_STARTS if days == 0]
    moments = np.array([[seconds(m) for m, _ in same_day]] * 2, np.int64)
    got = calendar_starts(moments, 0, PARIS)
    assert got.shape == (2, len(same_day))
    assert got[0].tolist() == got[1].tolist() == [seconds(start) for _, start in same_day]
    assert calendar_starts(np.zeros(0, np.int64), 3, PARIS).shape == (0,)


# Regression: calendar_starts looked each time up at the start of its quarter hour, and so
# gave Paris Mean Time (+00:09:21) the day before in the first minutes of a day.
def test_calendar_starts_with_an_offset_that_is_not_whole_quarter_hours():
    # 1905-06-15 00:04:21 PMT is 1905-06-14T23:55:00Z; that day began at 23:50:39Z
    moment = seconds("1905-06-14T23:55:00Z")
    assert start_of_day(moment, 0, PARIS) == seconds("1905-06-14T23:50:39Z")
    assert calendar_starts(np.array([moment]), 0, PARIS).tolist() == [
        seconds("1905-06-14T23:50:39Z")]


def test_time_zone_by_name():
    assert time_zone("Europe/Paris") == PARIS
    for bad in ("Nowhere/Else", "../etc/passwd"):
        with pytest.raises(ParameterError, match=rf"^time_zone: unknown time zone {bad!r} "
                                                 r"\(a name of the IANA database such as "
                                                 r"'Europe/Paris'; on a system without that "
                                                 r"database, pip install tzdata\)$"):
            time_zone(bad)
    for bad in (None, "", 1):
        with pytest.raises(ParameterError, match=rf"^time_zone must be the name of a time "
                                                 rf"zone such as 'Europe/Paris', got "
                                                 rf"{bad!r}$"):
            time_zone(bad)


# -- the calendar window of a model ----------------------------------------------------------
#: Articles of one text (so every one is related to every other) published around the
#: start of 2020-10-25 in Paris (00:00 CEST, 10-24T22:00:00Z; summer time ends that day).
EDGE_TIMES = {"OLD": "2020-10-20T12:00:00+02:00",
              "BEFORE": "2020-10-24T23:59:59+02:00",
              "AT": "2020-10-25T00:00:00+02:00",
              "AFTER": "2020-10-25T00:00:01+02:00",
              "LATER": "2020-10-26T18:00:00+01:00",
              "SOURCE": "2020-10-27T10:00:00+01:00"}


def edge_model_of(**params) -> ArticleRecommender:
    articles = [{"id": i, "title": "Tigre de Sumatra", "body": "Un tigre de Sumatra, un tigre.",
                 "published": when} for i, when in EDGE_TIMES.items()]
    return ArticleRecommender(min_df=1, max_df=1.0, **params).fit(articles)


@pytest.fixture(scope="module", params=["mlt", "cosine"])
def edge_model(request):
    return edge_model_of(scoring=request.param)


def listed(model, **filters) -> set:
    return set(model.recommend("SOURCE", k=10, **filters)[0].tolist())


def test_calendar_window_starts_at_the_local_day_start(edge_model):
    as_of = "2020-10-27T09:00:00+01:00"  # 2 days back: 10-25, from 00:00 CEST
    for max_age in (2, 2.5, 2.999, timedelta(days=2, hours=23)):
        assert listed(edge_model, as_of=as_of, max_age=max_age) == {"AT", "AFTER", "LATER"}
    assert listed(edge_model, as_of=as_of, max_age=3) == {"BEFORE", "AT", "AFTER", "LATER"}
    assert listed(edge_model, as_of=as_of, max_age=1) == {"LATER"}
    # without as_of: back from the newest article (SOURCE, 10-27), and no upper bound
    assert listed(edge_model, max_age=2) == {"AT", "AFTER", "LATER"}
    # as_of at 00:30 of 10-27, 2 days back: the same day start, one hour less before it
    assert listed(edge_model, as_of="2020-10-27T00:30:00+01:00", max_age=2) == {
        "AT", "AFTER", "LATER"}
    # as_of just before midnight of 10-26 (local): 2 days back is 10-24
    assert listed(edge_model, as_of="2020-10-26T23:59:59+01:00", max_age=2) == {
        "BEFORE", "AT", "AFTER", "LATER"}


def test_rolling_window_counts_seconds(edge_model):
    rolling = edge_model.with_scoring(window="rolling")
    as_of = "2020-10-27T09:00:00+01:00"
    assert listed(rolling, as_of=as_of, max_age=2) == {"LATER"}
    # 2 days and 8 h 59 min 59 s back from 10-27 08:00Z is 10-24T23:00:01Z: AT and AFTER
    # (22:00:00Z, 22:00:01Z) are older
    assert listed(rolling, as_of=as_of, max_age=timedelta(days=2, hours=9, seconds=-1)) == {
        "LATER"}
    # 10-27T08:00Z - 10-24T22:00:00Z = 2 days 10 h
    assert listed(rolling, as_of=as_of, max_age=timedelta(days=2, hours=10)) == {
        "AT", "AFTER", "LATER"}


def test_calendar_window_in_another_zone(edge_model):
    """In New York (EDT, -04:00, until 11-01), 10-27 09:00 CET is 10-27 04:00; 2 days back
    is 10-25, from 04:00Z: only LATER of the edge articles (10-24T22:00Z is 10-24 there)."""
    york = edge_model_of(scoring=edge_model.scoring, time_zone="America/New_York")
    as_of = "2020-10-27T09:00:00+01:00"
    assert listed(york, as_of=as_of, max_age=2) == {"LATER"}
    assert listed(york, as_of=as_of, max_age=3) == {"BEFORE", "AT", "AFTER", "LATER"}


@pytest.mark.parametrize("params, message", [
    ({"time_zone": "Nowhere/Else"}, r"^time_zone: unknown time zone 'Nowhere/Else' \(a name "
                                    r"of the IANA database such as 'Europe/Paris'; on a system "
                                    r"without that database, pip install tzdata\)$"),
    ({"time_zone": None}, r"^time_zone must be the name of a time zone such as "
                          r"'Europe/Paris', got None$"),
    ({"window": "weekly"}, r"^window must be 'rolling' or 'calendar', got 'weekly'$"),
    ({"window": None}, r"^window must be 'rolling' or 'calendar', got None$"),
])
def test_bad_window_or_time_zone_is_named(articles, params, message):
    model = ArticleRecommender(min_df=2, **params)
    with pytest.raises(ParameterError, match=message):
        model.fit(articles)
    assert not hasattr(model, "catalogue_")


def test_a_folder_with_an_unknown_time_zone_is_refused(model_dir, tmp_path):
    path = tmp_path / "model"
    shutil.copytree(model_dir, path)
    manifest = read_manifest(path)
    manifest["params"]["time_zone"] = "Nowhere/Else"
    write_manifest(path, manifest)
    with pytest.raises(ModelFormatError, match=r"manifest\.json: params: time_zone: unknown "
                                               r"time zone 'Nowhere/Else'.*; the model is "
                                               r"damaged"):
        ArticleRecommender.load(path)


# -- the command line: French dates and --timezone (issue 16) ---------------------------------
SOURCE, TARGET = TIGER, "CNT000001r2yqP"  # TARGET: the sample's, published 11:57:08Z 22 June
# 13:30 on 22 June: before TARGET in Paris (11:30Z), after it in UTC
BEFORE_IN_PARIS = "lundi 22 juin 2020 à 13h30"
BEFORE_IN_PARIS_AT = datetime(2020, 6, 22, 13, 30, tzinfo=PARIS)


def run(capsys, *argv):
    """``recommender.cli.main(argv)`` -> (return code, stdout, stderr)."""
    from recommender.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def french(iso: str, form: int) -> str:
    """The Paris wall time of ``iso``, without offset, written in one of three French forms
    (the weekday deliberately the same, so mostly wrong)."""
    t = datetime.fromisoformat(iso).astimezone(PARIS)
    month = ["janv.", "févr.", "mars", "avril", "mai", "juin", "juillet", "août", "sept.",
             "oct.", "nov.", "déc."][t.month - 1]
    return [f"lundi {t.day} {month} {t.year} à {t:%H:%M:%S}", f"{t:%d/%m/%Y %H:%M:%S}",
            f"Publié le {t.day:02d} {month.upper()} {t.year} à {t:%H:%M:%S}"][form % 3]


@pytest.mark.usefixtures("restore_logging_and_warnings")
def test_cli_recommend_reads_french_times_in_its_timezone(capsys, model_dir, small_model):
    def listed(*options):
        code, out, err = run(capsys, "recommend", model_dir, SOURCE, "-k", "10", "--json",
                             "--no-max-age", "--until", BEFORE_IN_PARIS, *options)
        assert code == 0, err
        return [r["id"] for r in json.loads(out)["related"]]

    in_paris, in_utc = listed("--timezone", "Europe/Paris"), listed()
    assert in_paris == small_model.recommend(SOURCE, 10, until=BEFORE_IN_PARIS_AT,
                                             max_age=NO_LIMIT)[0].tolist()
    assert in_utc == small_model.recommend(SOURCE, 10, until="2020-06-22T13:30:00Z",
                                           max_age=NO_LIMIT)[0].tolist()
    assert TARGET in in_utc and TARGET not in in_paris


@pytest.mark.usefixtures("restore_logging_and_warnings")
def test_cli_batch_places_as_of_and_the_ids_file_in_its_timezone(capsys, tmp_path, model_dir,
                                                                 small_model):
    ids = tmp_path / "ids.tsv"
    ids.write_text(f"{SOURCE}\t22/06/2020 13:30\nCNT000001rdIhh\n", encoding="utf-8")
    out = tmp_path / "lists.csv"
    code, _, err = run(capsys, "batch", model_dir, "--out", out, "--ids", ids, "-k", "40",
                       "--as-of", BEFORE_IN_PARIS, "--timezone", "Europe/Paris", "-q")
    assert code == 0, err
    with open(out, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for source in (SOURCE, "CNT000001rdIhh"):
        got = [r["related_id"] for r in rows if r["id"] == source]
        assert got == small_model.recommend(source, 40, as_of=BEFORE_IN_PARIS_AT)[0].tolist()
        assert TARGET not in got


@pytest.mark.usefixtures("restore_logging_and_warnings")
def test_cli_evaluate_reads_a_corpus_ground_truth_in_its_timezone(capsys, tmp_path, model_dir):
    def report(related_at, *options):
        truth = tmp_path / "truth.jsonl"
        truth.write_text(json.dumps({"id": SOURCE, "title": "t", "related": [TARGET],
                                     "related_at": related_at}) + "\n", encoding="utf-8")
        code, out, err = run(capsys, "evaluate", model_dir, truth, "--json", "--no-baselines",
                             "-q", *options)
        assert code == 0, err
        return json.loads(out)

    in_paris = report("22/06/2020 13:30", "--timezone", "Europe/Paris")
    assert in_paris == report("2020-06-22T13:30:00+02:00")
    in_utc = report("22/06/2020 13:30")
    assert in_utc == report("2020-06-22T13:30:00+00:00")
    # shown before TARGET was published (Paris), the list cannot hold it; after (UTC), it does
    assert in_paris["recall@10"] == 0 and in_utc["recall@10"] == 1


@pytest.mark.usefixtures("restore_logging_and_warnings")
def test_cli_train_and_add_read_french_dates_in_their_timezone(capsys, tmp_path, articles_path,
                                                               model_dir):
    records = [json.loads(line) for line in articles_path.read_text("utf-8").splitlines()]
    written = [{**r, "published": french(r["published"], i)} if r.get("published") else r
               for i, r in enumerate(records)]
    corpus = tmp_path / "french.jsonl"
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in written),
                      encoding="utf-8")
    code, _, err = run(capsys, "train", corpus, "--out", tmp_path / "m", "--timezone",
                       "Europe/Paris", "--jobs", "1", "--table-size", "0", "-q")
    assert code == 0, err
    model = ArticleRecommender.load(tmp_path / "m")
    published = dict(zip(model.ids_.tolist(), model.published_.tolist()))
    assert published == {r["id"]: to_seconds(r.get("published")) for r in records}

    folder = shutil.copytree(model_dir, tmp_path / "live")
    new = tmp_path / "new.jsonl"
    new.write_text(json.dumps({"id": "new-1", "title": "Un tigre", "published":
                               "Publié le 22/06/2020 à 13h30"}) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "add", folder, new, "--timezone", "Europe/Paris", "-q")
    assert code == 0 and out == "added new-1\n", err
    info = ArticleRecommender.load(folder).article_info("new-1")
    assert to_seconds(info["published"]) == to_seconds(BEFORE_IN_PARIS_AT)


@pytest.mark.parametrize("argv", [
    ["train", "{corpus}", "--out", "{tmp}/m"], ["tune", "{corpus}", "{corpus}", "--out", "{tmp}/m"],
    ["recommend", "{model}", TIGER], ["similar", "{model}", "--text-file", "{corpus}"],
    ["batch", "{model}", "--out", "{tmp}/o.jsonl"], ["evaluate", "{model}", "{corpus}"],
    ["add", "{model}", "{corpus}"],
])
def test_cli_a_bad_timezone_is_argparse_exit_2(capsys, tmp_path, model_dir, articles_path, argv):
    from recommender.cli import main

    paths = {"corpus": articles_path, "model": model_dir, "tmp": tmp_path}
    with pytest.raises(SystemExit) as exc:
        main([a.format(**paths) for a in argv] + ["--timezone", "Paris"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"recommender {argv[0]}: error: argument --timezone: unknown time zone 'Paris': "
        f"expected an IANA name such as 'Europe/Paris' or 'UTC' (on a system without that "
        f"database, pip install tzdata)")
    assert not (tmp_path / "m").exists()


@pytest.mark.usefixtures("restore_logging_and_warnings")
def test_cli_a_french_date_that_is_no_day_is_argparse_exit_2(capsys, model_dir):
    from recommender.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["recommend", str(model_dir), TIGER, "--as-of", "31 février 2020"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith(
        "recommender recommend: error: argument --as-of: cannot read time '31 février 2020': "
        "expected ISO 8601")
