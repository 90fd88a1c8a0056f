"""French text analysis: page cleaning, tokenizing, stop words, stems, pickling."""

from __future__ import annotations

import json
import pickle
import re
import unicodedata

import pytest

from recommender.text import (ELISIONS, FrenchAnalyzer, clean_page, find_words, french_stop_words,
                              normalize, normalize_chars, strip_accents, tokenize)


def _sample(articles_path) -> dict:
    """The raw JSON records of the sample, by id (read without the package's reader)."""
    with open(articles_path, encoding="utf-8") as fh:
        return {r["id"]: r for r in map(json.loads, fh)}


def _sentences(text: str) -> list[str]:
    """Sentences of a text whose paragraphs may be glued ("Nopandry.Une partie")."""
    parts = re.split(r"(?<=[.!?])\s*(?=[A-ZÀ-Þ])", text)
    return [p.strip() for p in parts if p.strip()]


# -- clean_page ----------------------------------------------------------------------------
# examples/README.md: the page is CNT000001r4edC; the sidebar and "Aller plus loin" teasers
# are the headings of these four, the "À lire :" lines the titles of these three.
TEASER_SOURCES = ["CNT000001qC7ZY", "CNT000001q02vP", "CNT000001qiHFZ", "CNT000001tA9aa"]
A_LIRE_SOURCES = ["CNT000001rcNF3", "CNT000001qLNcO", "CNT000001qSBnI"]


def test_clean_page_example_keeps_the_article_and_drops_every_other_title(
        page_path, articles_path):
    sample = _sample(articles_path)
    raw = page_path.read_text(encoding="utf-8")
    teasers = [sample[i]["heading"][:60] for i in TEASER_SOURCES]
    a_lire = [sample[i]["title"] for i in A_LIRE_SOURCES]
    # The page really holds them, so the check below can fail.
    assert all(t in raw for t in teasers + a_lire)
    assert "Aller plus loin" in raw and "Ces articles devraient vous intéresser" in raw

    cleaned = clean_page(raw)

    for title in teasers + a_lire:
        assert title not in cleaned
    assert "Aller plus loin" not in cleaned
    assert "À lire" not in cleaned
    main = sample["CNT000001r4edC"]
    flat = " ".join(cleaned.split())
    sentences = [main["title"]] + _sentences(main["heading"]) + _sentences(main["body"])
    assert len(sentences) >= 12
    missing = [s for s in sentences if " ".join(s.split()) not in flat]
    assert missing == []
    assert cleaned.splitlines()[0] == main["title"]


def test_clean_page_seed_page(seed_page_path):
    """../shared/seed/page.txt: headline, a sidebar teaser, body with three "À lire :" lines."""
    raw = seed_page_path.read_text(encoding="utf-8")
    lines = [line for line in raw.splitlines() if line.strip()]
    # The layout read by hand; fail loudly if the shared page changes.
    assert lines[10] == "Aller plus loin"
    assert lines[1] == lines[11]  # the sidebar teaser repeats the first teaser
    assert [i for i, line in enumerate(lines) if line.startswith("À lire :")] == [4, 6, 8]
    assert lines[-1].startswith("Ces articles devraient vous intéresser")

    expected = [lines[i] for i in (0, 2, 3, 5, 7, 9)]
    assert clean_page(raw) == "\n".join(expected)


@pytest.mark.parametrize("marker", ["À lire :", "À lire aussi :", "A lire :", "à lire :",
                                    "Lire aussi :", "À lire : >"])
def test_clean_page_drops_a_lire_line(marker):
    text = f"Premier paragraphe.\n{marker}Un avion de chasse américain s'écrase\nSecond paragraphe."
    assert clean_page(text) == "Premier paragraphe.\nSecond paragraphe."


