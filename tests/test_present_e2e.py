"""A talk from end to end: ``cyoa present``, the deck in Chromium, phones and SMS voting.

Real processes all the way: the vote server under its WSGI server with the embedded Redis,
Voilà with a real kernel, headless Chromium for the projector and for a phone.
"""

from __future__ import annotations

import os
import signal
import time
from urllib.parse import urlsplit

import psutil
import pytest
from conftest import PRESENTER_TOKEN, TWILIO_TOKEN, free_port, present_env

from cyoa.deck.harness import Presenting
from cyoa.story.loader import default_story_path, load_story
from cyoa.voteserver.rehearse import send_sms

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STORY = load_story(default_story_path())
DECISION = STORY.decisions[0]
WINNER, OTHER = DECISION.choice.options[1], DECISION.choice.options[0]


@pytest.fixture
def presenting(tmp_path):
    run = Presenting(tmp_path / "state", free_port(), free_port(), present_env())
    try:
        run.wait_ready()
        yield run
    finally:
        run.kill()


def network_host(url: str) -> str:
    """The host a request went to; "" for data: and blob: URLs (they never leave the page)."""
    parts = urlsplit(url)
    return parts.netloc if parts.scheme in ("http", "https", "ws", "wss") else ""


def wait_title(page, text: str, timeout: float = 60_000) -> None:
    page.wait_for_function(
        "t => document.querySelector('.cyoa-title')?.innerText === t", arg=text, timeout=timeout
    )


def test_a_talk_from_first_slide_to_a_clean_stop(presenting: Presenting, browser, phone) -> None:
    info = presenting.info
    assert urlsplit(info["audience_url"]).port == presenting.port
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    deck = context.new_page()
    hosts: set[str] = set()
    deck.on("request", lambda request: hosts.add(network_host(request.url)))

    # Walk to the first decision with the keyboard.
    deck.goto(info["deck_url"])
    wait_title(deck, STORY.scene(STORY.start).title, timeout=60_000)
    # The keys reach the kernel through the controller widget: a key pressed before it
    # is drawn goes nowhere (a busy machine draws the title first).
    deck.wait_for_selector(".cyoa-controller", state="attached")
    scene = STORY.scene(STORY.start)
    while scene.choice is None:
        deck.keyboard.press("ArrowRight")
        scene = STORY.scene(scene.next)
        wait_title(deck, scene.title)
    deck.wait_for_selector(".cyoa-options", state="visible")
    deck.wait_for_function(
        "() => document.querySelector('.cyoa-state')?.innerText === 'voting open'"
    )
    assert "+15005550006" in deck.inner_text(".cyoa-join")
    assert deck.query_selector(".cyoa-qr svg") is not None

    # A phone votes on the audience page; two texts come in by SMS.
    phone.goto(presenting.vote_url + "/")
    phone.click(f"button[name=choice][value='{WINNER.key}']")
    phone.wait_for_load_state()
    for sender, body in (("+15550000001", WINNER.key), ("+15550000002", OTHER.key)):
        assert send_sms(presenting.vote_url, body, sender, TWILIO_TOKEN).outcome == "counted"
    deck.wait_for_function("() => document.querySelector('.cyoa-total')?.innerText === '3'")
    deck.wait_for_function(
        "want => [...document.querySelectorAll('.js-plotly-plot text.bartext')]"
        ".map(e => e.textContent).join(',') === want",
        arg="1,2",
    )

    # Close the vote: the winner shows, and next goes down the winning branch.
    deck.keyboard.press("c")
    deck.wait_for_selector(".cyoa-winner")
    assert WINNER.label in deck.inner_text(".cyoa-winner")
    deck.keyboard.press("ArrowRight")
    wait_title(deck, STORY.scene(WINNER.goto).title)

    # A reload resumes at the same scene, with the path.
    deck.reload()
    wait_title(deck, STORY.scene(WINNER.goto).title, timeout=60_000)

    # The vote server hangs: a badge, and the presenter still picks by hand.
    presenting.child_group("voteserver", signal.SIGSTOP)
    try:
        deck.keyboard.press("ArrowLeft")
        wait_title(deck, DECISION.title, timeout=5_000)
        deck.wait_for_selector(".cyoa-offline", timeout=30_000)
        deck.keyboard.press("1")  # a pick by hand never waits on the frozen server
        wait_title(deck, STORY.scene(OTHER.goto).title, timeout=30_000)
    finally:
        presenting.child_group("voteserver", signal.SIGCONT)

    # Nothing was fetched from anywhere but this machine's deck server.
    assert hosts - {""} == {f"127.0.0.1:{presenting.deck_port}"}, hosts
    context.close()

    # Ctrl-C stops every process it started, and frees the ports.
    assert presenting.stop() == 0, presenting.output()
    deadline = time.monotonic() + 10
    while presenting.leftovers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert presenting.leftovers() == []


