"""One page to one record: the shipped sample against the corpus's own records, and the
rules of the text (lead, byline, body) on small pages written here."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

pytest.importorskip("trafilatura", reason="pip install 'recommender[import]'")

from pages_helpers import PARIS, in_order, jaccard, no_space  # noqa: E402

from recommender.imports.box import Box  # noqa: E402
from recommender.imports.ids import Ids, category_of  # noqa: E402
from recommender.imports.page import MAX_PAGE_BYTES, PageSkipped, read_page  # noqa: E402

FILLER = ("Le conseil municipal a voté mardi soir le budget de la ville, après un long débat "
          "sur les transports, les écoles et les travaux de la place centrale. ")


def page(body: str, head: str = "", url: str = "https://news.example.fr/monde/x-1.html") -> bytes:
    return (f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">'
            f'<link rel="canonical" href="{url}"><title>Un titre</title>{head}</head>'
            f"<body><nav><a href='/'>Accueil</a></nav><article><h1>Un titre</h1>{body}"
            f"</article><footer>Mentions légales</footer></body></html>").encode("utf-8")


def read(data: bytes, **kw) -> dict:
    kw = {"ids": Ids(), "box": Box(), "zone": PARIS, **kw}
    return read_page(data, **kw)


# -- the sample of real pages against the corpus's records -----------------------------------
def test_every_sample_page_is_imported(imported, reference):
    records, summary = imported
    assert set(records) == set(reference)
    assert summary.imported == summary.pages == 12
    assert summary.not_html == 2  # the README and records.jsonl beside the pages
    assert summary.boxes == 12


def test_sample_titles_days_categories_and_render_times(imported, reference):
    records, _ = imported
    for article_id, ref in reference.items():
        got = records[article_id]
        assert no_space(got["title"]) == no_space(ref["title"]), article_id
        assert got["published"] == ref["published"], article_id  # to the second, +02:00
        assert got["related_at"] == ref["related_at"], article_id
        assert got["category"] == category_of(got["url"]), article_id
    # The page's URL is its canonical link. The reference took the address the page was
    # crawled at, which is the same but for one page, saved under /societe/culture/ and
    # whose canonical link (where the site's boxes link to it) is under /france/.
    moved = [i for i, ref in reference.items() if records[i]["url"] != ref["url"]]
    assert moved == ["CNT000001qNBAQ"]
    assert records["CNT000001qNBAQ"]["url"].startswith("https://actu.orange.fr/france/")
    assert records["CNT000001qNBAQ"]["category"] == "france"
    assert all(records[i]["category"] == ref["category"] for i, ref in reference.items()
               if i not in moved)


def test_sample_headings_and_bodies(imported, reference):
    records, _ = imported
    for article_id, ref in reference.items():
        got = records[article_id]
        if ref["heading"]:
            assert no_space(got["heading"]) == no_space(ref["heading"]), article_id
        overlap = jaccard(got["body"], ref["body"])
        assert overlap >= 0.9, (article_id, overlap)


def test_sample_boxes_hold_the_records_related_in_order(imported, reference):
    records, _ = imported
    for article_id, ref in reference.items():
        assert in_order(ref.get("related", []), records[article_id]["related"]), article_id


def test_sample_bold_lead_and_short_quiz(imported):
    records, _ = imported
    # The lead is the bold text that opens the paragraph; the rest of it is body.
    lead = records["CNT000001q2qPm"]
    assert lead["heading"].startswith("Députés et sénateurs tenteront samedi")
    assert lead["heading"].endswith("constitutionnalité du texte.")
    assert lead["body"].startswith("Après le Sénat mardi")
    # A quiz whose text is its lead alone: not glued to the caption, the box and byline.
    quiz = records["CNT0000015UbIT"]
    assert quiz["heading"].startswith("TESTEZ-VOUS.")
    assert "publié le" not in quiz["heading"] + quiz["body"]
    assert "Nicolas Cage" not in quiz["heading"] + quiz["body"]  # a title of its box


def test_sample_tags_are_the_pages_keywords(imported):
    records, _ = imported
    assert records["CNT000001qkodA"]["tags"][:3] == ["Belgique", "technologies",
                                                      "informatique"]
    assert records["CNT000001q2qPm"]["tags"] == []


# -- the rules of the text, on pages written here --------------------------------------------
def test_byline_is_dropped_and_gives_the_time():
    data = page(f'<p class="date">AFP, publié le lundi 11 mai 2020 à 12h08</p>'
                f"<p>Le chapô de l'article, en une phrase.</p><p>{FILLER}</p><p>{FILLER}</p>")
    record = read(data)
    assert record["heading"] == "Le chapô de l'article, en une phrase."
    assert "publié" not in record["body"]
    assert record["published"] == "2020-05-11T12:08:00+02:00"  # Paris time, no offset given


def test_the_heads_time_comes_before_the_byline():
    head = '<meta property="article:published_time" content="2020-05-11T10:08:31+00:00">'
    data = page(f"<p>Par Jeanne Martin</p><p>Le chapô.</p><p>{FILLER}</p><p>{FILLER}</p>",
                head=head)
    record = read(data)
    assert record["published"] == "2020-05-11T10:08:31+00:00"
    assert record["heading"] == "Le chapô."


def test_first_paragraph_is_the_heading_and_line_breaks_split_the_body():
    data = page(f"<p>Premier paragraphe,<br>sur deux lignes.</p><p>{FILLER}<br>Suite.</p>"
                f"<p>{FILLER}</p>")
    record = read(data)
    assert record["heading"] == "Premier paragraphe, sur deux lignes."
    assert record["body"].split("\n") == [FILLER.strip(), "Suite.", FILLER.strip()]


def test_render_time_meta_then_capture_time_then_shown_at():
    shown = datetime(2021, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    captured = datetime(2020, 9, 27, 10, 0, tzinfo=timezone.utc)
    body = f"<p>Le chapô.</p><p>{FILLER}</p><p>{FILLER}</p>"
    stamp = '<meta name="orange-generated-timestamp" content="1593773543">'
    assert read(page(body, head=stamp), shown_at=shown)["related_at"] == \
        "2020-07-03T12:52:23+02:00"
    dated = '<meta name="orange-generated-date" content="2020-07-03 12:52:23">'
    assert read(page(body, head=dated))["related_at"] == "2020-07-03T12:52:23+02:00"
    assert read(page(body), captured_at=captured, shown_at=shown)["related_at"] == \
        "2020-09-27T10:00:00+00:00"
    assert read(page(body), shown_at=shown)["related_at"] == "2021-01-02T03:04:05+00:00"
    assert read(page(body))["related_at"] is None


def test_category_from_the_url_else_the_section():
    body = f"<p>Le chapô.</p><p>{FILLER}</p>"
    section = '<meta property="article:section" content="Santé">'
    assert read(page(body, head=section))["category"] == "monde"
    top = page(body, head=section, url="https://news.example.fr/x-1.html")
    assert read(top)["category"] == "santé"


@pytest.mark.parametrize("data, reason", [
    (b"", "not an HTML page"),
    (b"   \n ", "not an HTML page"),
    (b"<html><head><title>T</title></head><body></body></html>", "no URL"),
])
def test_pages_that_give_no_article_say_why(data, reason):
    with pytest.raises(PageSkipped, match=f"^{reason}"):
        read(data)


def test_a_url_the_id_pattern_does_not_match_is_skipped():
    with pytest.raises(PageSkipped, match=r"does not match --id-pattern '\(CNT\\w\+\)'"):
        read(page("<p>Texte.</p>"), ids=Ids(r"(CNT\w+)"))


def test_a_page_too_large_is_skipped_unread():
    with pytest.raises(PageSkipped, match="^larger than 20,000,000 bytes$"):
        read(b" " * (MAX_PAGE_BYTES + 1))


def test_latin1_page_without_a_declared_charset():
    data = page(f"<p>Été à l'Opéra.</p><p>{FILLER}</p>").replace(b'<meta charset="utf-8">', b"")
    record = read(data.decode("utf-8").encode("latin-1"))
    assert record["heading"] == "Été à l'Opéra."


@pytest.mark.parametrize("first", [
    "Le rapport publié le 3 mai par l'OMS montre que la pandémie recule en Europe.",
    "Par peur de la contagion, les habitants restent chez eux.",
    "Publié le 3 mai, le rapport de l'OMS montre que la pandémie recule partout en Europe.",
])
def test_a_lead_that_reads_like_a_byline_is_kept(first):
    record = read(page(f"<p>{first}</p><p>{FILLER}</p><p>{FILLER}</p>"))
    assert record["heading"] == first


@pytest.mark.parametrize("byline", [
    "Par Jeanne Martin", "Par la rédaction avec AFP", "Orange avec AFP, publié le samedi 25 "
    "août 2018 à 07h00", "Publié le 02/06/2020 à 16:50, mis à jour le 03/06/2020 à 08:00",
])
def test_bylines_and_author_lines_are_dropped(byline):
    record = read(page(f"<p>{byline}</p><p>Le chapô.</p><p>{FILLER}</p><p>{FILLER}</p>"))
    assert record["heading"] == "Le chapô."


def test_the_canonical_link_comes_before_og_url_wherever_they_are():
    head = '<meta property="og:url" content="https://news.example.fr/monde/og-2.html">'
    data = page("<p>Le chapô.</p>", head=head).replace(
        b'<link rel="canonical"', head.encode() + b'<link rel="canonical"')
    assert read(data)["url"] == "https://news.example.fr/monde/x-1.html"
    assert read(page("<p>Le chapô.</p>", url="", head=head).replace(
        b'<link rel="canonical" href="">', b""))["url"] == \
        "https://news.example.fr/monde/og-2.html"