def test_lire_aussi_capitalised_is_removed_regression():
    # The cheap pre-test looked for "lire" only, so a page whose only link was
    # "Lire aussi :" kept it.
    text = "Texte un.\nLire aussi : Autre article sans rapport\nFin du texte."
    assert clean_page(text) == "Texte un.\nFin du texte."


def test_a_lire_line_with_camel_case_title_goes_whole_regression():
    # "YouTube" looked like a title glued to the next paragraph: "Tube supprime ..." stayed.
    text = "Texte un.\nÀ lire : YouTube supprime des vidéos de McDonald\nFin du texte."
    assert clean_page(text) == "Texte un.\nFin du texte."


def test_clean_page_drops_a_lire_glued_mid_paragraph():
    text = ("Le juge a été strict. - À lire aussi : > Ce que révèle l'expertise psychologique "
            "de Murielle BolducLe juge a prononcé la peine maximale.")
    assert clean_page(text) == "Le juge a été strict. Le juge a prononcé la peine maximale."


def test_clean_page_a_lire_title_glued_to_next_paragraph_at_line_start():
    text = "À lire :Municipales: François Bayrou reconduit à PauLundi, la police a parlé."
    assert clean_page(text) == "Lundi, la police a parlé."


@pytest.mark.parametrize("header", ["Aller plus loin", "Ces articles devraient vous intéresser :",
                                    "  Aller plus loin  ", "CES ARTICLES DEVRAIENT VOUS INTÉRESSER",
                                    "À lire aussi", "Articles lies"])
def test_clean_page_cuts_at_block_header(header):
    text = f"Titre\nTexte de l'article.\n{header}\nUn autre article\nEncore un autre"
    assert clean_page(text) == "Titre\nTexte de l'article."


@pytest.mark.parametrize("line", ["aller plus loin", "  articles lies", "les plus lus"])
def test_clean_page_keeps_a_header_line_in_lower_case(line):
    # Headers start with a capital on every page (the 389 shared pages' boxes): a line in
    # lower case is text, such as the analyzer's own joined terms analyzed again.
    text = f"Titre\nTexte de l'article.\n{line}\nLa suite de l'article."
    assert clean_page(text) == text.replace("\n  ", "\n")


def test_clean_page_drops_sidebar_teaser_repeated_after_the_cut():
    teaser = "Le roi Harald V de Norvège, 83 ans, a été hospitalisé tôt vendredi matin..."
    text = f"Titre\n{teaser}\nTexte de l'article.\nAller plus loin\n{teaser}\nAutre teaser..."
    assert clean_page(text) == "Titre\nTexte de l'article."


def test_clean_page_keeps_a_line_only_close_to_a_teaser():
    # seed page: "La France a sollicité l'expertise ..." is the article, "La France mise sur
    # l'expertise ..." the teaser; only an exact repeat is a sidebar teaser.
    text = ("La France a sollicité l'expertise du Maroc.\nAller plus loin\n"
            "La France mise sur l'expertise du Maroc.")
    assert clean_page(text) == "La France a sollicité l'expertise du Maroc."


def test_clean_page_keeps_every_sample_article_whole(articles_path):
    """No false positive: the sample's own texts have none of the blocks."""
    for record in _sample(articles_path).values():
        text = "\n".join(t for t in (record["title"], record["heading"], record["body"])
                         if t.strip())
        assert clean_page(text) == text, record["id"]


def test_clean_page_nfd_input_regression(page_path):
    # The patterns are NFC ("À", "intéresser"): a decomposed page was not cleaned at all.
    raw = page_path.read_text(encoding="utf-8")
    assert clean_page(unicodedata.normalize("NFD", raw)) == clean_page(raw)


def test_clean_page_empty():
    assert clean_page("") == ""
    assert clean_page("\n  \n") == ""


# -- tokenize ------------------------------------------------------------------------------
def test_tokenize_both_apostrophes_and_elisions():
    curly = "L’État l’a dit d’un ton sec, jusqu’à Noël, lorsqu’il qu’on s’en aille"
    straight = curly.replace("’", "'")
    expected = ["état", "a", "dit", "un", "ton", "sec", "à", "noël", "il", "on", "en", "aille"]
    assert tokenize(curly) == expected
    assert tokenize(straight) == expected


