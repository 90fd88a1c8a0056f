"""The editors' page (``GET /``) in a real browser, Debian's Chromium driven by Playwright,
against the real server on a loopback port: search, an article's box beside the site's
own list, a pasted draft, the newsroom controls and the tuning table, no request leaving
the origin, French and English, a phone's width (the edits: ``test_page_edits.py``).
Each check reads the page and the API's answer to the same question.

The browser tests skip, saying why, without ``/usr/bin/chromium`` (Debian's package) or the
``playwright`` package (``.ci/run`` installs both; ``playwright install`` is never run:
it downloads a browser)."""

from __future__ import annotations

import re
import warnings
from datetime import datetime

import pytest

from browsers import HALF_KNOWN, PAGE, PARIS, TIGER, Tab, related_ids
from servers import TOKEN, error_of
from recommender import ArticleRecommender, CorpusWarning
from recommender.serve.pages import SECURITY_HEADERS



# -- the files of the page ----------------------------------------------------------------
def test_the_page_is_served_with_a_strict_policy(shared_server):
    page = shared_server.get("/")
    assert page.status_code == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
    policy = page.headers["content-security-policy"]
    assert policy == SECURITY_HEADERS["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "unsafe" not in policy and "http" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-cache"
    again = shared_server.get("/", headers={"If-None-Match": page.headers["etag"]})
    assert again.status_code == 304 and again.content == b""

    html = page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)  # no inline script
    assert not re.search(r"\sstyle=|\son[a-z]+=", html)     # no inline style or handler
    links = re.findall(r'(?:src|href)="([^"#]+)"', html)
    assert links and all(link.startswith("/static/") for link in links)
    types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
             ".svg": "image/svg+xml"}
    for path in sorted(PAGE.iterdir()):
        answer = shared_server.get(f"/static/{path.name}")
        assert answer.status_code == 200 and answer.content == path.read_bytes()
        if path.suffix in types:
            assert answer.headers["content-type"] == types[path.suffix]
        assert answer.headers["content-security-policy"] == policy
        if path.suffix == ".js":  # values enter the page as text, modules come from here
            code = path.read_text("utf-8")
            assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|"
                                 r"eval\(|new Function", code), path.name
            assert all(m.startswith("./") for m in re.findall(r'from "([^"]+)"', code))
    assert "nope.js" in error_of(shared_server.get("/static/nope.js"), 404)
    for sneaky in ("..%2Fpages.py", "..%2F..%2Fmanifest.json", "%2Fetc%2Fpasswd"):
        assert shared_server.get(f"/static/{sneaky}").status_code == 404


# -- search, an article's box, a draft -------------------------------------------------------
def test_search_by_title_words_and_by_id_with_the_keyboard(tab, shared_server):
    page = tab.open()
    for _ in range(10):  # the search field is reached with Tab, its focus is visible
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "search-q":
            break
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.type("tigre SUMATRA")
    page.keyboard.press("Enter")
    api = shared_server.get("/search", params={"q": "tigre SUMATRA", "limit": 20}).json()
    expected = [item["id"] for item in api["items"]]
    assert len(expected) >= 3 and TIGER in expected
    tab.wait_ids("#search-results > li", expected)
    assert tab.texts("#search-results .title") == [i["title"] for i in api["items"]]
    assert page.text_content("#search-status").startswith(f"{len(expected)} articles trouvés")

    page.fill("#search-q", TIGER)
    page.keyboard.press("Enter")
    tab.wait_ids("#search-results > li:first-child", [TIGER])
    assert shared_server.get("/search", params={"q": TIGER}).json()["items"][0]["id"] == TIGER

    page.focus("#search-results a")
    page.keyboard.press("Enter")  # a result opens its box
    tab.wait_ids("#box > li", related_ids(shared_server, TIGER, k=5))
    assert page.evaluate("location.hash") == f"#/article/{TIGER}"

    page.fill("#search-q", "zzqx introuvable")
    page.keyboard.press("Enter")
    tab.wait_text("#search-status", "Aucun article")
    assert shared_server.get("/search", params={"q": "zzqx introuvable"}).json()["items"] == []
    assert tab.ids("#search-results > li") == []


