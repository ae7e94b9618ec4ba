"""From ``cyoa new`` to a vote: the new story checks, and ``cyoa present`` runs it at once.

Real processes all the way: ``cyoa present`` with its vote server, embedded Redis and Voilà,
headless Chromium as the projector and as a phone that votes.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import PRESENTER_TOKEN, free_port

from cyoa.cli import main
from cyoa.deck.harness import Presenting
from cyoa.story.loader import load_story

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TITLE = "A talk of my own"


def present_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CYOA_", "TWILIO_"))}
    env.pop("REDIS_URL", None)
    env["CYOA_PRESENTER_TOKEN"] = PRESENTER_TOKEN
    return env


def wait_title(page, text: str, timeout: float = 60_000) -> None:
    page.wait_for_function(
        "t => document.querySelector('.cyoa-title')?.innerText === t", arg=text, timeout=timeout
    )


def test_a_new_story_is_checked_presented_and_voted_on(tmp_path: Path, browser, phone) -> None:
    folder = tmp_path / "talk"
    runner = CliRunner()
    created = runner.invoke(main, ["new", str(folder), "--title", TITLE])
    assert created.exit_code == 0, created.stderr
    checked = runner.invoke(main, ["check", str(folder)])
    assert checked.exit_code == 0, checked.stderr
    assert checked.stdout.rstrip().endswith("OK: no errors, 0 warnings.")

    story = load_story(folder)
    (decision,) = story.decisions
    assert decision.choice is not None
    lift = decision.choice.options[1]
    run = Presenting(
        tmp_path / "state", free_port(), free_port(), present_env(), "--rehearse", str(folder)
    )
    try:
        info = run.wait_ready()
        assert info["scene"] == story.start
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        deck = context.new_page()
        deck.goto(info["deck_url"])
        wait_title(deck, TITLE, timeout=90_000)  # the first slide: the title scene
        # The keys reach the kernel through the controller widget: a key pressed before it
        # is drawn goes nowhere (a busy machine draws the title first).
        deck.wait_for_selector(".cyoa-controller", state="attached")
        assert "Vote from your phone" in deck.inner_text(".cyoa-body")
        assert "Only you see this" not in deck.inner_text("body")  # notes stay off the slide

        deck.keyboard.press("ArrowRight")
        wait_title(deck, decision.title)
        deck.wait_for_selector(".cyoa-options", state="visible")
        deck.wait_for_function(
            "() => document.querySelector('.cyoa-state')?.innerText === 'voting open'"
        )

        # A phone votes for the lift on the audience page; the deck counts it.
        phone.goto(run.vote_url + "/")
        phone.click(f"button[name=choice][value='{lift.key}']")
        phone.wait_for_load_state()
        deck.wait_for_function("() => document.querySelector('.cyoa-total')?.innerText === '1'")

        deck.keyboard.press("c")  # close the vote: the room's pick wins over the default
        deck.wait_for_selector(".cyoa-winner")
        assert lift.label in deck.inner_text(".cyoa-winner")
        deck.keyboard.press("ArrowRight")
        wait_title(deck, story.scene(lift.goto).title)
        deck.wait_for_selector("img.cyoa-image")  # the story's own image, inlined

        # Back, and the other branch by hand: its demo shows the story's recording.
        stairs = decision.choice.options[0]
        deck.keyboard.press("ArrowLeft")
        wait_title(deck, decision.title)
        deck.keyboard.press(stairs.key)
        wait_title(deck, story.scene(stairs.goto).title)
        deck.wait_for_function(
            "() => document.querySelector('.cyoa-demo')?.innerText.includes('Hello, room!')"
        )
        context.close()
        assert run.stop() == 0, run.output()
    finally:
        run.kill()
