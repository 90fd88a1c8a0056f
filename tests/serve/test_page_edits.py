"""The editors' edits in the page (``GET /``), in a real browser against the real server:
pin, ban from one list and from every list, undo, a wrong token refused with the API's
message, and a title made of markup that stays text everywhere it shows. Each check reads
the page and the API's answer to the same question (browsers: ``browsers.py``)."""

from __future__ import annotations

import time

import pytest

from browsers import MARKUP, TIGER, Tab, related_ids
from servers import TOKEN, auth, error_of, folder_copy


@pytest.fixture
def folder(tmp_path, model_dir):
    return folder_copy(model_dir, tmp_path / "model")


def pins_of(server, source=TIGER) -> dict:
    return server.get(f"/articles/{source}/pins").json()


def until_banned(server, banned, timeout=10.0):
    """Wait until the server records a ban of ``banned`` (the page's click sends it)."""
    deadline = time.monotonic() + timeout
    while not any(b["banned"] == banned for b in server.get("/pins").json()["bans"]):
        assert time.monotonic() < deadline, f"the ban of {banned} never reached the server"
        time.sleep(0.05)


def test_pin_ban_and_undo_in_the_page_and_the_api(browser, start, folder):
    server = start(folder, "--workers", "2", env={"RECOMMENDER_TOKEN": TOKEN})
    tab = Tab(browser, server)
    page = tab.open(f"#/article/{TIGER}")
    organic = related_ids(server, TIGER, k=5)
    tab.wait_ids("#box > li", organic)
    chosen = organic[3]
    row = page.locator(f"#box > li[data-id='{chosen}']")
    row.locator("input.position").fill("1")
    row.locator("button.pin").click()
    page.wait_for_selector("#token-dialog[open]")  # asked once, when a change needs it
    page.fill("#token-input", TOKEN)
    page.keyboard.press("Enter")
    pinned = [chosen, *[i for i in organic if i != chosen]]
    tab.wait_ids("#box > li", pinned)
    assert pins_of(server)["pins"] == [{"id": chosen, "position": 1}]
    items = server.get(f"/articles/{TIGER}/related").json()["items"]
    assert items[0]["id"] == chosen and items[0]["pinned"] is True
    assert tab.ids("#box > li.is-pinned") == [chosen]
    assert page.text_content("#box > li:first-child .mark.pinned") == "Épinglé"
    assert "épinglé en position 1" in page.text_content("#message")
    assert page.evaluate("sessionStorage.getItem('recommender.token')") == TOKEN
    assert page.evaluate("JSON.stringify(localStorage)").find(TOKEN) == -1
    assert tab.ids("[data-group='edits.pins'] li") == [chosen]

    page.click("#undo-last")
    tab.wait_ids("#box > li", organic)
    assert pins_of(server)["pins"] == []

    page.locator(f"#box > li[data-id='{organic[0]}'] button.ban").click()
    until_banned(server, organic[0])  # else the expected list is read before the ban
    tab.wait_ids("#box > li", related_ids(server, TIGER, k=5))
    assert organic[0] not in tab.ids("#box > li") and pins_of(server)["bans"] == [organic[0]]
    assert tab.ids("[data-group='edits.bans'] li") == [organic[0]]

    everywhere = organic[1]
    page.locator(f"#box > li[data-id='{everywhere}'] button.ban-all").click()
    until_banned(server, everywhere)
    tab.wait_ids("#box > li", related_ids(server, TIGER, k=5))
    assert everywhere not in tab.ids("#box > li")
    assert {"banned": everywhere, "from": None} in server.get("/pins").json()["bans"]
    assert everywhere not in related_ids(server, organic[0], k=10)  # in every list
    tab.wait_ids("[data-group='edits.everywhere'] li", [everywhere])

    page.click(f"[data-group='edits.everywhere'] li[data-id='{everywhere}'] button.undo")
    tab.wait_ids("[data-group='edits.everywhere'] li", [])
    assert server.get("/pins").json()["bans"] == [{"banned": organic[0], "from": TIGER}]
    page.click("#undo-last")  # the last change left: the ban from this list
    tab.wait_ids("#box > li", organic)
    assert pins_of(server)["bans"] == [] and related_ids(server, TIGER, k=5) == organic
    assert tab.statuses.count(401) == 1 and not tab.dialogs and not tab.errors
    tab.close()


def test_a_wrong_token_is_refused_with_its_message(browser, start, folder):
    server = start(folder, env={"RECOMMENDER_TOKEN": TOKEN})
    refusal = error_of(server.client.put(f"/articles/{TIGER}/bans/x",
                                         headers=auth("wrong-token")), 403)
    tab = Tab(browser, server)
    page = tab.open(f"#/article/{TIGER}")
    organic = related_ids(server, TIGER, k=5)
    tab.wait_ids("#box > li", organic)
    page.locator(f"#box > li[data-id='{organic[0]}'] button.ban").click()
    page.wait_for_selector("#token-dialog[open]")
    page.fill("#token-input", "wrong-token")
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#error:not([hidden])")
    assert page.text_content("#error") == f"Erreur 403 : {refusal}"
    assert pins_of(server)["bans"] == [] and tab.ids("#box > li") == organic
    assert page.evaluate("sessionStorage.getItem('recommender.token')") is None

    page.locator(f"#box > li[data-id='{organic[0]}'] button.ban").click()
    page.wait_for_selector("#token-dialog[open]")  # a wrong token is asked again
    page.fill("#token-input", TOKEN)
    page.keyboard.press("Enter")
    until_banned(server, organic[0])  # else the expected list is read before the ban
    tab.wait_ids("#box > li", related_ids(server, TIGER, k=5))
    assert pins_of(server)["bans"] == [organic[0]] and not page.is_visible("#error")
    tab.close()


def test_a_title_made_of_markup_stays_text(browser, start, folder, articles):
    server = start(folder, env={"RECOMMENDER_TOKEN": TOKEN})
    tiger = next(a for a in articles if a.id == TIGER)
    added = server.post("/articles", headers=auth(), json={
        "id": "markup-title", "title": MARKUP, "category": "<b onmouseover=alert(2)>x</b>",
        "heading": tiger.heading, "body": tiger.body,
        "published": "2020-06-24T10:00:00+00:00"})
    assert added.status_code == 200, added.text
    assert "markup-title" in related_ids(server, TIGER, k=5)
    tab = Tab(browser, server)
    page = tab.open()
    page.fill("#search-q", "markup-title")
    page.keyboard.press("Enter")
    tab.wait_ids("#search-results > li:first-child", ["markup-title"])
    assert page.text_content("#search-results .title") == MARKUP
    page.click("#search-results .title")
    tab.wait_text("#result-title", "<img")
    assert page.text_content("#result-title") == MARKUP
    page.goto(f"{server.url}/#/article/{TIGER}")
    tab.wait_ids("#box > li", related_ids(server, TIGER, k=5))
    assert page.text_content("#box > li[data-id='markup-title'] .title") == MARKUP
    page.click("#tab-draft")
    page.fill("#draft-body", tiger.body)
    page.fill("#draft-title", MARKUP)
    page.keyboard.press("Enter")
    tab.wait_text("#result-title", "Brouillon")
    assert page.text_content("#result-title") == f"Brouillon : {MARKUP}"
    assert page.locator("img, b").count() == 0 and not tab.dialogs and not tab.errors
    tab.close()


# -- the origin, the languages, the widths -----------------------------------------------------
