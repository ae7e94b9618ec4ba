"""A demo scene on stage: its recorded output in the slide at once, a live run on D.

The deck is driven in-process (no browser, no vote server needed for a demo scene); the live
run is the real nginx demo, and nothing it started may be left afterwards.
"""

from __future__ import annotations

import time
import uuid

import pytest
from test_demos import leftovers

from cyoa.deck import Deck, load_story
from cyoa.deck.demo import DemoPanel, product_for
from cyoa.deck.render import demo_html
from cyoa.demos.processes import OWNER_VAR

STORY = load_story()
SCENE = next(scene for scene in STORY.scenes if scene.demo == "nginx-502")


def deck_at_the_demo() -> Deck:
    deck = Deck(STORY, None)
    assert deck.act(f"jump:{SCENE.id}").outcome == "moved"
    return deck


def test_a_demo_scene_shows_its_recorded_output_at_once() -> None:
    deck = deck_at_the_demo()

    panel = deck.view.demo.value

    assert "recorded output · press D to run it live" in panel
    assert "502 Bad Gateway" in panel


@pytest.mark.slow
def test_d_runs_the_real_demo_into_the_slide_and_leaves_nothing(monkeypatch) -> None:
    token = f"test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(OWNER_VAR, token)
    deck = deck_at_the_demo()

    deck.act("demo")
    assert deck.demos.view(SCENE.demo)[0] in ("running", "done")  # nginx may be that quick
    deadline = time.monotonic() + 120
    while deck.demos.view(SCENE.demo)[0] != "done" and time.monotonic() < deadline:
        time.sleep(0.2)

    panel = deck.view.demo.value
    assert "live run" in panel
    assert "502 Bad Gateway" in panel and "✘" not in panel
    assert leftovers(token) == []


def test_a_demo_that_does_not_exist_yet_says_so() -> None:
    state, output = DemoPanel(STORY.root, lambda: None).view("kubernetes-someday")

    assert (state, output) == ("missing", "")
    assert "no demo yet" in demo_html("kubernetes-someday", output, state)


def test_the_pets_path_shows_the_pets_products_recording() -> None:
    deck = Deck(STORY, None)
    for scene in ("product", "pets", "pets-mvp"):
        assert deck.act(f"jump:{scene}").outcome == "moved"

    panel = deck.view.demo.value

    assert "Tinder for Pets" in panel
    assert "Dachshund Doc Send" not in panel


def test_the_doc_send_path_shows_its_own_recording_of_a_shared_demo() -> None:
    deck = Deck(STORY, None)
    for scene in ("product", "doc-send", "doc-send-mvp", "deploy-map", "nginx", "bad-gateway"):
        deck.act(f"jump:{scene}")
    on_doc_send = deck.view.demo.value
    pets = Deck(STORY, None)
    for scene in ("product", "pets", "pets-mvp", "deploy-map", "nginx", "bad-gateway"):
        pets.act(f"jump:{scene}")

    assert "(Dachshund Doc Send)" in on_doc_send and "Tinder for Pets" not in on_doc_send
    assert "(Tinder for Pets)" in pets.view.demo.value


def test_a_live_run_takes_the_product_of_the_path() -> None:
    assert product_for(["welcome", "product", "pets", "pets-mvp"]) == "pets"
    assert product_for(["welcome", "product", "doc-send"]) is None
