"""``--box-selector``: the CSS subset and its one-line errors."""

from __future__ import annotations

import pytest

lxml_html = pytest.importorskip("lxml.html", reason="pip install 'recommender[import]'")

from recommender.errors import ParameterError  # noqa: E402
from recommender.imports.selectors import css_to_xpath  # noqa: E402

PAGE = lxml_html.document_fromstring(
    "<html><body><div id='main' class='col  article'><aside class='related box' "
    "data-kind='lire aussi'><ul><li>1</li></ul></aside><section class='related-more'>"
    "<ul><li>2</li></ul></section></div><ul class='nav'><li>3</li></ul></body></html>")


def texts(selector):
    return ["".join(e.itertext()) for e in PAGE.xpath(css_to_xpath(selector))]


@pytest.mark.parametrize("selector, found", [
    ("aside.related", ["1"]),
    (".related", ["1"]),  # a class is a whole word: not "related-more"
    ("#main > aside ul", ["1"]),
    ("div > ul", []),
    ("div ul", ["1", "2"]),
    ("ul.nav li, aside li", ["3", "1"]),
    ("[class*=related]", ["1", "2"]),
    ("[class^=related-]", ["2"]),
    ("[data-kind$=aussi]", ["1"]),
    ("[data-kind~=lire]", ["1"]),
    ("aside[data-kind='lire aussi']", ["1"]),
    ('aside[data-kind="lire aussi"]', ["1"]),
    ("*.box", ["1"]),
    ("SECTION", ["2"]),
])
def test_css_subset(selector, found):
    assert sorted(texts(selector)) == sorted(found)


@pytest.mark.parametrize("selector, message", [
    ("", "--box-selector is empty"),
    ("   ", "--box-selector is empty"),
    ("div:nth-child(2)", "cannot read ':nth-child(2)' at character 4"),
    ("div + p", "cannot read '+ p' at character 5"),
    ("div >", "ends with a combinator"),
    ("> a", "a combinator with no selector before it"),
    ("[x]div", "a type must come first"),
])
def test_unsupported_selectors_are_one_line(selector, message):
    with pytest.raises(ParameterError, match="^--box-selector") as error:
        css_to_xpath(selector)
    assert message in str(error.value)
    assert "\n" not in str(error.value)
