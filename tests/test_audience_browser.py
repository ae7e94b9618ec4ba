"""The audience page in headless Chromium on a phone-sized screen, against `cyoa serve`."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import requests
from conftest import PRESENTER_TOKEN
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

POLL = {
    "question": "What did you build?",
    "options": [
        {"key": "1", "label": "Tinder for Pets"},
        {"key": "2", "label": "Dachshund Doc Send"},
    ],
}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}


class Presenter:
    """The deck's side: the presenter API over real HTTP, with the bearer token."""

    def __init__(self, url: str, talk: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {PRESENTER_TOKEN}"
        self.call("post", "/api/talks", json={"talk": talk})  # the talk the phones see

    def call(self, method: str, path: str, **kwargs) -> dict:
        response = self.http.request(method, self.url + path, timeout=5, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()

    def open(self, poll: str = "product", **extra) -> None:
        self.call("put", f"/api/polls/{poll}", json={**POLL, **extra})
        self.call("post", f"/api/polls/{poll}/open")

    def close(self, poll: str = "product") -> None:
        self.call("post", f"/api/polls/{poll}/close")

    def votes(self, poll: str = "product") -> dict[str, int]:
        body = self.call("get", f"/api/polls/{poll}")
        return {o["key"]: o["votes"] for o in body["options"]}


@pytest.fixture
def server(start_server):
    return start_server()


@pytest.fixture
def presenter(server, talk_id: str) -> Presenter:
    return Presenter(server.url, talk_id)


def record_traffic(page: Page) -> tuple[list[str], list[str]]:
    """Every URL the page asks for, and every script error or CSP violation it logs."""
    urls: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return urls, errors


def contrast(page: Page, selector: str) -> float:
    """WCAG contrast ratio of an element's text against its (first opaque) background."""
    fg, bg = page.eval_on_selector(
        selector,
        """el => {
            const fg = getComputedStyle(el).color;
            let node = el, bg = 'rgba(0, 0, 0, 0)';
            while (node && /rgba\\(.*, 0\\)$|transparent/.test(bg)) {
                bg = getComputedStyle(node).backgroundColor; node = node.parentElement;
            }
            return [fg, node ? bg : 'rgb(255, 255, 255)'];
        }""",
    )

    def luminance(css: str) -> float:
        channels = [int(c) / 255 for c in re.findall(r"\d+", css)[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_phone_follows_the_talk_votes_changes_and_sees_the_close(
    phone: Page, server, presenter: Presenter, tmp_path
):
    urls, errors = record_traffic(phone)
    phone.goto(server.url + "/")
    expect(phone.get_by_role("heading", name="Waiting for the next decision")).to_be_visible()

    presenter.open()  # the page notices by itself, without a reload
    first = phone.get_by_role("button", name=re.compile("Tinder for Pets"))
    expect(first).to_be_visible(timeout=8000)
    expect(phone.get_by_role("heading", name="What did you build?")).to_be_visible()
    for button in phone.get_by_role("button").all():
        assert button.bounding_box()["height"] >= 48
    assert contrast(phone, "button.choice") >= 4.5
    assert contrast(phone, "h1") >= 7

    first.tap()
    confirm = phone.locator("#confirm")
    expect(confirm).to_have_text(re.compile("Vote counted: “Tinder for Pets”"))
    expect(first).to_have_attribute("aria-pressed", "true")
    assert contrast(phone, "[aria-pressed=true]") >= 4.5
    assert contrast(phone, "[aria-pressed=true] .mine") >= 4.5
    results = phone.get_by_role("region", name="Live results")
    expect(results).to_contain_text("1 (100%)")
    expect(results).to_contain_text("Total: 1 vote")
    assert presenter.votes() == {"1": 1, "2": 0}
    phone.screenshot(path=str(tmp_path / "phone.png"), full_page=True)

    other = requests.Session()  # a second phone votes: the first one's results follow
    page = other.get(server.url + "/", timeout=5).text
    csrf = re.search(r'name="csrf" content="([^"]+)"', page).group(1)
    other.post(server.url + "/vote", data={"poll": "product", "choice": "2", "csrf": csrf})
    expect(results).to_contain_text("Total: 2 votes", timeout=8000)

    phone.get_by_role("button", name=re.compile("Dachshund")).focus()
    phone.keyboard.press("Enter")  # keyboard works too; focus is visible
    expect(confirm).to_have_text(re.compile("Vote changed to “Dachshund Doc Send”"))
    outline = phone.eval_on_selector(":focus", "el => getComputedStyle(el).outlineStyle")
    assert outline == "solid"
    expect(results).to_contain_text("2 (100%)")
    assert presenter.votes() == {"1": 0, "2": 2}

    presenter.close()
    expect(phone.locator("main").get_by_text("Voting has closed.")).to_be_visible(timeout=8000)
    expect(phone.locator("#announce")).to_have_text("Voting has closed.")  # screen readers
    expect(phone.get_by_role("region", name="Final results")).to_contain_text(
        "Dachshund Doc Send (winner)"
    )
    expect(phone.locator("#confirm")).to_have_text("You chose “Dachshund Doc Send”.")
    expect(phone.get_by_role("button", name=re.compile("Tinder"))).to_have_count(0)

    assert errors == []
    assert urls and all(
        urlsplit(u).scheme == "data" or urlsplit(u).hostname == "127.0.0.1" for u in urls
    )


def test_a_phone_without_javascript_votes_with_plain_forms(browser, server, presenter: Presenter):
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    urls, _ = record_traffic(page)
    try:
        presenter.open(hide_results=True)
        page.goto(server.url + "/")
        page.get_by_role("button", name=re.compile("Dachshund")).tap()
        expect(page.get_by_text("Thanks! Your vote is counted.")).to_be_visible()
        expect(page.locator("#confirm")).to_contain_text("You chose “Dachshund Doc Send”")
        expect(page.get_by_text("Results appear when voting closes.")).to_be_visible()
        expect(page.locator("#results")).to_be_hidden()
        page.get_by_role("button", name=re.compile("Tinder")).tap()
        expect(page.get_by_text("Your vote is changed.")).to_be_visible()
        assert presenter.votes() == {"1": 1, "2": 0}

        presenter.close()  # the page refreshes itself and shows the final result
        expect(page.get_by_text("Voting has closed.")).to_be_visible(timeout=10_000)
        expect(page.get_by_role("region", name="Final results")).to_contain_text("1 (100%)")
        assert all(urlsplit(u).hostname == "127.0.0.1" for u in urls if "data:" not in u)
    finally:
        context.close()
