"""Property-based tests of the default French analyzer on arbitrary Unicode.

On any text (combining marks, right-to-left scripts and marks, emoji and their joiners,
zero-width characters, lone surrogates, very long words, page blocks): no exception; the
same terms on every call, from a fresh analyzer too, and from the vectorizer's fast path
(``raw_words`` then ``term``); and idempotent on its own output: analyzing
``" ".join(terms)`` gives the terms again.

Idempotence needs two rules (before them it failed, see the regression tests below): a stop
word is tested in its accent-free form, which is the form of a term ("précise" goes, its
term "precise" being the stop word "précisé" without accents), and a page-block header
starts with a capital (the joined terms "articles lies" are text, not the header "Articles
liés"). The analyzer of More Like This, which keeps stop words, is idempotent too.

The default run tries a few hundred texts; ``-m slow`` tries 10,000. Inputs are
derandomized: the same on every run.
"""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from recommender.text import FrenchAnalyzer
from recommender.vectors.bm25 import MLT_ANALYZER

from helpers import EXAMPLES, run_property


PIECES = [
    "é", "e\u0301", "\u0301", "\u0327\u0308", "Ǽ", "ǽ", "œ", "Œuvre", "ß", "İ", "ǅ", "ﬁ", "ﬀ",
    "한", "\u1100\u1161\u11a8", "שלום", "مرحبا", "\u200f", "\u202e", "\u2066", "\u200b",
    "\u200d", "\ufeff", "\u00ad", "😀", "👨\u200d👩\u200d👧", "🇫🇷", "\U0001F3FD", "l'", "qu’",
    "aujourd'hui", "jusqu‘à", " ", "\n", "\r\n", "\u2028", ".", "-", "_", "…»", "À lire aussi : ",
    "Aller plus loin\n", "articles liés", "précisé", "sûr", "2024", "²³⁴⁵", "١٢٣٤", "Ⅻ", "ª", "µ",
    "\ud800", "\x00", "\x1b[31m",
]
texts = st.lists(st.one_of(
    st.text(st.characters(exclude_categories=[]), max_size=30),   # any code point at all
    st.sampled_from(PIECES),
    st.builds(str.__mul__, st.text(st.sampled_from("aeéèœçàxyz\u0301\u0327"), min_size=1,
                                   max_size=8), st.integers(25, 250)),  # very long words
), max_size=12).map("".join)


@pytest.fixture(scope="module")
def analyzer() -> FrenchAnalyzer:
    """One analyzer for all examples: its word cache is then warm, as on a corpus."""
    return FrenchAnalyzer()


def check_analyzer(analyzer: FrenchAnalyzer, text: str) -> None:
    terms = analyzer(text)
    assert analyzer(text) == terms == FrenchAnalyzer(**analyzer.get_params())(text)
    assert [t for t in map(analyzer.term, analyzer.raw_words(text)) if t is not None] == terms
    assert analyzer(" ".join(terms)) == terms


@pytest.mark.parametrize("examples", EXAMPLES)
def test_the_analyzer_on_any_unicode(analyzer, examples):
    run_property(examples, lambda text: check_analyzer(analyzer, text), texts)


@pytest.mark.parametrize("examples", EXAMPLES)
def test_the_more_like_this_analyzer_on_any_unicode(examples):
    keeps_stops = FrenchAnalyzer(**MLT_ANALYZER)
    run_property(examples, lambda text: check_analyzer(keeps_stops, text), texts)


def test_regression_an_accented_ae_ligature_keeps_its_ligature():
    # "ǽ" is "æ" with an accent: the ligature was replaced before the accent came off, so
    # the term kept an "æ" (and analyzing it again gave "ae").
    analyzer = FrenchAnalyzer()
    assert analyzer("Ǽ0 cæsar") == ["ae0", "caesar"] == analyzer("ae0 caesar")


@pytest.mark.parametrize("text, terms", [
    ("Il est précise et sûr", []),                       # accent-free forms of stop words
    ("Il est né, il a dû partir", ["partir"]),
    ("articles\nliés", ["articles", "lies"]),            # the joined terms: a header line
    ("qú", []),                                           # an elision without its accent
])
def test_regression_the_analyzer_is_idempotent_on_its_own_output(analyzer, text, terms):
    # Analyzing the joined terms again dropped "precise", "sur", "ne", "du" (stop words
    # once their accents are off) and the whole line "articles lies" (read as a header).
    assert analyzer(text) == terms
    assert analyzer(" ".join(terms)) == terms


def test_models_saved_before_fold_stops_keep_the_rule_as_written():
    as_written = FrenchAnalyzer(fold_stops=False)
    assert as_written("Il est précise et sûr") == ["precise", "sur"]
