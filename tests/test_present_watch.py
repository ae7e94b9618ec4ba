"""``cyoa present`` in Chromium, as an author rehearses: ``--watch`` shows each save in both
windows at the same scene, a broken story shows the checker's message on the slide and a
fix brings it back; a decision with a time limit counts down on the deck and on a phone,
keeps its counts hidden, and closes by itself.

Real processes all the way (``cyoa present`` with its vote server, embedded Redis and
Voilà; headless Chromium). Every step waits for what the page shows, with a generous
guard; nothing sleeps and no duration is asserted.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PRESENTER_TOKEN, free_port

from cyoa.cli import main
from cyoa.deck.harness import Presenting

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TITLE = "Watched"
SHOWN = 60_000  # ms: the guard for a change to show on a loaded 2-core machine


def present_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CYOA_", "TWILIO_"))}
    env.pop("REDIS_URL", None)
    env["CYOA_PRESENTER_TOKEN"] = PRESENTER_TOKEN
    return env


def new_story(tmp_path: Path) -> Path:
    folder = tmp_path / "talk"
    created = CliRunner().invoke(main, ["new", str(folder), "--title", TITLE])
    assert created.exit_code == 0, created.output
    return folder


def save(path: Path, text: str) -> None:
    """Save as an editor does: the whole new file at once (a rename)."""
    draft = path.with_name(f".{path.name}.draft")
    draft.write_text(text, encoding="utf-8")
    os.replace(draft, path)


def wait_text(page, selector: str, text: str, timeout: float = SHOWN) -> None:
    """Until the element ``selector`` contains ``text``."""
    page.wait_for_function(
        "([s, t]) => (document.querySelector(s)?.innerText || '').includes(t)",
        arg=[selector, text],
        timeout=timeout,
    )


def test_watch_shows_each_save_in_both_windows_and_the_checkers_message(
    tmp_path: Path, browser
) -> None:
    folder = new_story(tmp_path)
    decision = folder / "scenes" / "02-decision.md"
    text = decision.read_text(encoding="utf-8")
    run = Presenting(
        tmp_path / "state", free_port(), free_port(), present_env(), "--watch", "--rehearse",
        str(folder),
    )  # fmt: skip
    try:
        info = run.wait_ready()
        assert "watching:" in run.output()
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        deck, laptop = context.new_page(), context.new_page()
        deck.goto(info["deck_url"])
        wait_text(deck, ".cyoa-title", TITLE, timeout=120_000)
        deck.keyboard.press("ArrowRight")  # the decision: the place an edit must keep
        wait_text(deck, ".cyoa-title", "Which way?")
        wait_text(deck, ".cyoa-state", "voting open")
        laptop.goto(info["presenter_url"])
        wait_text(laptop, ".cyoa-presenter", "Which way?", timeout=120_000)

        save(decision, text.replace("title: Which way?", "title: Stairs or lift?"))
        wait_text(deck, ".cyoa-title", "Stairs or lift?")
        wait_text(laptop, ".cyoa-presenter", "Stairs or lift?")
        wait_text(deck, ".cyoa-state", "voting open")  # the same scene, its vote still open

        save(decision, text.replace("goto: lift", "goto: nowhere"))
        wait_text(deck, ".cyoa-title", "The story does not check")
        wait_text(deck, ".cyoa-problems", "broken link: option 2 goes to 'nowhere'")
        assert "scenes/02-decision.md:" in deck.inner_text(".cyoa-problems")
        wait_text(laptop, ".cyoa-problems", "broken link")

        save(decision, text)
        wait_text(deck, ".cyoa-title", "Which way?")
        deck.wait_for_selector(".cyoa-problems", state="detached", timeout=SHOWN)
        wait_text(deck, ".cyoa-state", "voting open")
        laptop.wait_for_selector(".cyoa-problems", state="detached", timeout=SHOWN)
        context.close()
        assert run.stop() == 0, run.output()
    finally:
        run.kill()


def test_a_timed_hidden_vote_counts_down_on_deck_and_phone_then_closes_itself(
    tmp_path: Path, browser, phone
) -> None:
    folder = new_story(tmp_path)
    decision = folder / "scenes" / "02-decision.md"
    text = decision.read_text(encoding="utf-8")
    settings = "  time_limit: 45\n  hide_results: true\n  options:"
    save(decision, text.replace("  options:", settings, 1))
    run = Presenting(
        tmp_path / "state", free_port(), free_port(), present_env(), "--rehearse", str(folder)
    )
    try:
        info = run.wait_ready()
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        deck = context.new_page()
        deck.goto(info["deck_url"])
        wait_text(deck, ".cyoa-title", TITLE, timeout=120_000)
        deck.keyboard.press("ArrowRight")
        wait_text(deck, ".cyoa-state", "voting open")
        deck.wait_for_function(
            "() => /^0:[0-4][0-9] left$/.test("
            "document.querySelector('.cyoa-countdown')?.innerText || '')",
            timeout=SHOWN,
        )

        # The phone counts down on its own clock from what the server said.
        phone.goto(run.vote_url + "/")
        first = int(phone.inner_text("#countdown b"))
        assert 0 < first <= 45
        phone.wait_for_function(
            "n => Number(document.querySelector('#countdown b')?.innerText) < n",
            arg=first,
            timeout=SHOWN,
        )
        phone.click("button[name=choice][value='2']")
        wait_text(phone, "#confirm", "Take the lift")
        assert phone.locator("#results").is_hidden()  # hidden until the close

        # The projector shows no count while the vote is open.
        wait_text(deck, ".cyoa-hidden", "results when the vote closes")
        assert deck.query_selector(".cyoa-total") is None
        assert deck.query_selector(".cyoa-votes") is None

        # Nobody presses anything: the time runs out, the vote closes, the count shows.
        wait_text(deck, ".cyoa-state", "vote closed", timeout=45_000 + SHOWN)
        wait_text(deck, ".cyoa-total", "1")
        wait_text(deck, ".cyoa-winner", "Take the lift")
        wait_text(deck, ".cyoa-message", "Time is up")
        wait_text(phone, "main", "Voting has closed.")
        wait_text(phone, "#results", "Take the lift (winner)")
        context.close()
        assert run.stop() == 0, run.output()
    finally:
        run.kill()
