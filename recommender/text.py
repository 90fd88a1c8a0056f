"""French text analysis as module-level functions.

The path of a text: :func:`clean_page` removes the blocks that a scraped news page mixes
into the article ("À lire :", "Aller plus loin", "Ces articles devraient vous intéresser",
...), :func:`normalize` fixes Unicode forms, apostrophes and paragraphs glued without a
space, :func:`tokenize` lower-cases, drops elided articles and splits words, and
:class:`FrenchAnalyzer` removes stop words and maps each word to an accent-free term (the
word itself, or its Snowball stem with ``stem=True``). Everything is a plain function or a
small object with no state but its caches, so an analyzer can be rebuilt from its
parameters alone.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from ._checks import Params

__all__ = [
    "ELISIONS",
    "FrenchAnalyzer",
    "clean_page",
    "find_words",
    "french_stop_words",
    "normalize",
    "normalize_chars",
    "split_words",
    "strip_accents",
    "tokenize",
]

# Apostrophes and look-alikes that French text uses in elisions (l’État, d'un, qu‘il).
_APOSTROPHES = "\u2019\u2018\u02bc\u02b9\u00b4\u0060\u2032\uff07"

#: Elided words dropped by :func:`tokenize`: ``l'État`` gives ``état``. Splitting at the
#: apostrophe leaves them as words of their own, which no French word is.
ELISIONS = frozenset({
    "l", "d", "j", "m", "n", "s", "t", "c", "qu",
    "jusqu", "lorsqu", "puisqu", "quoiqu", "presqu", "quelqu",
})
# "domestique.Consternant": a sentence end glued to the next paragraph's first word. The
# pattern starts at the punctuation, so the regex engine only tries there.
_GLUED_RE = re.compile(r"[.!?…»\")]+(?=[A-ZÀ-ÖØ-Þ])")
# Words: letters and digits, with inner hyphens kept apart (États-Unis -> états, unis).
_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
# What _WORD_RE matches among the first 256 code points (str.isalnum: letters, digits,
# "²", "ª", "µ", ...) kept, every other byte a space: the words of a text that is all
# Latin-1 (most French text once apostrophes are one kind) are then those of the
# translated bytes split at spaces.
_LATIN1_WORD_BYTES = bytes(b if chr(b).isalnum() else 0x20 for b in range(256))

# Lines that end the article text on a scraped page: everything after them is other
# articles' titles and teasers.
_TAIL_HEADERS = re.compile(
    r"^\s*(?:aller plus loin|ces articles devraient vous int[ée]resser|sur le m[êe]me sujet"
    r"|dans la m[êe]me rubrique|[àa] lire aussi|lire aussi|voir aussi|nos articles li[ée]s"
    r"|articles li[ée]s|les plus lus)\s*:?\s*$",
    re.IGNORECASE,
)
# Each alternative of _TAIL_HEADERS holds one of these (lower-cased): a text without any
# has no header line, and a few substring tests spare a regex match per line. Letters that
# the regex's IGNORECASE matches but str.lower() does not map (long s, dotless i, and the
# dot that lower-casing a dotted I leaves) send a text to the full test.
_HEADER_WORDS = ("plus loin", "intéresser", "interesser", "même sujet", "meme sujet",
                 "même rubrique", "meme rubrique", "lire aussi", "voir aussi", "articles liés",
                 "articles lies", "plus lus", "\u017f", "\u0131", "\u0307")
# Inline "À lire :" links: the title of another article, on a line of its own or glued
# inside a paragraph ("... strict. - À lire aussi : > Ce que révèle ...BolducLe juge"), up to
# the end of that title: a lower-case letter glued to an upper-case one when the rest of the
# line is a paragraph (it ends like a sentence), else the line end. So a title with a
# camel-case name ("À lire : YouTube supprime ...") on its own line goes whole.
_INLINE_GLUED = re.compile(
    r"(?:\s-\s*|^)\s*(?:[ÀAàa] lire(?: aussi)?|[Ll]ire aussi)\s*:\s*>?\s*"
    r"\S[^\n]*?(?:(?<=[a-zà-ÿ0-9.!?»\"])(?=[A-ZÀ-Þ])(?=[^\n]*[.!?…][\"»)]?[ \t]*$)|$)",
    re.MULTILINE,
)


def clean_page(text: str) -> str:
    """Remove the related-article blocks that a scraped page mixes into its text.

    Drops inline "À lire :" links, cuts the text at a block header such as "Aller plus
    loin" or "Ces articles devraient vous intéresser" (a line of its own that starts with a
    capital), and then drops any remaining line that repeats one of the cut teasers (a
    sidebar teaser near the top of the page).

    >>> clean_page("Titre\\nTexte.\\nÀ lire :Autre article\\nFin.\\nAller plus loin\\nTeaser")
    'Titre\\nTexte.\\nFin.'
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text)  # the patterns below are written in NFC
    lines = text.splitlines()
    kept: list[str] = lines
    cut: list[str] = []
    if _may_have_header(text.lower()):  # only then can a line be a header: look for it
        for i, line in enumerate(lines):
            if _TAIL_HEADERS.match(line) and _capitalised(line):
                kept, cut = lines[:i], lines[i + 1:]
                break
    if cut:
        teasers = {_teaser_key(line) for line in cut if line.strip()}
        kept = [line for line in kept if _teaser_key(line) not in teasers]
    cleaned = "\n".join(kept)
    if "lire" in cleaned or "Lire" in cleaned:  # a cheap test before the regex
        cleaned = _INLINE_GLUED.sub(" ", cleaned)
    return "\n".join(filter(None, map(str.strip, cleaned.splitlines())))