def test_tokenize_lower_cases():
    assert tokenize("PARIS Paris paris ÉTAT") == ["paris", "paris", "paris", "état"]


def test_tokenize_splits_glued_paragraphs():
    assert tokenize("une violence domestique.Consternant, le juge") == [
        "une", "violence", "domestique", "consternant", "le", "juge"]
    # From the sample's tiger story: "Bobby Nopandry.Une partie".
    assert tokenize("Bobby Nopandry.Une partie") == ["bobby", "nopandry", "une", "partie"]


def test_tokenize_nfd_equals_nfc():
    text = "Élections à Noël: l’été de la sécurité, ça a coûté cher"
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    words = tokenize(nfd)
    assert words == tokenize(text)
    assert words == ["élections", "à", "noël", "été", "de", "la", "sécurité", "ça", "a",
                     "coûté", "cher"]
    assert all(unicodedata.is_normalized("NFC", w) for w in words)


def test_tokenize_hyphens_split_words():
    assert tokenize("Les États-Unis et Jean-Jacques") == ["les", "états", "unis", "et", "jean",
                                                         "jacques"]


# -- find_words: the fast path against the regex it stands for --------------------------
WORD_PATTERN = re.compile(r"[^\W_]+")  # the definition of a word, written out here


@pytest.mark.parametrize("first", range(0, 256, 64))
def test_find_words_is_the_word_regex_for_every_latin1_character(first):
    for code in range(first, first + 64):
        c = chr(code)
        for text in (f"ab{c}cd", f"{c}", f"{c}{c} x{c}", f"é{c}2024{c}ÿ µ"):
            assert text.encode("latin-1")  # the fast path is the one tested
            assert find_words(text) == WORD_PATTERN.findall(text), repr(c)


@pytest.mark.parametrize("text", [
    "l'œuvre coûte 12 € • la suite",  # not Latin-1: the regex path
    "état\u200bcivil, 1ᵉʳ mai, Čapek, μ",
    "",
    "  \t\n ",
    "le_mot sous_tiret",
    "a\x1cb\x85c\xa0d\u2028e",
])
def test_find_words_edge_texts(text):
    assert find_words(text) == WORD_PATTERN.findall(text)


def test_find_words_of_every_sample_text(articles_path):
    records = _sample(articles_path).values()
    texts = [r.get(f) or "" for r in records for f in ("title", "heading", "body")]
    latin1 = 0
    for text in texts:
        lowered = text.lower()
        latin1 += lowered.isascii() or max(map(ord, lowered)) < 256
        assert find_words(lowered) == WORD_PATTERN.findall(lowered)
        assert find_words(text) == WORD_PATTERN.findall(text)
    assert 0 < latin1 < len(texts)  # both paths ran


# -- FrenchAnalyzer -------------------------------------------------------------------------
def test_analyzer_removes_stop_words():
    analyzer = FrenchAnalyzer()
    assert analyzer("Le la les de des et selon l'AFP, a-t-il déclaré lundi") == []
    stops = french_stop_words()
    assert {"le", "les", "selon", "afp", "apres", "après"} <= stops
    assert "tigre" not in stops


def test_analyzer_stems_are_accent_free():
    analyzer = FrenchAnalyzer(stem=True)
    assert analyzer("élections") == analyzer("election") == analyzer("Élections")
    assert len(analyzer("élections")) == 1
    # The accent is removed after stemming: "déforestation" keeps its inner "é" as an "e".
    (term,) = analyzer("déforestation")
    assert term.startswith("deforest") and strip_accents(term) == term


