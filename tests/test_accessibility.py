"""Accessible to every phone (issue 11 section 6): axe-core in headless Chromium.

axe-core is vendored for the tests only (``tests/vendor/axe.min.js``, MPL-2.0) and injected
into the page under test; the vote server never serves it. Every state of the audience page
(waiting, open, voted, hidden results, closed, the end), the vote server's ``/story/`` pages
and the ``cyoa export`` site must have no serious or critical violation. Then what a screen
reader needs: names on the buttons, live regions, and focus on the status after a vote.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT
from playwright.sync_api import Page, expect
from story_talk import Deck, a_path, shipped_story, start_vote_server

from cyoa.cli import main

pytestmark = pytest.mark.browser

AXE = ROOT / "tests" / "vendor" / "axe.min.js"
BLOCKING = ("serious", "critical")
WAIT = 30_000  # ms: a guard for a loaded machine; the phone polls every two seconds
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))
  }));
}"""


@pytest.fixture(scope="module")
def story():
    return shipped_story()


@pytest.fixture(scope="module")
def vote_server(tmp_path_factory, redis_url):
    server = start_vote_server(tmp_path_factory.mktemp("a11y-serve"), redis_url)
    yield server
    server.stop()


@pytest.fixture
def phone(browser):
    """A phone that lets the test inject axe-core (the pages' CSP would refuse it)."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, bypass_csp=True
    )
    yield context.new_page()
    context.close()


def violations(page: Page) -> list[dict]:
    """axe-core's serious and critical findings on the page as it is now."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(RUN_AXE)
    return [v for v in found if v["impact"] in BLOCKING]


def assert_accessible(page: Page, where: str) -> None:
    found = violations(page)
    assert found == [], f"{where}: " + "; ".join(
        f"{v['impact']} {v['id']} ({v['help']}) at {v['nodes']}" for v in found
    )


def test_axe_finds_nothing_serious_on_the_audience_page_in_any_state(
    vote_server, phone, story, talk_id
):
    server = vote_server
    deck = Deck(server.url, talk_id, story)
    phone.goto(server.url + "/")
    expect(phone.get_by_role("heading", name="Waiting for the next decision")).to_be_visible()
    assert_accessible(phone, "waiting")

    deck.open_decision("product")
    question = story.by_id["product"].choice.question
    expect(phone.locator("#question")).to_have_text(question, timeout=WAIT)
    assert_accessible(phone, "open")

    label = story.by_id["product"].choice.options[0].label
    phone.get_by_role("button", name=label, exact=True).click()
    expect(phone.locator("#results")).to_be_visible(timeout=WAIT)
    assert_accessible(phone, "voted")

    deck.close_decision("product")
    expect(phone.locator(".hint.closed")).to_be_visible(timeout=WAIT)
    assert_accessible(phone, "closed")

    hidden = story.decisions[1]
    deck.open_decision(hidden.id, hide_results=True)
    expect(phone.locator("#question")).to_have_text(hidden.choice.question, timeout=WAIT)
    phone.get_by_role("button", name=hidden.choice.options[1].label, exact=True).click()
    expect(phone.locator("#confirm")).to_contain_text("Vote counted", timeout=WAIT)
    expect(phone.locator("#results")).to_be_hidden()
    assert_accessible(phone, "hidden results")
    deck.close_decision(hidden.id)

    path = a_path(story)
    deck.show(path.ending, list(path.scenes))
    expect(phone.get_by_role("heading", name="The end")).to_be_visible(timeout=WAIT)
    assert_accessible(phone, "the end")


def test_a_screen_reader_hears_names_live_changes_and_its_own_vote(
    vote_server, phone, story, talk_id
):
    server = vote_server
    deck = Deck(server.url, talk_id, story)
    phone.goto(server.url + "/")
    expect(phone.locator("#announce")).to_have_attribute("aria-live", "polite")

    deck.open_decision("product")
    choice = story.by_id["product"].choice
    expect(phone.locator("#announce")).to_have_text(
        f"Voting is open: {choice.question}", timeout=WAIT
    )
    expect(phone.get_by_role("form", name=choice.question)).to_be_visible()
    buttons = phone.get_by_role("button")
    expect(buttons).to_have_count(len(choice.options))
    for option in choice.options:  # the number badge is hidden; the name is the label
        expect(phone.get_by_role("button", name=option.label, exact=True)).to_have_attribute(
            "aria-pressed", "false"
        )

    phone.keyboard.press("Tab")  # focus order: the options first, in order
    expect(phone.get_by_role("button", name=choice.options[0].label)).to_be_focused()
    phone.keyboard.press("Tab")
    expect(phone.get_by_role("button", name=choice.options[1].label)).to_be_focused()

    phone.keyboard.press("Enter")  # vote from the keyboard, as a screen reader user does
    status = phone.get_by_role("status").filter(has_text="Vote counted")
    expect(status).to_be_focused(timeout=WAIT)  # focus moves to what was counted
    expect(status).to_contain_text(choice.options[1].label)
    expect(phone.get_by_role("button", name=choice.options[1].label)).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(phone.locator("#results")).to_have_attribute("aria-live", "polite")
    expect(phone.get_by_role("region", name="Live results")).to_be_visible()

    path = a_path(story)
    deck.close_decision("product")
    deck.show(path.ending, list(path.scenes))
    expect(phone.locator("#announce")).to_have_text(re.compile("^The end"), timeout=WAIT)
    expect(phone.get_by_role("link", name=re.compile("^The whole story"))).to_be_visible()


def test_axe_finds_nothing_serious_on_the_story_pages(vote_server, phone, story, talk_id):
    server = vote_server
    deck = Deck(server.url, talk_id, story)
    path = a_path(story)
    deck.show(path.ending, list(path.scenes))
    decision = story.decisions[0].id
    for page in ("", "handout.html", f"scenes/{decision}.html", f"scenes/{path.ending}.html"):
        phone.goto(f"{server.url}/story/{page}")
        expect(phone.locator("main")).to_be_visible()
        assert_accessible(phone, f"/story/{page}")


def test_axe_finds_nothing_serious_on_the_exported_site(phone, story, tmp_path: Path):
    site = tmp_path / "site"
    answer = CliRunner().invoke(main, ["export", str(site)])
    assert answer.exit_code == 0, answer.output
    demo = next(scene.id for scene in story.scenes if scene.demo)
    decision = story.decisions[0].id
    for page in ("index.html", "handout.html", f"scenes/{decision}.html", f"scenes/{demo}.html"):
        phone.goto((site / page).as_uri())
        expect(phone.locator("main")).to_be_visible()
        assert_accessible(phone, page)
