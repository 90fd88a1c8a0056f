"""Property-based tests of the default French analyzer on arbitrary Unicode.

On any text (combining marks, right-to-left scripts and marks, emoji and their joiners,
zero-width characters, lone surrogates, very long words, page blocks): no exception; the
same terms on every call, from a fresh analyzer too, and from the vectorizer's fast path
(``raw_words`` then ``term``); and idempotent on its own output, in this precise form:
analyzing ``" ".join(terms)`` gives the terms again, less those that are themselves stop
words or elisions, for every text whose joined terms are not a page-block header line.

Why not plain idempotence: a term is a word with its accents removed, and the stop list
holds the accent-free forms of its words too (scraped text loses accents), so a word that
is no stop word can give a term that is one: "précise" gives "precise" (from the stop word
"précisé"), "sûr" "sur", "dû" "du", "né" "ne". Dropping such terms would change the terms
of 8% of the shared corpus's fields (the tuned vocabulary), so they stay, and analyzing
them again drops them. The joined terms ``"articles lies"`` are one whole line that
:func:`~recommender.text.clean_page` reads as the header "Articles liés" (a text gives
them when the two words stand on lines of their own, or apart by punctuation).

The default run tries a few hundred texts; ``-m slow`` tries 10,000. Inputs are
derandomized: the same on every run.
"""

from __future__ import annotations

import pytest
from hypothesis import strategies as st

from recommender.text import ELISIONS, FrenchAnalyzer, clean_page, french_stop_words

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
    assert analyzer(text) == terms == FrenchAnalyzer()(text)
    assert [t for t in map(analyzer.term, analyzer.raw_words(text)) if t is not None] == terms
    joined = " ".join(terms)
    if clean_page(joined) == joined:  # not the header line "articles lies"
        stops = french_stop_words()
        assert analyzer(joined) == [t for t in terms if t not in stops and t not in ELISIONS]


@pytest.mark.parametrize("examples", EXAMPLES)
def test_the_analyzer_on_any_unicode(analyzer, examples):
    run_property(examples, lambda text: check_analyzer(analyzer, text), texts)


def test_regression_an_accented_ae_ligature_keeps_its_ligature():
    # "ǽ" is "æ" with an accent: the ligature was replaced before the accent came off, so
    # the term kept an "æ" (and analyzing it again gave "ae").
    analyzer = FrenchAnalyzer()
    assert analyzer("Ǽ0 cæsar") == ["ae0", "caesar"] == analyzer("ae0 caesar")


@pytest.mark.parametrize("text, terms, again", [
    ("Il est précise et sûr", ["precise", "sur"], []),  # accent-free forms of stop words
    ("articles\nliés", ["articles", "lies"], []),       # the joined terms are a header line
])
def test_where_analyzing_the_terms_again_drops_some(analyzer, text, terms, again):
    assert analyzer(text) == terms
    assert analyzer(" ".join(terms)) == again
