"""The deck against a real vote server, without a browser: polls, tallies, two windows, offline.

The sync loop's ``tick`` is called by hand, so each step is deterministic.
"""

from __future__ import annotations

import time

from conftest import PRESENTER_TOKEN, TWILIO_TOKEN

from cyoa.deck import Deck, VoteClient, load_story
from cyoa.voteserver.rehearse import send_sms


def deck_for(server, presenter: bool = False) -> Deck:
    client = VoteClient(server.url, PRESENTER_TOKEN)
    deck = Deck(load_story(), client, audience_url=server.url + "/", presenter=presenter)
    deck.controller.last_beat = time.monotonic()
    return deck


def walk_to_decision(deck: Deck) -> None:
    while deck.talk.choice is None:
        assert deck.act("next").outcome == "moved"
    deck.sync.tick()


def test_a_decision_opens_its_poll_counts_votes_and_follows_the_winner(server) -> None:
    deck = deck_for(server)
    walk_to_decision(deck)
    poll = deck.talk.poll
    results = deck.client.results(poll)
    assert results["status"] == "open"
    assert [o["label"] for o in results["options"]] == [o.label for o in deck.talk.choice.options]
    for number, body in enumerate(["2", "2", "1"]):
        reply = send_sms(server.url, body, f"+1555000{number:04d}", TWILIO_TOKEN)
        assert reply.outcome == "counted", reply
    deck.sync.tick()
    assert deck.talk.tally().total == 3
    assert list(deck.view.chart.data[0].y) == [1, 2]
    assert "<svg" in deck.view.join.value and server.url.split("://")[1] in deck.view.join.value
    assert deck.act("next").outcome == "closing"
    deck.sync.tick()
    assert deck.client.results(poll)["status"] == "closed"
    assert "Winner" in deck.view.status.value
    assert deck.act("next").outcome == "moved"
    assert deck.talk.scene.id == deck.talk.story.scene("product").choice.option("2").goto
    deck.sync.tick()
    state = deck.client.state()
    assert state["scene"] == deck.talk.scene.id and state["path"] == deck.talk.path


def test_a_new_deck_resumes_and_two_windows_follow_each_other(server) -> None:
    projector = deck_for(server)
    walk_to_decision(projector)
    presenter = deck_for(server, presenter=True)  # a reload, or the laptop's window
    assert presenter.talk.path == projector.talk.path
    presenter.act("pick:1")
    presenter.sync.tick()
    projector.sync.tick()
    assert projector.talk.scene.id == presenter.talk.scene.id == "pets"
    assert projector.client.results("product")["status"] == "closed"
    assert "pets" in presenter.view.current.value.lower()


def test_the_deck_stays_usable_when_the_vote_server_dies(server) -> None:
    deck = deck_for(server)
    walk_to_decision(deck)
    server.stop()
    deck.sync.tick()
    assert deck.client.offline and "offline" in deck.view.badge.value
    assert deck.act("next").outcome == "closing"  # closes locally: no final count will come
    assert deck.act("next").outcome in ("pick", "confirm")  # nobody voted: presenter decides
    assert deck.act("pick:2").outcome == "moved"


def test_the_loop_ends_without_heartbeats(server) -> None:
    deck = deck_for(server)
    deck.sync.timeout = 0.5
    deck.sync.start()
    assert deck.sync.running
    deck.sync._thread.join(timeout=60)  # the event: the loop ends by itself (60 s: a guard)
    assert not deck.sync.running
