"""French dates as sites write them (recommender.frenchdates): every form of issue 16, each
against the datetime written by hand, and what is refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from recommender.frenchdates import MONTHS, parse_french_date

PARIS = ZoneInfo("Europe/Paris")
UTC = timezone.utc


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.mark.parametrize("text, expected", [
    # a month name; a date alone is midnight in the zone
    ("15 décembre 2019", paris(2019, 12, 15)),
    ("1er octobre 2019", paris(2019, 10, 1)),
    ("1 octobre 2019", paris(2019, 10, 1)),
    ("1ᵉʳ octobre 2019", paris(2019, 10, 1)),  # the superscript of typeset pages
    # abbreviated, with or without accents, capitals and a final dot
    ("13 Déc 2019", paris(2019, 12, 13)),
    ("13 déc. 2019", paris(2019, 12, 13)),
    ("13 dec 2019", paris(2019, 12, 13)),
    ("13 DEC. 2019", paris(2019, 12, 13)),
    # a weekday, a time in each of its forms
    ("mardi 02 juin 2020 à 16h50", paris(2020, 6, 2, 16, 50)),
    ("mardi 02 juin 2020 à 16:50", paris(2020, 6, 2, 16, 50)),
    ("Mardi 2 juin 2020, 16h", paris(2020, 6, 2, 16)),
    ("2 juin 2020 16 h 50", paris(2020, 6, 2, 16, 50)),
    ("2 juin 2020 à 16:50:30", paris(2020, 6, 2, 16, 50, 30)),
    ("mar. 2 juin 2020 à 9h05", paris(2020, 6, 2, 9, 5)),
    # day first in figures, as French sites write
    ("02/06/2020 16:50", paris(2020, 6, 2, 16, 50)),
    ("02/06/2020", paris(2020, 6, 2)),
    ("02-06-2020", paris(2020, 6, 2)),
    ("2.6.2020 à 16h50", paris(2020, 6, 2, 16, 50)),
    # a byline: the first date
    ("publié le lundi 11 mai 2020 à 12h08", paris(2020, 5, 11, 12, 8)),
    ("Publié le 11/05/2020 à 12h08, mis à jour le 12/05/2020 à 08h00", paris(2020, 5, 11, 12, 8)),
    ("Publié le lundi 11 mai 2020 à 12h08 Mis à jour le mardi 12 mai 2020 à 9h",
     paris(2020, 5, 11, 12, 8)),
    ("Le 11 mai 2020 à 12h08 (modifié le 12 mai)", paris(2020, 5, 11, 12, 8)),
    ("Mis en ligne le 11 mai 2020", paris(2020, 5, 11)),
    # case, spaces, non-breaking spaces (U+00A0, and U+202F before "h" in typeset text)
    ("PUBLIÉ LE LUNDI 11 MAI 2020 À 12H08", paris(2020, 5, 11, 12, 8)),
    ("  11\u00a0mai\u00a02020   à\u202f12\u202fh\u202f08 ", paris(2020, 5, 11, 12, 8)),
    ("11\tmai\n2020", paris(2020, 5, 11)),
])
def test_every_french_form(text, expected):
    got = parse_french_date(text, PARIS)
    assert got == expected and got.tzinfo is PARIS


@pytest.mark.parametrize("month, number", [
    ("janv.", 1), ("janvier", 1), ("jan", 1), ("févr.", 2), ("fevr", 2), ("fév", 2),
    ("fev", 2), ("février", 2), ("fevrier", 2), ("mars", 3), ("avr.", 4), ("avril", 4),
    ("mai", 5), ("juin", 6), ("juil.", 7), ("juillet", 7), ("août", 8), ("aout", 8),
    ("AOÛT", 8), ("sept.", 9), ("sep", 9), ("septembre", 9), ("oct.", 10), ("octobre", 10),
    ("nov.", 11), ("novembre", 11), ("déc.", 12), ("dec", 12), ("Décembre", 12),
])
def test_every_month_and_abbreviation(month, number):
    assert parse_french_date(f"3 {month} 2021", UTC) == datetime(2021, number, 3, tzinfo=UTC)


def test_the_months_table_is_complete_and_unaccented():
    assert sorted(set(MONTHS.values())) == list(range(1, 13))
    assert all(name.isascii() and name.islower() for name in MONTHS)


def test_a_weekday_that_contradicts_the_date_is_accepted():
    # The 2nd of June 2020 was a Tuesday; sites get the weekday wrong, the figures win.
    assert parse_french_date("lundi 02 juin 2020 à 16h50", PARIS) == paris(2020, 6, 2, 16, 50)
    assert parse_french_date("dimanche 1er octobre 2019", PARIS) == paris(2019, 10, 1)


def test_the_zone_is_that_of_a_time_without_offset():
    text = "02/06/2020 16:50"
    assert parse_french_date(text, PARIS).astimezone(UTC) == datetime(2020, 6, 2, 14, 50,
                                                                      tzinfo=UTC)
    assert parse_french_date(text, UTC) == datetime(2020, 6, 2, 16, 50, tzinfo=UTC)
    # winter time: one hour, not two
    assert parse_french_date("15 décembre 2019 à 10h", PARIS).utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize("text, offset", [
    ("02/06/2020 16:50 UTC", timedelta(0)),
    ("02/06/2020 16:50 GMT", timedelta(0)),
    ("02/06/2020 16:50Z", timedelta(0)),
    ("2 juin 2020 à 16h50 +02:00", timedelta(hours=2)),
    ("2 juin 2020 à 16h50 +0200", timedelta(hours=2)),
    ("2 juin 2020 à 16h50 UTC+2", timedelta(hours=2)),
    ("2 juin 2020 à 16h50 -03:30", -timedelta(hours=3, minutes=30)),
])
def test_an_explicit_offset_is_kept(text, offset):
    got = parse_french_date(text, PARIS)
    assert got.utcoffset() == offset
    assert got.replace(tzinfo=None) == datetime(2020, 6, 2, 16, 50)


@pytest.mark.parametrize("text", [
    "31 février 2020", "29 février 2019", "31/04/2020", "32 mai 2020", "0 mai 2020",
    "2 juin 2020 à 24h00", "2 juin 2020 à 16h60", "2 juin 2020 à 16:50:61",
    "2 juin 2020 à 16h50 +25:00", "00/00/0000",
])
def test_an_impossible_date_is_none(text):
    assert parse_french_date(text, PARIS) is None


@pytest.mark.parametrize("text", [
    "", "hier", "demain à 16h", "juin 2020", "2 juin", "2 juin 20", "02/06/20",
    "06/31/2020",                   # month first: not a French date (31 is no month)
    "2020/06/02",                   # year first with slashes: not a form of this module
    "2 juin 2020 et des poussières",  # text after the date
    "vers le 2 juin 2020",           # text before it
    "2 jiun 2020", "2 mars. 2020 à", "2 mar 2020",  # "mar" is a weekday, not a month
    "16h50", "2 juin 2020 à 16:5", "12345678",
])
def test_what_is_not_a_french_date_is_none(text):
    assert parse_french_date(text, PARIS) is None


def test_no_zone_is_utc():
    assert parse_french_date("2 juin 2020 à 16h50", None) == datetime(2020, 6, 2, 16, 50,
                                                                   tzinfo=UTC)


def test_a_non_string_is_none():
    assert parse_french_date(None, PARIS) is None
    assert parse_french_date(20200602, PARIS) is None
