"""The browser of the editors' page's tests: Debian's Chromium driven by Playwright, and a
tab that records what the page did (requests, statuses, dialogs, script errors).

The tests skip, saying why, without ``/usr/bin/chromium`` (Debian's package) or the
``playwright`` package (``.ci/run`` installs both; ``playwright install`` is never run: it
downloads a browser of its own)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--lang=fr-FR"]
PAGE = Path(__file__).parents[2] / "recommender" / "serve" / "page"
TIGER = "CNT000001r4edC"     # its site list: two articles, both in our box
HALF_KNOWN = "CNT000001qC7ZY"  # its site list: one article of the model, one not in it
MARKUP = "<img src=x onerror=alert(1)>"
PARIS = ZoneInfo("Europe/Paris")


def playwright_api():
    """Playwright's sync API, or a skip that says what is missing."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is absent: the page's browser tests use Debian's Chromium "
                    f"(apt-get install chromium)")
    return pytest.importorskip("playwright.sync_api", reason="the playwright package is "
                               "absent: pip install playwright (the tests launch Debian's "
                               "Chromium; no 'playwright install')")


@contextmanager
def chromium_browser():
    """Debian's Chromium, headless, launched by Playwright (skips without either)."""
    api = playwright_api()
    with api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS,
                                              headless=True)
        try:
            yield launched
        finally:
            launched.close()


class Tab:
    """A page in a fresh browser context (its own storage), with what it did: every
    request's URL, every status, dialogs (alert, confirm) and script errors."""

    def __init__(self, browser, server, width=1280, height=900):
        self.context = browser.new_context(viewport={"width": width, "height": height},
                                           locale="fr-FR", timezone_id="Europe/Paris")
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.server = server
        self.requests, self.statuses, self.dialogs, self.errors = [], [], [], []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("response", lambda response: self.statuses.append(response.status))
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, fragment=""):
        self.page.goto(f"{self.server.url}/{fragment}")
        self.page.wait_for_selector("body[data-ready=true]")
        return self.page

    def ids(self, selector) -> list:
        return self.page.eval_on_selector_all(selector, "nodes => nodes.map(n => n.dataset.id)")

    def texts(self, selector) -> list:
        return [text.strip() for text in self.page.locator(selector).all_text_contents()]

    def wait(self, expression, arg=None, timeout=10.0):
        """Poll ``expression`` (a JavaScript function of ``arg``) until it is true, or
        ``timeout`` seconds; its last value. Playwright's wait_for_function compiles its
        predicate with ``new Function``, which the page's policy (no eval) forbids, as it
        should."""
        deadline = time.monotonic() + timeout
        while not (value := self.page.evaluate(expression, arg)) and \
                time.monotonic() < deadline:
            self.page.wait_for_timeout(20)
        return value

    def wait_ids(self, selector, expected):
        """Wait until the page lists ``expected`` (ids, in order) at ``selector``."""
        self.wait("([sel, ids]) => JSON.stringify([...document.querySelectorAll(sel)]"
                  ".map(n => n.dataset.id)) === JSON.stringify(ids)", [selector, expected])
        assert self.ids(selector) == expected

    def wait_text(self, selector, start):
        """Wait until the text of ``selector`` starts with ``start``."""
        self.wait("([sel, start]) => (document.querySelector(sel)?.textContent ?? '')"
                  ".startsWith(start)", [selector, start])
        assert self.page.text_content(selector).startswith(start)

    def close(self):
        self.context.close()


def related_ids(server, source, **params) -> list:
    response = server.get(f"/articles/{source}/related", params={"explain": "true", **params})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]

