"""``cyoa present --watch`` in the deck's kernel, without a browser: a save reloads the story
at the same scene in both windows, a save that does not check puts the checker's messages
on the slide (never a dead deck), and the next good save brings the slides back.

Real files, the real watcher (``story.watch``) on its own thread; each step waits for the
deck to show the change, with a generous guard, never for a fixed time.
"""

from __future__ import annotations

import html
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import PRESENTER_TOKEN
from waiting import wait_until as wait

from cyoa.deck import Deck, VoteClient
from cyoa.deck.reload import PLACEHOLDER
from cyoa.story.loader import load_story


def save(path: Path, text: str) -> None:
    """Save as an editor does: the whole new file at once (a rename)."""
    draft = path.with_name(f".{path.name}.draft")
    draft.write_text(text, encoding="utf-8")
    os.replace(draft, path)


@pytest.fixture
def story_dir(tmp_path: Path) -> Path:
    from click.testing import CliRunner

    from cyoa.cli import main

    folder = tmp_path / "talk"
    assert CliRunner().invoke(main, ["new", str(folder), "--title", "Watched"]).exit_code == 0
    return folder


@pytest.fixture
def decks() -> Iterator[list[Deck]]:
    """Decks the test made; their watchers are stopped after it."""
    made: list[Deck] = []
    yield made
    for deck in made:
        if deck.reloader is not None:
            deck.reloader.close()


def watching(decks: list[Deck], deck: Deck, root: Path) -> Deck:
    decks.append(deck)
    reloader = deck.watch(root)
    wait(lambda: reloader.reloads >= 1, "the watcher's first check")
    return deck


def test_a_save_reloads_both_windows_at_the_same_scene(story_dir: Path, decks) -> None:
    story = load_story(story_dir)
    deck = watching(decks, Deck(story), story_dir)
    presenter = watching(decks, Deck(story, presenter=True), story_dir)
    for window in (deck, presenter):
        window.act("next")  # to the decision: the position an edit must keep
    decision = story_dir / "scenes" / "02-decision.md"
    text = decision.read_text(encoding="utf-8")

    save(decision, text.replace("title: Which way?", "title: Stairs or lift?"))
    wait(lambda: "Stairs or lift?" in deck.view.slide.value, "the edit on the projector")
    wait(lambda: "Stairs or lift?" in presenter.view.current.value, "the edit on the laptop")
    assert deck.talk.scene.id == presenter.talk.scene.id == "decision"
    assert deck.talk.path == ["title", "decision"]

    save(decision, text.replace("goto: lift", "goto: nowhere"))
    wait(lambda: "The story does not check" in deck.view.slide.value, "the checker's message")
    slide = deck.view.slide.value
    assert "scenes/02-decision.md:" in slide and "broken link: option 2 goes to" in slide
    assert "The talk stays at “Stairs or lift?”" in slide  # the last good story's scene
    assert deck.view.decision.layout.display == "none"  # the message, not a half slide
    wait(lambda: "broken link" in presenter.view.current.value, "the message on the laptop")
    assert deck.act("pick:1").outcome == "moved"  # keys still work on the last good story
    assert deck.act("back").outcome == "moved"

    save(decision, text)
    wait(lambda: "Which way?" in deck.view.slide.value, "the slide back")
    wait(lambda: "broken link" not in presenter.view.current.value, "the laptop's slide back")
    assert "does not check" not in deck.view.slide.value
    assert deck.talk.scene.id == "decision" and deck.view.decision.layout.display == "flex"


def test_an_image_edit_shows_too(story_dir: Path, decks) -> None:
    deck = watching(decks, Deck(load_story(story_dir)), story_dir)
    deck.act("jump:lift")  # the branch with the image
    before = deck.view.slide.value
    image = story_dir / "images" / "map.svg"
    save(image, image.read_text(encoding="utf-8").replace("</svg>", "<circle r='3'/></svg>"))
    wait(lambda: deck.view.slide.value != before, "the new image inlined")


@pytest.fixture
def kernel_env(story_dir: Path, monkeypatch) -> None:
    """The environment ``cyoa present --watch`` gives a deck kernel, without a vote server."""
    for name in ("CYOA_VOTE_URL", "CYOA_READY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CYOA_STORY", str(story_dir))
    monkeypatch.setenv("CYOA_WATCH", "1")


def test_a_kernel_started_on_a_story_that_does_not_load_shows_why_then_the_talk(
    story_dir: Path, decks, kernel_env
) -> None:
    """A page reloaded while the story is broken gets a new kernel: never a dead one."""
    title = story_dir / "scenes" / "01-title.md"
    text = title.read_text(encoding="utf-8")
    save(title, text.replace("next: decision", "next: [decision"))

    deck = Deck.from_env()
    decks.append(deck)
    assert deck.placeholder and deck.talk.scene.id == PLACEHOLDER
    slide = html.unescape(deck.view.slide.value)
    assert "scenes/01-title.md:" in slide and "front matter is not valid YAML" in slide
    assert "The talk stays at" not in slide  # there is no talk's scene yet
    assert deck.act("next").outcome == "end"  # keys do nothing harmful

    save(title, text)
    wait(lambda: not deck.placeholder, "the story loaded")
    wait(lambda: "Watched" in deck.view.slide.value, "the title slide")
    assert deck.talk.scene.id == "title" and deck.story.title == "Watched"


def test_a_kernel_started_on_a_story_that_loads_but_does_not_check_keeps_it(
    story_dir: Path, decks, kernel_env
) -> None:
    title = story_dir / "scenes" / "01-title.md"
    text = title.read_text(encoding="utf-8")
    save(title, text.replace("next: decision", "next: nowhere"))

    deck = Deck.from_env()
    decks.append(deck)
    assert not deck.placeholder and deck.talk.scene.id == "title"
    slide = html.unescape(deck.view.slide.value)
    assert "broken link: next 'nowhere' is not a scene" in slide
    assert "The talk stays at “Watched”" in slide
    assert deck.act("next").outcome == "stay"  # not into a scene that is not there
    assert deck.talk.scene.id == "title"

    save(title, text)
    wait(lambda: "does not check" not in deck.view.slide.value, "the title slide")
    assert deck.act("next").outcome == "moved" and deck.talk.scene.id == "decision"


def test_a_decisions_edited_settings_reach_the_vote_server(
    story_dir: Path, decks, start_server, talk_id
) -> None:
    server = start_server()
    auth = {"Authorization": f"Bearer {PRESENTER_TOKEN}"}
    assert requests.post(
        server.url + "/api/talks", json={"talk": talk_id}, headers=auth, timeout=10
    ).ok
    deck = Deck(load_story(story_dir), VoteClient(server.url, PRESENTER_TOKEN))
    watching(decks, deck, story_dir)
    deck.controller.last_beat = time.monotonic()
    deck.act("next")
    deck.sync.tick()
    poll = deck.talk.poll
    assert deck.client.results(poll)["hide_results"] is False

    decision = story_dir / "scenes" / "02-decision.md"
    text = decision.read_text(encoding="utf-8")
    save(decision, text.replace('  default: "1"', '  default: "1"\n  hide_results: true'))
    wait(lambda: deck.talk.choice.hide_results, "the reloaded decision")
    deck.sync.tick()
    results = deck.client.results(poll)
    assert results["hide_results"] is True and results["status"] == "open"
    assert "results when the vote closes" in deck.view.status.value