def test_an_articles_box_beside_the_sites_own_list(tab, shared_server):
    page = tab.open(f"#/article/{TIGER}")
    api = shared_server.get(f"/articles/{TIGER}/related",
                            params={"k": 5, "explain": "true"}).json()["items"]
    tab.wait_ids("#box > li", [item["id"] for item in api])
    info = shared_server.get(f"/articles/{TIGER}").json()
    assert page.text_content("#result-title") == info["title"]
    for n, item in enumerate(api):
        row = page.locator("#box > li").nth(n)
        assert row.locator(".title").text_content() == item["title"]
        assert row.locator(".score").text_content() == \
            f"score {item['score']:.3f}".replace(".", ",")
        words = [w.split()[0] for w in row.locator(".word").all_text_contents()]
        assert words == [w["word"] for w in item["explain"][:6]] and words
        buttons = row.locator("button").all_text_contents()
        assert buttons == ["Épingler", "Bannir de cette liste", "Bannir de toutes les listes"]
    site = shared_server.get(f"/articles/{TIGER}/site").json()["items"]
    assert tab.ids("#site > li") == [item["id"] for item in site] and site
    shared = {item["id"] for item in site} & {item["id"] for item in api}
    assert shared and set(tab.ids("#box > li.is-both")) == shared
    assert set(tab.ids("#site > li.is-both")) == shared
    assert tab.texts("#box > li.is-both .mark.both")[0] == "Aussi dans la liste du site"

    page.select_option("#control-k", "10")
    tab.wait_ids("#box > li", related_ids(shared_server, TIGER, k=10))

    page.goto(f"{shared_server.url}/#/article/{HALF_KNOWN}")
    site = shared_server.get(f"/articles/{HALF_KNOWN}/site").json()["items"]
    tab.wait_ids("#site > li", [item["id"] for item in site])
    unknown = [item["id"] for item in site if item["title"] is None]
    assert unknown and all("absent du modèle" in page.text_content(
        f"#site > li[data-id='{i}']") for i in unknown)


def test_a_pasted_draft_as_it_would_be_published(tab, shared_server, articles):
    tiger = next(a for a in articles if a.id == TIGER)
    page = tab.open()
    reference = shared_server.get("/health").json()["reference"]
    assert page.input_value("#draft-date") == \
        datetime.fromisoformat(reference).astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")
    page.click("#tab-draft")
    assert page.is_visible("#panel-draft") and not page.is_visible("#panel-article")
    draft = {"title": "Un tigre de Sumatra retrouvé mort", "heading": tiger.heading,
             "body": tiger.body}
    for date, as_of in (("2020-07-01T12:00", "2020-07-01T10:00:00Z"),
                        ("2020-06-24T09:30", "2020-06-24T07:30:00Z")):
        page.fill("#draft-heading", draft["heading"])
        page.fill("#draft-body", draft["body"])
        page.fill("#draft-date", date)
        page.fill("#draft-title", draft["title"])
        page.keyboard.press("Enter")  # the form is sent from its title field
        answer = shared_server.post("/related", params={"k": 5, "explain": "true",
                                                        "as_of": as_of},
                                    json={**draft, "published": as_of})
        expected = [item["id"] for item in answer.json()["items"]]
        tab.wait_ids("#box > li", expected)
        assert page.text_content("#result-title") == f"Brouillon : {draft['title']}"
        assert page.locator("#box button").count() == 0  # a draft is not in the model
        assert not page.is_visible("#edits")
    assert "CNT000001rdIhh" not in expected  # published after the 24th: not yet there


def test_the_controls_rerun_the_preview_only(tab, shared_server):
    model = shared_server.get("/model").json()
    page = tab.open(f"#/article/{TIGER}")
    organic = related_ids(shared_server, TIGER, k=5)
    tab.wait_ids("#box > li", organic)
    page.click("#controls summary")
    assert page.text_content("#control-min_score-hint") == "modèle : aucun"
    assert page.locator("[data-tuning]").count() == 0  # the sample model was not tuned
    page.fill("#control-min_score", "15,5")  # a French decimal comma
    page.fill("#control-diversity", "0,3")
    page.press("#control-diversity", "Enter")
    expected = related_ids(shared_server, TIGER, k=5, min_score=15.5, diversity=0.3)
    assert expected != organic
    tab.wait_ids("#box > li", expected)
    page.fill("#control-min_score", "")
    page.fill("#control-diversity", "")
    page.fill("#control-max_age", "aucun")
    page.press("#control-max_age", "Enter")
    tab.wait_ids("#box > li", related_ids(shared_server, TIGER, k=5, max_age="none"))
    page.click("#controls-reset")
    tab.wait_ids("#box > li", organic)
    after = shared_server.get("/model").json()
    assert after["version"] == model["version"] and after["controls"] == model["controls"]
    assert related_ids(shared_server, TIGER, k=5) == organic


