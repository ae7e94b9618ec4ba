"""A phone draws each opening and close from the live feed, in headless Chromium.

A room of phones that all load the page at each opening queued the votes behind those page
loads (bench/README.md, "Rooms"). So the page's script draws a poll that opens or closes
from the feed's answer, with the page's own templates, and loads the page only when it must
(its cookie or CSRF token refused). These tests record every request the phone makes and
check what its user sees: the same buttons and results the server would render, and no page
load after the first while the talk moves on.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import requests
from conftest import PRESENTER_TOKEN
from playwright.sync_api import Page, Request, expect

pytestmark = pytest.mark.browser

WAIT = 15_000  # ms: a guard for a loaded machine; the phone asks the feed every ~1.5 s
FIRST = {
    "question": "What did you build?",
    "options": [
        {"key": "1", "label": "Tinder for Pets"},
        {"key": "2", "label": "Dachshund Doc Send"},
    ],
}
SECOND = {
    "question": "Where does it run?",
    "options": [
        {"key": "a", "label": "A laptop"},
        {"key": "b", "label": "A VPS"},
        {"key": "c", "label": "A Raspberry Pi <b>"},  # text, never markup
    ],
    "time_limit": 3600,
    "hide_results": True,
}
# The drawn page as a list of elements: tag, attributes, own text (whitespace folded).
OUTLINE = """el => [...el.querySelectorAll('*')].map(e => [
    e.tagName,
    [...e.attributes].map(a => a.name + '=' + a.value).sort().join(' '),
    e.closest('#countdown b') ? 'seconds left' :  // counted on each side's own clock
    [...e.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('')
        .replace(/\\s+/g, ' ').trim(),
])"""


class Presenter:
    """The deck's side: the presenter API over real HTTP, with the bearer token."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {PRESENTER_TOKEN}"

    def call(self, method: str, path: str, **kwargs) -> dict:
        response = self.http.request(method, self.url + path, timeout=10, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()

    def open(self, poll: str, definition: dict) -> None:
        self.call("put", f"/api/polls/{poll}", json=definition)
        self.call("post", f"/api/polls/{poll}/open")

    def close(self, poll: str) -> None:
        self.call("post", f"/api/polls/{poll}/close")

    def votes(self, poll: str) -> dict[str, int]:
        body = self.call("get", f"/api/polls/{poll}")
        return {o["key"]: o["votes"] for o in body["options"]}


def page_loads(page: Page) -> list[str]:
    """The page's own loads of ``GET /`` (the document and any fetch of it), from now on."""
    loads: list[str] = []

    def seen(request: Request) -> None:
        if request.method == "GET" and urlsplit(request.url).path == "/":
            loads.append(request.resource_type)

    page.on("request", seen)
    return loads


def script_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def server_outline(phone: Page) -> list:
    """What the server renders for this phone now (same cookies), in a tab of its own."""
    tab = phone.context.new_page()
    try:
        tab.goto(phone.url)
        return tab.eval_on_selector("#app", OUTLINE)
    finally:
        tab.close()


def test_a_phone_draws_openings_and_closes_from_the_feed_without_loading_the_page(
    phone: Page, server
):
    presenter = Presenter(server.url)
    loads = page_loads(phone)
    errors = script_errors(phone)
    phone.goto(server.url + "/")
    expect(phone.get_by_role("heading", name="Waiting for the next decision")).to_be_visible()

    presenter.open("product", FIRST)
    first = phone.get_by_role("button", name="Tinder for Pets")
    expect(first).to_be_visible(timeout=WAIT)
    expect(phone.locator("#announce")).to_have_text("Voting is open: What did you build?")
    expect(phone).to_have_title("Vote: What did you build?")
    expect(phone.get_by_role("form", name="What did you build?")).to_be_visible()
    expect(phone.locator("footer.sms")).to_have_text(
        re.compile(r"No signal\? Text 1 or 2 to \+15005550006\.")
    )
    # Drawn from the feed with the page's templates: what the server itself would render.
    assert phone.eval_on_selector("#app", OUTLINE) == server_outline(phone)

    first.tap()
    expect(phone.locator("#confirm")).to_have_text(re.compile("Vote counted: “Tinder for Pets”"))
    expect(first).to_have_attribute("aria-pressed", "true")
    results = phone.get_by_role("region", name="Live results")
    expect(results).to_contain_text("Total: 1 vote")
    assert presenter.votes("product") == {"1": 1, "2": 0}

    presenter.close("product")
    expect(phone.locator("main").get_by_text("Voting has closed.")).to_be_visible(timeout=WAIT)
    expect(phone.locator("#announce")).to_have_text("Voting has closed.")
    final = phone.get_by_role("region", name="Final results")
    expect(final).to_contain_text("Tinder for Pets (winner)")
    expect(final).to_contain_text("1 (100%)")
    expect(phone.locator("#confirm")).to_have_text("You chose “Tinder for Pets”.")
    expect(phone.get_by_role("button")).to_have_count(0)
    expect(phone.locator("footer.sms")).to_contain_text("You can also vote by text message")
    assert phone.eval_on_selector("#app", OUTLINE) == server_outline(phone)

    presenter.open("stack", SECOND)  # the next decision: new options, the old choice gone
    expect(phone.get_by_role("heading", name="Where does it run?")).to_be_visible(timeout=WAIT)
    buttons = phone.get_by_role("button")
    expect(buttons).to_have_text([re.compile(o["label"], re.I) for o in SECOND["options"]])
    expect(phone.get_by_role("button", name="A Raspberry Pi <b>")).to_be_visible()
    for button in buttons.all():
        expect(button).to_have_attribute("aria-pressed", "false")
    expect(phone.locator("#confirm")).to_have_text("")
    expect(phone.locator("#results")).to_be_hidden()
    expect(phone.get_by_text("Results appear when voting closes.")).to_be_visible()
    expect(phone.get_by_role("timer")).to_contain_text(
        re.compile(r"Voting closes in\s+\d+ seconds")
    )
    expect(phone.locator("footer.sms")).to_contain_text("Text 1, 2 or 3 to")
    assert phone.eval_on_selector("#app", OUTLINE) == server_outline(phone)

    phone.get_by_role("button", name="A VPS").tap()
    expect(phone.locator("#confirm")).to_have_text(re.compile("Vote counted: “A VPS”"))
    expect(phone.locator("#results")).to_be_hidden()  # hidden until the close
    assert presenter.votes("stack") == {"a": 0, "b": 1, "c": 0}
    assert presenter.votes("product") == {"1": 1, "2": 0}  # the first vote untouched

    assert loads == ["document"]  # one page load, at the start: every change was drawn
    assert errors == []


def test_a_phone_whose_cookie_was_dropped_fetches_the_page_once_and_votes(phone: Page, server):
    presenter = Presenter(server.url)
    presenter.open("product", FIRST)
    loads = page_loads(phone)
    errors = script_errors(phone)
    phone.goto(server.url + "/")
    expect(phone.get_by_role("button", name="Dachshund Doc Send")).to_be_visible()

    phone.context.clear_cookies()  # the browser dropped its cookies (privacy settings, ...)
    phone.get_by_role("button", name="Dachshund Doc Send").tap()
    flash = phone.get_by_role("alert")
    expect(flash).to_have_text(re.compile("this page had expired"), timeout=WAIT)
    assert presenter.votes("product") == {"1": 0, "2": 0}

    phone.get_by_role("button", name="Dachshund Doc Send").tap()  # a fresh cookie and token
    expect(phone.locator("#confirm")).to_have_text(re.compile("Vote counted: “Dachshund"))
    assert presenter.votes("product") == {"1": 0, "2": 1}
    assert loads == ["document", "fetch"]  # the first load, then the page once, to recover
    assert errors == [] or all("403" in e for e in errors)  # the refused vote's console line