def _capitalised(line: str) -> bool:
    """A header starts with a capital, as on every page ("Aller plus loin", "ARTICLES LIÉS"):
    a line in lower case is the article's text (and the analyzer's joined terms, "articles
    lies", stay text when analyzed again)."""
    first = next((c for c in line if c.isalpha()), "")
    return first.isupper()


def _may_have_header(lowered: str) -> bool:
    return any(map(lowered.__contains__, _HEADER_WORDS))


def _teaser_key(line: str) -> str:
    """A teaser repeated on a page may be cut at a different length: compare its start."""
    return " ".join(line.split())[:80].rstrip(".… ")


def normalize(text: str) -> str:
    """Unicode NFC, one kind of apostrophe, and glued paragraphs split apart."""
    return _GLUED_RE.sub(_unglue, normalize_chars(text))


def normalize_chars(text: str) -> str:
    """Unicode NFC and one kind of apostrophe: :func:`normalize` without the split of glued
    paragraphs (what :func:`split_words` and the analyzer's fast path read).

    >>> normalize_chars("l\u2019e\u0301te\u0301.Puis")
    "l'été.Puis"
    """
    text = unicodedata.normalize("NFC", text)
    for apostrophe in _APOSTROPHES:
        if apostrophe in text:
            text = text.replace(apostrophe, "'")
    return text


def _unglue(match: re.Match) -> str:
    """Add a space after the punctuation when two letters come before it (not "M.Dupont")."""
    before = match.string[max(match.start() - 2, 0):match.start()]
    return match.group() + " " if len(before) == 2 and before.isalpha() else match.group()


def tokenize(text: str) -> list[str]:
    """Lower-cased words of a normalised text, elided articles removed.

    >>> tokenize("L'État l’a dit: jusqu'à Noël.Puis rien")
    ['état', 'a', 'dit', 'à', 'noël', 'puis', 'rien']
    """
    return [w for w in split_words(text) if w not in ELISIONS]


def split_words(text: str) -> list[str]:
    """:func:`tokenize` with the elided articles kept: one :func:`find_words`, no filter.

    A counting loop that maps each distinct word once (through a cache) drops the elisions
    there, for free, instead of testing every word of the text here.

    The glued paragraphs that :func:`normalize` splits need no split here: the space it
    adds goes next to punctuation, where the word pattern splits anyway.

    >>> split_words("L'État l’a dit")
    ['l', 'état', 'l', 'a', 'dit']
    """
    return find_words(normalize_chars(text).lower())


def find_words(text: str) -> list[str]:
    """The runs of letters and digits of a text (``[^\\W_]+``), in order.

    A text that is all Latin-1 is split by a byte translation and :meth:`str.split`, 2.6
    times as fast as the regex, which splits the other texts (on the shared corpus, where
    the regex took a third of a fit's time: 96% of the fields, 88% of the characters; the
    others hold an "œ" or a "€").

    >>> find_words("états-unis, 2024 : l'œuvre_d'art")
    ['états', 'unis', '2024', 'l', 'œuvre', 'd', 'art']
    """
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError:
        return _WORD_RE.findall(text)
    return data.translate(_LATIN1_WORD_BYTES).decode("latin-1").split()


def strip_accents(word: str) -> str:
    """``'élection'`` -> ``'election'``; ``'œuvre'`` -> ``'oeuvre'``."""
    if word.isascii():  # most words: nothing to strip
        return word
    decomposed = unicodedata.normalize("NFD", word)
    word = "".join(c for c in decomposed if not unicodedata.combining(c))
    return word.replace("œ", "oe").replace("æ", "ae")  # after: "ǽ" is "æ" and an accent


@lru_cache(maxsize=1)
def french_stop_words() -> frozenset[str]:
    """The maintained French stop list of the ``stop-words`` package, plus news boilerplate.

    Both the accented and the accent-free forms are included, since scraped text loses
    accents now and then.
    """
    from stop_words import get_stop_words

    words = {normalize(w.strip().lower()) for w in get_stop_words("french")}
    # Words of every news article that the list lacks: agency names, reporting verbs,
    # weekdays and the elided forms' remainders.
    words |= {
        "afp", "ap", "reuters", "selon", "a", "ans", "an", "dont", "plus", "moins", "fait",
        "faire", "dit", "déclaré", "indiqué", "expliqué", "affirmé", "ajouté", "précisé",
        "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
        "aujourd", "hui", "cette", "cet", "ces", "tout", "tous", "toute", "toutes",
        "après", "avant", "depuis", "lors", "alors", "ainsi", "encore", "déjà", "aussi",
        "entre", "vers", "chez", "sous", "sans", "très", "être", "avoir", "peut", "doit",
    }
    words = {w for w in words if w and "'" not in w and " " not in w}
    return frozenset(words | {strip_accents(w) for w in words})