def test_the_tuning_table_beside_the_controls_and_the_report(browser, start, tmp_path,
                                                              articles, related_path):
    from recommender.evaluate.tuning import tune
    from recommender.truth import read_ground_truth

    levers = (("min_df", ("mlt",), [("min_df 3", {"min_df": 3})]),
              ("max age", ("mlt", "cosine"), [("max age 30 days", {"max_age": 30.0}),
                                              ("no max age", {"max_age": None})]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CorpusWarning)
        result = tune(articles, read_ground_truth(related_path),
                      params={"min_df": 2, "max_age": 62.0}, levers=levers)
    result.model.tuning_ = result.record()
    result.model.save(tmp_path / "model")
    report = tmp_path / "report" / "index.html"
    report.parent.mkdir()
    report.write_text("<!doctype html><title>Rapport du modèle</title><h1>Rapport</h1>")
    ArticleRecommender.load(tmp_path / "model").record_report(report)
    server = start(tmp_path / "model", env={"RECOMMENDER_TOKEN": TOKEN})
    facts = server.get("/model").json()
    rows = [row for row in facts["tuning"]["rows"] if "max age" in row["group"]]
    assert len(rows) >= 3 and all("max_age" in row["params"] for row in rows)

    tab = Tab(browser, server)
    page = tab.open()
    page.click("#controls summary")
    shown = tab.texts("[data-tuning='max_age'] li")
    assert len(shown) == len(rows)
    for text, row in zip(shown, rows):
        assert text.startswith(f"[{row['group'].split(':')[0]}] {row['setting']} : rappel@10")
        assert text.endswith("choisi") == row["chosen"]
    for other in ("half_life", "dedupe", "diversity", "min_score"):
        assert page.locator(f"[data-tuning='{other}']").count() == 0  # no row names it
    assert page.is_visible("#report-link")
    assert page.get_attribute("#report-link", "href") == facts["report"]
    page.click("#report-link")
    page.wait_for_load_state()
    assert page.title() == "Rapport du modèle" and not tab.errors
    tab.close()


# -- pins, bans, undo, the token ---------------------------------------------------------------


def test_no_request_leaves_the_servers_origin(tab, shared_server):
    page = tab.open()
    page.fill("#search-q", "tigre")
    page.keyboard.press("Enter")
    page.wait_for_selector("#search-results li")
    page.click("#search-results .title")
    page.wait_for_selector("#box li")
    page.click("#lang-button")
    page.click("#tab-draft")
    page.fill("#draft-title", "Un tigre empoisonné en Indonésie")
    page.keyboard.press("Enter")
    tab.wait_text("#result-title", "Draft")
    assert tab.requests and all(url.startswith(f"{shared_server.url}/")
                                for url in tab.requests), tab.requests
    assert {f"{shared_server.url}/static/{name}" for name in ("page.js", "page.css")} \
        <= set(tab.requests)


def test_french_by_default_and_english_on_the_toggle(tab, shared_server):
    page = tab.open(f"#/article/{TIGER}")
    page.wait_for_selector("#box li")
    french = ("fr", "Ces articles devraient vous intéresser", "Épingler",
              "Bannir de cette liste", "Bannir de toutes les listes", "Annuler la dernière "
              "modification", "English")
    english = ("en", "You may be interested in these articles", "Pin", "Ban from this list",
               "Ban from every list", "Undo the last change", "Français")

    def words():
        first = "#box > li:first-child "
        return (page.get_attribute("html", "lang"), page.text_content("#box-title"),
                page.text_content(first + "button.pin"), page.text_content(first + "button.ban"),
                page.text_content(first + "button.ban-all"), page.text_content("#undo-last"),
                page.text_content("#lang-button"))

    assert words() == french
    ids = tab.ids("#box > li")
    page.click("#lang-button")
    assert words() == english and tab.ids("#box > li") == ids
    page.reload()
    page.wait_for_selector("#box li")
    assert words() == english  # remembered (localStorage)
    page.click("#lang-button")
    assert words() == french


@pytest.mark.parametrize("width", [375, 1280])
def test_a_phone_and_a_desktop_have_no_horizontal_scroll(browser, shared_server, width):
    tab = Tab(browser, shared_server, width=width, height=800)
    page = tab.open(f"#/article/{TIGER}")
    page.wait_for_selector("#box li")
    page.click("#controls summary")

    def fits():
        return page.evaluate("document.documentElement.scrollWidth <= innerWidth")

    box, side = page.locator(".box").bounding_box(), page.locator(".side").bounding_box()
    if width < 700:  # one column: the site's list under ours
        assert side["y"] >= box["y"] + box["height"] - 1 and side["width"] > 300
    else:  # side by side
        assert side["x"] >= box["x"] + box["width"] - 1
    assert fits()
    page.click("#tab-draft")
    assert fits()
    assert not tab.errors
    tab.close()
