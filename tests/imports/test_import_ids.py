"""Ids and sections from URLs: one rule for a page and for every link to it."""

from __future__ import annotations

import pickle

import pytest

pytest.importorskip("courlan", reason="pip install 'recommender[import]'")

from recommender.errors import ParameterError  # noqa: E402
from recommender.imports.ids import Ids, absolute_url, category_of  # noqa: E402

PAGE = "https://actu.orange.fr/politique/france/la-prolongation-magic-CNT000001q2qPm.html"


@pytest.mark.parametrize("url", [
    PAGE,
    "HTTPS://Actu.Orange.fr:443/politique/france/la-prolongation-magic-CNT000001q2qPm.html",
    PAGE + "#comments",
    PAGE + "?utm_source=twitter&xtor=RSS-3",
    "http://actu.orange.fr/politique/france/la-prolongation-magic-CNT000001q2qPm.html",
    "https://actu.orange.fr/politique/./france/../france/la-prolongation-magic-CNT000001q2qPm.html",
])
def test_canonical_url_id(url):
    assert Ids()(url) == PAGE


def test_a_query_that_names_the_article_is_kept():
    assert Ids()("https://news.example.fr/article.php?id=42&utm_medium=x") == \
        "https://news.example.fr/article.php?id=42"


def test_id_pattern_first_group_or_whole_match():
    assert Ids(r"(CNT\w+)\.html")(PAGE) == "CNT000001q2qPm"
    assert Ids(r"CNT\w+")(PAGE) == "CNT000001q2qPm.html"[:-5]
    assert Ids(r"-(\d+)\.html$")(PAGE) is None  # no match: no id
    # a link under another section is the same article
    other = "https://actu.orange.fr/france/la-prolongation-magic-CNT000001q2qPm.html"
    assert Ids(r"(CNT\w+)\.html")(other) == Ids(r"(CNT\w+)\.html")(PAGE)
    assert Ids()(other) != Ids()(PAGE)


def test_ids_the_corpus_would_refuse_are_none():
    assert Ids()("") is None
    assert Ids()("https://news.example.fr/" + "x" * 600) is None  # over 512 characters
    assert Ids(r"id=([^&]*)")("https://news.example.fr/a?id=") is None  # empty


def test_bad_id_pattern_is_one_line():
    with pytest.raises(ParameterError, match=r"^--id-pattern '\(CNT' is not a regular "
                                             r"expression: missing \), unterminated subpattern"):
        Ids("(CNT")


def test_ids_pickle_to_their_pattern():
    ids = pickle.loads(pickle.dumps(Ids(r"(CNT\w+)\.html")))
    assert ids.pattern == r"(CNT\w+)\.html" and ids(PAGE) == "CNT000001q2qPm"


@pytest.mark.parametrize("url, category", [
    (PAGE, "politique/france"),
    ("https://actu.orange.fr/societe/fait-divers/slug-CNT0001.html", "societe/fait-divers"),
    ("https://www.example.fr/2020/07/03/un-titre/", ""),
    ("https://www.example.fr/monde/2020/07/03/un-titre/", "monde"),
    ("https://www.example.fr/un-titre.html", ""),
    ("https://www.example.fr/", ""),
    ("https://www.example.fr/soci%C3%A9t%C3%A9/un-titre.html", "société"),
])
def test_category_is_the_urls_section_path(url, category):
    assert category_of(url) == category


@pytest.mark.parametrize("href, url", [
    ("/a.html", "https://news.example.fr/a.html"),
    ("b.html", "https://news.example.fr/monde/b.html"),
    ("//cdn.example.fr/c.html", "https://cdn.example.fr/c.html"),
    ("http://other.fr/d", "http://other.fr/d"),
    ("javascript:void(0)", ""), ("mailto:a@b.fr", ""), ("#top", ""), ("  ", ""),
])
def test_absolute_url(href, url):
    assert absolute_url(href, "https://news.example.fr/monde/page.html") == url