def test_a_second_run_says_one_is_up(presenting: Presenting) -> None:
    env = {**os.environ, "CYOA_PRESENTER_TOKEN": PRESENTER_TOKEN}
    second = Presenting(presenting.state_dir, free_port(), free_port(), env)
    assert second.process.wait(timeout=60) != 0
    assert "already running" in second.output()
    assert presenting.process.poll() is None


def test_from_a_scene_and_the_presenter_view_steers_the_deck(tmp_path, browser) -> None:
    rehearsed = STORY.scene(OTHER.goto)  # a branch the room did not take
    target = STORY.endings[-1]
    run = Presenting(
        tmp_path / "state", free_port(), free_port(), present_env(), "--from", rehearsed.id
    )
    try:
        info = run.wait_ready()
        assert info["scene"] == rehearsed.id
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        deck, presenter = context.new_page(), context.new_page()
        deck.goto(info["deck_url"])
        wait_title(deck, rehearsed.title, timeout=60_000)

        # The laptop's window: this scene's notes, and the controls.
        presenter.goto(info["presenter_url"])
        presenter.wait_for_selector(".cyoa-presenter", timeout=60_000)
        presenter.wait_for_function(
            "id => document.querySelector('.cyoa-presenter')?.innerText.includes(id)",
            arg=f"({rehearsed.id}, step 1)",
        )
        presenter.select_option(".cyoa-jump select", label=f"{target.title} ({target.id})")
        presenter.click("button:has-text('Jump')")
        wait_title(deck, target.title)  # the projector follows the presenter's jump
        presenter.click("button:has-text('Back')")
        wait_title(deck, rehearsed.title)

        # At a decision the presenter sees how many phones have the page open, and the cap.
        presenter.select_option(".cyoa-jump select", label=f"{DECISION.title} ({DECISION.id})")
        presenter.click("button:has-text('Jump')")
        wait_title(deck, DECISION.title)
        presenter.wait_for_function(
            "() => document.querySelector('.cyoa-presenter')?.innerText"
            ".includes('0 phones with the audience page open')",
            timeout=60_000,
        )
        # The cap is in the poll's sources report, fetched apart from the phone count.
        presenter.wait_for_function(
            "() => document.querySelector('.cyoa-presenter')?.innerText"
            ".includes('voters per address: 5')",
            timeout=60_000,
        )
        phone = context.new_page()
        phone.goto(info["vote_url"] + "/")  # its live feed comes back with the cookie
        presenter.wait_for_function(
            "() => document.querySelector('.cyoa-presenter')?.innerText"
            ".includes('1 phone with the audience page open')",
            timeout=60_000,
        )
        context.close()
    finally:
        run.kill()


def test_a_pre_heated_kernel_that_dies_is_replaced_not_served_blank(
    presenting: Presenting, browser
) -> None:
    voila = psutil.Process(presenting.info["children"]["voila"])
    kernels = [p for p in voila.children(recursive=True) if "ipykernel" in " ".join(p.cmdline())]
    assert len(kernels) == 2  # the deck's and the presenter view's, both pre-heated
    for kernel in kernels:
        kernel.kill()
    log = presenting.state_dir / "logs" / "voila.log"
    deadline = time.monotonic() + 30  # Jupyter's restarter looks once a second
    while log.read_text().count("died; replacing it") < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert log.read_text().count("died; replacing it") == 2

    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(presenting.info["deck_url"])
    wait_title(page, STORY.scene(STORY.start).title, timeout=60_000)  # not a blank page
    page.close()


def test_ctrl_c_stops_a_run_started_as_a_background_job(tmp_path) -> None:
    run = Presenting(
        tmp_path / "state", free_port(), free_port(), present_env(), sigint_ignored=True
    )
    try:
        run.wait_ready()
        assert run.stop(timeout=30) == 0, run.output()
        deadline = time.monotonic() + 10
        while run.leftovers() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert run.leftovers() == []
    finally:
        run.kill()
