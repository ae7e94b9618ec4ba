"""The sync loop needs only :class:`cyoa.deck.sync.SyncedDeck` from a deck, so it can be read
and tested alone: here it keeps a bare stand-in deck (no widgets, no page) in step with a
real vote server over real HTTP, and the real Deck is checked to offer all of it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from conftest import PRESENTER_TOKEN
from deck_protocols import deck_members_used, protocol_members
from werkzeug.serving import make_server

from cyoa.deck import Deck, VoteClient, load_story
from cyoa.deck import sync as sync_module
from cyoa.deck.machine import Talk
from cyoa.deck.sync import Sync, SyncedDeck
from cyoa.story.model import Story

MEMBERS = protocol_members(SyncedDeck)


def test_the_loop_uses_nothing_of_a_deck_beyond_the_protocol():
    assert deck_members_used(sync_module) == MEMBERS


def test_the_real_deck_offers_every_member_of_the_protocol():
    deck = Deck(load_story(), None)
    missing = {name for name in MEMBERS if not hasattr(deck, name)}
    assert missing == set()
    assert callable(deck.controller.alive)


@dataclass
class BareDeck:
    """A deck with nothing but what the loop needs: no widgets, no page, no template."""

    story: Story
    client: VoteClient | None
    talk: Talk = field(init=False)
    lock: threading.RLock = field(default_factory=threading.RLock)
    placeholder: bool = False
    watches_sources: bool = False
    talk_started: float = 0.0
    rehearsal: bool = False
    audience: int | None = None
    sources: dict | None = None
    refreshed: int = 0
    errors: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.talk = Talk(self.story)
        self.controller = self  # its own heartbeat: always alive

    def alive(self, timeout: float) -> bool:
        return True

    def refresh(self) -> None:
        self.refreshed += 1

    def fetch_qr(self) -> None:
        pass

    def note_error(self, error: BaseException) -> None:
        self.errors.append(error)


@pytest.fixture
def vote_url(app) -> Iterator[str]:
    """The test's app behind a real HTTP server in this process."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def test_the_loop_keeps_a_bare_deck_in_step_with_the_server(vote_url, store, talk_id):
    story = load_story()
    deck: SyncedDeck = BareDeck(story, VoteClient(vote_url, PRESENTER_TOKEN))
    sync = Sync(deck)
    while deck.talk.choice is None:
        deck.talk.next(online=True)
    sync.tick()
    poll = deck.talk.poll
    assert store.results(talk_id, poll)["status"] == "open"  # the loop opened it
    state = store.get_state(talk_id)
    assert (state.scene, state.path) == (deck.talk.scene.id, list(deck.talk.path))
    assert deck.talk_started == state.clock and deck.audience == 0
    assert deck.refreshed >= 1 and deck.errors == []
    store.put_state(talk_id, story.start, [story.start])  # another window moved the talk
    sync.tick()
    assert deck.talk.scene.id == story.start