class FrenchAnalyzer(Params):
    """Turn French text into accent-free terms, stop words and short words removed.

    Parameters
    ----------
    stop_words : bool, default=True
        Remove :func:`french_stop_words`.
    stem : bool, default=False
        Map each word to its Snowball French stem. Off by default: on the held-out half of
        the shared corpus's dev lists, whole words (accents removed) found more of the
        site's related articles than Snowball stems (MRR 0.385 against 0.364, recall@10
        0.664 against 0.626, other settings the same; ``scripts/tune.py``) and than a light
        plural-only stemmer (MRR 0.373).
    min_length : int, default=2
        Shortest word kept (in characters, before stemming).
    keep_numbers : bool, default=True
        Keep numbers of four digits or more (years, "2024") as terms; shorter numbers and
        words that are only digits otherwise are dropped.
    clean : bool, default=True
        Run :func:`clean_page` first.
    fold_stops : bool, default=True
        Test the stop list and the elisions on the accent-free form of a word, as its term
        has it: "précise", "sûr" and "né" go with the stop words "précisé", "sur" and "ne".
        A term is then never a stop word, and analyzing ``" ".join(terms)`` gives the same
        terms (the analyzer is idempotent). False: the word as written is tested, the rule
        of models saved before this parameter (their folders load with it).

    ``get_params`` and ``set_params`` are those of the constructor's parameters (a change
    rebuilds the analyzer). ``analyzer(text)`` returns the list of terms; :meth:`words` and
    :meth:`term` split that in two, so that a vectorizer can keep the words each term came
    from and show readable words, not stems.
    The analyzer keeps a cache of words it has seen, so it is cheap on a large corpus.
    """

    def __init__(self, *, stop_words=True, stem=False, min_length=2, keep_numbers=True,
                 clean=True, fold_stops=True):
        self.stop_words = stop_words
        self.stem = stem
        self.min_length = min_length
        self.keep_numbers = keep_numbers
        self.clean = clean
        self.fold_stops = fold_stops
        self._stops = french_stop_words() if stop_words else frozenset()
        self._stemmer = _snowball_french() if stem else None
        self._cache: dict[str, str | None] = {}

    def set_params(self, **params) -> "FrenchAnalyzer":
        """Set parameters by name, then rebuild the stop list, stemmer and cache."""
        super().set_params(**params)
        self.__init__(**self.get_params())
        return self

    def __call__(self, text: str) -> list[str]:
        term = self.term
        return [t for t in map(term, self.words(text)) if t is not None]

    def words(self, text: str) -> list[str]:
        """The lower-cased words of a text (page blocks removed), before stop words."""
        if not text:
            return []
        if self.clean:
            text = clean_page(text)
        return tokenize(text)

    def raw_words(self, text: str) -> list[str]:
        """:meth:`words` with the elided articles kept (:meth:`term` maps them to None):
        the fast path of a vectorizer, which counts words before it maps them to terms.

        Most texts have no page block to clean ("lire", "aller plus loin", ...): for them
        :func:`clean_page` only strips lines and drops empty ones, which changes no word,
        so the words are read from the text at once, lower-cased a single time.
        """
        if not text:
            return []
        if not self.clean:
            return split_words(text)
        lowered = normalize_chars(text).lower()
        if "lire" in lowered or _may_have_header(lowered):
            return split_words(clean_page(text))
        return find_words(lowered)

    def term(self, word: str) -> str | None:
        """The term of one lower-cased word, or None for a stop word or a short word."""
        try:
            return self._cache[word]
        except KeyError:
            return self._term_of(word)

    def _term_of(self, word: str) -> str | None:
        term = None
        folded = strip_accents(word)
        tested = folded if self.fold_stops else word  # the stop list holds both forms
        if len(word) >= self.min_length and tested not in self._stops \
                and tested not in ELISIONS:  # words() drops them; split_words() keeps them
            if word.isdigit():
                if self.keep_numbers and len(word) >= 4:
                    term = word
            elif self._stemmer is not None:
                term = strip_accents(self._stemmer.stemWord(word))
            else:
                term = folded
        if len(self._cache) < 2_000_000:
            self._cache[word] = term
        return term

    def __getstate__(self):
        return self.get_params()

    def __setstate__(self, state):
        self.__init__(**state)


def _snowball_french():
    import snowballstemmer

    return snowballstemmer.stemmer("french")
