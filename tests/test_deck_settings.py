"""A decision's settings, from the story through the deck to a real vote server, without a
browser: a hide-results vote keeps its counts off the projector until the final count, and
a timed vote counts down and closes by itself, the deck deciding on its close call's answer.

The sync loop's ``tick`` is called by hand, so each step is deterministic; a short time
limit is waited for by ticking until the deck has the final count (the guard is a bound,
never a measured wait).
"""

from __future__ import annotations

import re
import time
from dataclasses import replace

import requests
from conftest import PRESENTER_TOKEN, TWILIO_TOKEN

from cyoa.deck import Deck, VoteClient, load_story
from cyoa.story.model import Story
from cyoa.voteserver.rehearse import send_sms

SHIPPED = load_story()
DECISION = SHIPPED.decisions[0]
AUTH = {"Authorization": f"Bearer {PRESENTER_TOKEN}"}


def with_settings(**settings) -> Story:
    """The shipped story, its first decision with these settings (as a story file says)."""
    scenes = tuple(
        replace(s, choice=replace(s.choice, **settings)) if s.id == DECISION.id else s
        for s in SHIPPED.scenes
    )
    return replace(SHIPPED, scenes=scenes)


def deck_at_decision(server, story: Story, presenter: bool = False) -> Deck:
    deck = Deck(story, VoteClient(server.url, PRESENTER_TOKEN), presenter=presenter)
    deck.audience_url = server.url + "/"
    deck.controller.last_beat = time.monotonic()
    while deck.talk.choice is None:
        assert deck.act("next").outcome == "moved"
    deck.sync.tick()
    return deck


def tick_until(deck: Deck, done, what: str, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not done():
        assert time.monotonic() < deadline, f"never happened: {what}"
        deck.sync.tick()


def texts(server, *bodies: str) -> None:
    for number, body in enumerate(bodies):
        reply = send_sms(server.url, body, f"+1555020{number:04d}", TWILIO_TOKEN)
        assert reply.outcome == "counted", reply


def test_hide_results_keeps_counts_off_the_projector_until_the_final_count(server) -> None:
    story = with_settings(hide_results=True)
    deck = deck_at_decision(server, story)
    presenter = deck_at_decision(server, story, presenter=True)
    poll = deck.talk.poll
    assert deck.client.results(poll)["hide_results"] is True  # the deck told the server
    texts(server, "1", "1", "2")
    deck.sync.tick()
    presenter.sync.tick()
    assert deck.talk.tally().votes == {"1": 2, "2": 1}  # the deck knows; the room does not

    view = deck.view
    assert "cyoa-votes" not in view.options.value
    assert "cyoa-total" not in view.status.value
    assert "results when the vote closes" in view.status.value
    assert view.chart_box.layout.display == "none"
    assert list(view.chart.data[0].y) == [0, 0]  # not even hidden bars carry the counts
    room = requests.get(f"{server.url}/api/polls/{poll}", timeout=5).json()
    assert room["total"] is None and {o["votes"] for o in room["options"]} == {None}
    assert '<span class="cyoa-votes">2</span>' in presenter.view.live.value  # the laptop sees
    assert "The room sees no counts until the close." in presenter.view.live.value

    deck.act("close")
    tick_until(deck, lambda: deck.talk.tally().final, "the final count")
    assert '<span class="cyoa-votes">2</span>' in view.options.value
    assert '<span class="cyoa-total">3</span>' in view.status.value
    assert view.chart_box.layout.display == "flex" and list(view.chart.data[0].y) == [2, 1]
    assert "Winner" in view.status.value


def test_a_time_limit_counts_down_on_the_deck_and_in_the_presenter_view(server) -> None:
    story = with_settings(time_limit=3600)
    deck = deck_at_decision(server, story)
    presenter = deck_at_decision(server, story, presenter=True)
    results = deck.client.results(deck.talk.poll)
    assert results["status"] == "open" and results["time_limit"] == 3600
    for view in (deck.view.status.value, presenter.view.live.value):
        left = re.search(r'class="cyoa-countdown">(\d+):(\d\d) left', view)
        assert left and 0 < int(left[1]) * 60 + int(left[2]) <= 3600, view

    deck.act("close")  # closed by hand before the time is up: the countdown goes
    tick_until(deck, lambda: deck.talk.tally().final, "the final count")
    assert "cyoa-countdown" not in deck.view.status.value


def test_a_vote_whose_time_runs_out_is_closed_by_the_deck_on_the_final_count(server) -> None:
    deck = deck_at_decision(server, with_settings(time_limit=1))
    poll = deck.talk.poll
    tick_until(deck, lambda: deck.talk.tally().final, "the close after the time limit")

    results = deck.client.results(poll)
    assert (results["status"], results["time_limit"], results["total"]) == ("closed", 1, 0)
    state = requests.get(server.url + "/api/state", headers=AUTH, timeout=5).json()
    assert state["open_poll"] == ""  # the deck closed it (a read alone leaves it named)
    status = deck.view.status.value
    assert "vote closed" in status and "Time is up" in status and "cyoa-countdown" not in status
    default = DECISION.choice.option(DECISION.choice.default)
    assert deck.act("next").outcome == "confirm"  # nobody voted: the default, confirmed
    assert deck.act("next").outcome == "moved" and deck.talk.scene.id == default.goto