def rule_terms(text: str, *, min_length=2, keep_numbers=True, fold_stops=True) -> list[str]:
    """The analyzer's documented rule, word by word: page cleaned, tokenized, stop words
    (tested accent-free, or as written with ``fold_stops=False``), elisions and short words
    dropped, numbers of 4+ digits kept, accents stripped."""
    stops = french_stop_words() | ELISIONS
    out = []
    for word in tokenize(clean_page(text)):
        if len(word) < min_length or (strip_accents(word) if fold_stops else word) in stops:
            continue
        if word.isdigit():
            if keep_numbers and len(word) >= 4:
                out.append(word)
        else:
            out.append(strip_accents(word))
    return out


def test_analyzer_terms_of_every_sample_text_follow_the_rule(articles_path):
    """The terms of the default analyzer are the rule's, on every field of the sample."""
    analyzer, as_written = FrenchAnalyzer(), FrenchAnalyzer(fold_stops=False)
    for record in _sample(articles_path).values():
        for field in ("title", "heading", "body"):
            text = record.get(field) or ""
            assert analyzer(text) == rule_terms(text), (record["id"], field)
            assert as_written(text) == rule_terms(text, fold_stops=False), (record["id"], field)
    short = FrenchAnalyzer(min_length=4, keep_numbers=False)
    text = "En 2019, l'État a vu 80% des 400 tigres: 12345 en 19 ans"
    assert short(text) == rule_terms(text, min_length=4, keep_numbers=False)


def test_analyzer_terms_of_a_real_article_are_ascii(articles_path):
    record = _sample(articles_path)["CNT000001r4edC"]
    text = record["title"] + "\n" + record["body"]
    for analyzer in (FrenchAnalyzer(), FrenchAnalyzer(stem=True)):
        terms = analyzer(text)
        assert all(strip_accents(t) == t for t in terms)
        assert not {"le", "de", "selon", "afp"} & set(terms)
    assert {"tigre", "indonesie", "empoisonne"} <= set(FrenchAnalyzer()(text))  # whole words
    assert "tigr" in FrenchAnalyzer(stem=True)(text)  # "tigre", "tigres"


def test_analyzer_numbers_rule():
    text = "En 2019, 80% des 400 tigres, soit 12345 en 19 ans"
    assert [t for t in FrenchAnalyzer()(text) if t.isdigit()] == ["2019", "12345"]
    assert [t for t in FrenchAnalyzer(keep_numbers=False)(text) if t.isdigit()] == []


def test_strip_accents():
    assert strip_accents("élection") == "election"
    assert strip_accents("œuvre") == "oeuvre"
    assert strip_accents("ça") == "ca"


def test_analyzer_pickles_and_round_trips():
    sentence = ("Le gouvernement entend favoriser le tourisme en France pour les vacances "
                "d’été via la mise en place de chèques vacances.")
    analyzer = FrenchAnalyzer(min_length=3, keep_numbers=False)
    expected = analyzer(sentence)
    assert expected  # the check below compares real output
    copy = pickle.loads(pickle.dumps(analyzer))
    assert copy(sentence) == expected
    assert copy.get_params() == analyzer.get_params()


def test_analyzer_params_are_the_constructor_arguments():
    params = {"stop_words": False, "stem": True, "min_length": 3, "keep_numbers": False,
              "clean": False, "fold_stops": False}
    assert FrenchAnalyzer(**params).get_params() == params


def test_analyzer_set_params_rebuilds_it():
    analyzer = FrenchAnalyzer()
    assert analyzer("les élections") == ["elections"]  # fills the cache
    analyzer.set_params(stem=True, stop_words=False)
    assert analyzer("les élections") == ["le", "elect"]
    assert analyzer.get_params()["stem"] is True


def test_normalize_chars_is_normalize_without_the_paragraph_split():
    text = "l\u2019e\u0301te\u0301 d\u2018un pays.Puis rien"
    assert normalize_chars(text) == "l'été d'un pays.Puis rien"
    assert normalize(text) == "l'été d'un pays. Puis rien"
