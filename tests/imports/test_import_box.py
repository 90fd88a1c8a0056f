"""The related box: found by its heading (accents, case and a colon aside) or by a CSS
selector, its links in the page's order, each once, and taken out of the tree."""

from __future__ import annotations

import pytest

lxml_html = pytest.importorskip("lxml.html", reason="pip install 'recommender[import]'")

from recommender.errors import ParameterError  # noqa: E402
from recommender.imports.box import HEADINGS, Box, heading_key  # noqa: E402

BASE = "https://news.example.fr/monde/page-1.html"


def tree(body: str):
    return lxml_html.document_fromstring(f"<html><body>{body}</body></html>")


def links(body: str, box=None, url: str = BASE):
    return (box or Box())(tree(body), url)


@pytest.mark.parametrize("heading", [
    "À lire aussi", "A LIRE AUSSI :", "à lire aussi…", "Lire aussi", "Sur le même sujet",
    "Ces articles devraient vous intéresser :", "Aller plus loin", "Voir aussi »",
    "À lire également", "  Sur  le   meme sujet  ",
])
def test_box_found_by_its_heading(heading):
    body = (f"<p>Texte.</p><div><h3>{heading}</h3><ul><li><a href='/a-1.html'>A</a></li>"
            f"<li><a href='https://news.example.fr/b-2.html'>B</a></li></ul></div>")
    assert links(body) == ["https://news.example.fr/a-1.html", "https://news.example.fr/b-2.html"]


def test_every_documented_heading_is_one_key():
    keys = {heading_key(h) for h in HEADINGS}
    assert heading_key("À lire aussi") == heading_key("A lire aussi") == "a lire aussi"
    assert len(keys) == len(HEADINGS) - 1  # "À lire aussi" and "A lire aussi" are one


def test_orange_layout_span_then_cards():
    body = ("<div class='insert-zone1'><span class='title'>A lire aussi</span>"
            "<div class='a-lire-aussi'>"
            "<div class='card'><div class='image'><a href='/x/one-CNT1.html'><img></a></div>"
            "<div class='title'><a href='/x/one-CNT1.html'>One</a></div></div>"
            "<div class='card'><a href='//news.example.fr/x/two-CNT2.html'>Two</a></div>"
            "</div></div><p>Suite.</p>")
    # the picture and the title of a card link to one target: kept once, at its place
    assert links(body) == ["https://news.example.fr/x/one-CNT1.html",
                           "https://news.example.fr/x/two-CNT2.html"]


def test_seed_page_first_box_in_the_page_order():
    """The seed page (../shared/seed/page.txt) has inline "À lire :" links in its text, then
    "Aller plus loin" and "Ces articles devraient vous intéresser :" boxes: the inline
    links are text, not a box; the first box is the one read."""
    body = ("<p>La France a sollicité l’expertise du Maroc.</p>"
            "<p>À lire :<a href='/policiers.html'>Des policiers marocains aux JO ?</a></p>"
            "<p>Le Maroc possède une grande expérience.</p>"
            "<section><h2>Aller plus loin</h2><div><a href='/plus-1.html'>Un</a></div>"
            "<div><a href='/plus-2.html'>Deux</a></div></section>"
            "<section><h2>Ces articles devraient vous intéresser :</h2>"
            "<ul><li><a href='/autre.html'>Autre</a></li></ul></section>")
    assert links(body) == ["https://news.example.fr/plus-1.html",
                           "https://news.example.fr/plus-2.html"]


def test_the_run_of_link_siblings_stops_at_the_next_heading_or_text():
    body = ("<div><h2>À lire aussi</h2><p><a href='/1.html'>1</a></p><p><a href='/2.html'>2"
            "</a></p><p>Un paragraphe sans lien.</p><p><a href='/3.html'>3</a></p></div>"
            "<div><h2>Voir aussi</h2><p><a href='/4.html'>4</a></p><h2>Autre</h2>"
            "<p><a href='/5.html'>5</a></p></div>")
    assert links(body) == ["https://news.example.fr/1.html", "https://news.example.fr/2.html"]


def test_links_that_are_not_web_addresses_are_left_out():
    body = ("<h3>Lire aussi</h3><ul><li><a href='javascript:void(0)'>x</a></li>"
            "<li><a href='mailto:a@b.fr'>m</a></li><li><a href='#top'>t</a></li>"
            "<li><a href='relative/page.html'>r</a></li><li><a>no href</a></li></ul>")
    assert links(body) == ["https://news.example.fr/monde/relative/page.html"]


def test_no_box_is_none():
    assert links("<p>Un article sans encadré.</p><ul><li><a href='/x'>x</a></li></ul>") is None
    # a heading without links after it is no box
    assert links("<h3>À lire aussi</h3><p>Rien.</p>") is None
    # a heading text in a script is not a heading
    assert links("<script>var t = 'A lire aussi';</script><div><a href='/x'>x</a></div>") \
        is None


def test_box_heading_option_adds_a_heading():
    body = "<h4>Nos autres histoires</h4><ul><li><a href='/n.html'>n</a></li></ul>"
    assert links(body) is None
    assert links(body, Box(headings=["Nos autres histoires :"])) == \
        ["https://news.example.fr/n.html"]


def test_box_selector_replaces_the_headings():
    body = ("<h3>À lire aussi</h3><ul><li><a href='/h.html'>h</a></li></ul>"
            "<aside class='related box'><a href='/s1.html'>1</a><a href='/s2.html'>2</a></aside>")
    assert links(body, Box(selector="aside.related")) == \
        ["https://news.example.fr/s1.html", "https://news.example.fr/s2.html"]
    assert links(body, Box(selector="#missing")) is None


def test_the_box_is_removed_from_the_tree_and_the_text_around_it_kept():
    page = tree("<div><p>Avant.</p><h3>Lire aussi</h3><ul><li><a href='/1.html'>Titre du "
                "lien</a></li></ul>après le bloc.<p>Fin.</p></div>")
    assert Box()(page, BASE) == ["https://news.example.fr/1.html"]
    text = page.text_content()
    assert "Titre du lien" not in text and "Lire aussi" not in text
    assert "Avant." in text and "après le bloc." in text and "Fin." in text


def test_a_bad_selector_is_a_parameter_error():
    with pytest.raises(ParameterError, match="--box-selector 'div:first-child'"):
        Box(selector="div:first-child")


def test_box_pickles_to_its_parameters():
    import pickle

    box = pickle.loads(pickle.dumps(Box(headings=["Nos histoires"], selector="aside.r")))
    assert box.headings == ("Nos histoires",) and box.selector == "aside.r"
    assert box(tree("<aside class='r'><a href='/1.html'>1</a></aside>"), BASE) == \
        ["https://news.example.fr/1.html"]
