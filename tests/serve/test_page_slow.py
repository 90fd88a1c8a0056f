"""The editors' page on the 34,178-article model of the shared corpus (slow; skipped
without ``../shared``, Chromium or playwright): the time of a search and of a draft's
preview as the browser sees it (``performance.now()`` around the call and the drawing,
the page's own measures), printed, not asserted; and the README's screenshots
(``docs/screenshots/``, desktop 1280 px and phone 390 px), taken from that model
(written there with ``RECOMMENDER_SCREENSHOTS=1``, else to a temporary folder)."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import statistics
from pathlib import Path

import pytest

from browsers import Tab, playwright_api
from servers import TOKEN
from recommender.cli import main

pytestmark = pytest.mark.slow

FULL = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "orangesum"
#: Where the screenshots go: the README's folder when RECOMMENDER_SCREENSHOTS=1 (to
#: refresh them), else the test's own temporary folder (a test run changes no file of the
#: checkout).
README_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
#: Searches an editor would type: words of titles, an id, a word found nowhere.
QUERIES = ["macron", "coronavirus masques", "tour de france", "municipales paris", "trump",
           "réforme des retraites", "incendie", "CNT000001rj1Q1", "pollution air",
           "zzqx introuvable", "ligue des champions"]
RUNS = 11  # the first is a warm-up


@pytest.fixture(scope="module")
def full_folder(tmp_path_factory):
    """The 34k model, trained here (about 20 s), with its evaluation report (about 20 s)."""
    corpus, truth = FULL / "articles.jsonl.gz", FULL / "related_dev.tsv"
    if not corpus.is_file():
        pytest.skip(f"{corpus} is absent: the full corpus is in ../shared beside the checkout "
                    f"(CI and the team's machines), not in a user's clone")
    playwright_api()  # skip before the training when there is no browser
    work = tmp_path_factory.mktemp("page34k")
    assert main(["train", str(corpus), "--out", str(work / "model"), "-q"]) == 0
    assert main(["evaluate", str(work / "model"), str(truth), "--report",
                 str(work / "report"), "-q"]) == 0
    return work / "model"


def drafts(n: int) -> list:
    """``n`` articles of the corpus, spread over it, as drafts (title, lead, body, date)."""
    with gzip.open(FULL / "articles.jsonl.gz", "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in itertools.islice(fh, 0, 34_000, 3_000)]
    return [{key: r.get(key) or "" for key in ("title", "heading", "body", "published")}
            for r in records[:n]]


def durations(page, name: str) -> list:
    return page.evaluate("name => performance.getEntriesByName(name).map(e => e.duration)",
                         name)


def report(capsys, what: str, times: list) -> float:
    kept = times[1:]  # the first one warms the connection and the code up
    median = statistics.median(kept)
    with capsys.disabled():
        print(f"\n{what}: median {median:.1f} ms over {len(kept)} (min {min(kept):.1f}, "
              f"max {max(kept):.1f}) in the browser, on the 34k model")
    return median


def showcase(server) -> str:
    """An article whose box holds both items of the site's own list (else one of them)."""
    best, best_shared = None, -1
    for query in ("coronavirus", "macron", "tour de france"):
        found = server.get("/search", params={"q": query, "limit": 100}).json()["items"]
        for item in found:
            site = {i["id"] for i in server.get(f"/articles/{item['id']}/site").json()["items"]}
            if len(site) < 2:
                continue
            ours = {i["id"] for i in
                    server.get(f"/articles/{item['id']}/related").json()["items"]}
            if len(site & ours) > best_shared:
                best, best_shared = item["id"], len(site & ours)
            if best_shared == 2:
                return best
    return best


def test_timings_and_screenshots_on_the_full_model(browser, start, full_folder, capsys,
                                                    tmp_path):
    shots = README_SHOTS if os.environ.get("RECOMMENDER_SCREENSHOTS") == "1" else tmp_path
    server = start(full_folder, env={"RECOMMENDER_TOKEN": TOKEN})
    tab = Tab(browser, server)
    page = tab.open()
    for query in itertools.islice(itertools.cycle(QUERIES), RUNS):
        before = len(durations(page, "search"))
        page.fill("#search-q", query)
        page.keyboard.press("Enter")
        assert tab.wait("([n]) => performance.getEntriesByName('search').length > n", [before])
    search = report(capsys, "search", durations(page, "search"))

    page.click("#tab-draft")
    for draft in drafts(RUNS):
        before = len(durations(page, "preview"))
        page.fill("#draft-title", draft["title"])
        page.fill("#draft-heading", draft["heading"])
        page.fill("#draft-body", draft["body"])
        page.fill("#draft-date", draft["published"][:16])
        page.click("#draft-form button[type=submit]")
        assert tab.wait("([n]) => performance.getEntriesByName('preview').length > n", [before])
    preview = report(capsys, "draft preview", durations(page, "preview"))
    assert search > 0 and preview > 0 and not tab.errors  # measured, not judged

    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=shots / "page-draft-desktop.png", full_page=True)
    chosen = showcase(server)
    page.goto(f"{server.url}/#/article/{chosen}")
    page.wait_for_selector("#box li")
    second = page.locator("#box > li").nth(2)
    second.locator("input.position").fill("1")
    second.locator("button.pin").click()  # a pin, to show its mark and its undo
    page.wait_for_selector("#token-dialog[open]")
    page.fill("#token-input", TOKEN)
    page.keyboard.press("Enter")
    page.wait_for_selector("#box > li.is-pinned")
    page.click("#controls summary")
    page.screenshot(path=shots / "page-article-desktop.png", full_page=True)
    assert page.is_visible("#report-link")
    tab.close()

    phone = Tab(browser, server, width=390, height=844)
    page = phone.open(f"#/article/{chosen}")
    page.wait_for_selector("#box li")
    page.screenshot(path=shots / "page-article-phone.png", full_page=True,
                    clip={"x": 0, "y": 0, "width": 390, "height": 1500})
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    phone.close()
