"""The deck on stage: a vote decided only by the server's final count, a badge that does not
flicker, and the presenter's reset, clock and phone count, against a real vote server."""

from __future__ import annotations

import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from conftest import PRESENTER_TOKEN, TWILIO_TOKEN
from waiting import wait_until

from cyoa.deck import Deck, VoteClient, load_story
from cyoa.deck.deck import NO_PHONES_WARNING
from cyoa.voteserver.rehearse import send_sms

STORY = load_story()


def deck_at_decision(server, presenter: bool = False) -> Deck:
    deck = Deck(STORY, VoteClient(server.url, PRESENTER_TOKEN), presenter=presenter)
    deck.audience_url = server.url + "/"
    deck.controller.last_beat = time.monotonic()
    while deck.talk.choice is None:
        assert deck.act("next").outcome == "moved"
    deck.sync.tick()
    assert deck.client.results(deck.talk.poll)["status"] == "open"
    return deck


def texts(server, *bodies: str) -> None:
    for number, body in enumerate(bodies):
        reply = send_sms(server.url, body, f"+1555010{number:04d}", TWILIO_TOKEN)
        assert reply.outcome == "counted", reply


def tick_until(deck: Deck, done, what: str, limit: float = 30.0) -> None:
    """Run sync ticks (each one a round trip) until ``done()``; the limit is only a guard."""
    deadline = time.monotonic() + limit
    while not done():
        assert time.monotonic() < deadline, f"never happened: {what}"
        deck.sync.tick()


def test_a_frozen_server_at_the_close_means_a_manual_pick_never_an_old_tally(server) -> None:
    deck = deck_at_decision(server)
    texts(server, "1", "1", "2")
    deck.sync.tick()
    assert deck.talk.tally().votes == {"1": 2, "2": 1}  # the tally polled before the close

    os.killpg(server.process.pid, signal.SIGSTOP)  # one long fsync at the worst moment
    try:
        assert deck.act("next").outcome == "closing"
        deck.sync.tick()  # the close call gets no answer, even retried
        assert deck.client.offline and "offline" in deck.view.badge.value
        step = deck.act("next")
        assert step.outcome == "pick" and "No final count" in step.message
        assert deck.talk.scene.id == "product" and deck.talk.decided() is None
        assert "No final count" in deck.view.status.value
    finally:
        os.killpg(server.process.pid, signal.SIGCONT)

    tick_until(deck, lambda: deck.talk.tally().final, "the final count after the close")
    final = deck.client.results("product")
    assert final["status"] == "closed"
    assert deck.talk.tally().votes == {o["key"]: o["votes"] for o in final["options"]}
    expected = STORY.scene("product").choice.option(final["winner"])
    assert deck.act("next").outcome == "moved"
    assert deck.talk.scene.id == expected.goto


def test_reset_votes_forgets_the_rehearsal_and_opens_the_vote_again(server) -> None:
    deck = deck_at_decision(server, presenter=True)
    texts(server, "1", "2", "2")
    deck.act("close")
    tick_until(deck, lambda: deck.talk.tally().final, "the close")
    assert deck.talk.tally().total == 3

    assert deck.act("reset").outcome == "reset"
    deck.sync.tick()
    results = deck.client.results("product")
    assert results["status"] == "open" and results["total"] == 0
    assert deck.talk.tally().total == 0 and not deck.talk.is_closed()
    texts(server, "1")  # the same phones may vote again
    deck.sync.tick()
    assert deck.talk.tally().votes == {"1": 1, "2": 0}


def test_restart_clock_starts_the_presenters_clock_again(server) -> None:
    deck = deck_at_decision(server, presenter=True)
    auth = {"Authorization": f"Bearer {PRESENTER_TOKEN}"}
    before = requests.get(server.url + "/api/state", headers=auth, timeout=5).json()["clock"]
    assert deck.talk_started == before > 0
    deck.act("clock")
    deck.sync.tick()
    after = requests.get(server.url + "/api/state", headers=auth, timeout=5).json()["clock"]
    assert after > before and deck.talk_started == after
    assert not deck.sync.restart_clock  # done once, not on every tick


def test_the_presenter_sees_how_many_phones_have_the_page_open(server) -> None:
    deck = deck_at_decision(server, presenter=True)
    deck.sync.tick()
    assert "0 phones with the audience page open" in deck.view.phones.value
    assert "can phones reach" not in deck.view.phones.value  # the panel has just gone up
    later = deck.sync.arrived_at + NO_PHONES_WARNING + 1
    warning = deck.phones_html(now=later)
    assert "can phones reach" in warning and server.url in warning

    phone = requests.Session()  # a phone joins: the page, then its live feed, with the cookie
    assert phone.get(server.url + "/", timeout=5).status_code == 200
    assert phone.get(server.url + "/api/live", timeout=5).status_code == 200
    deck.sync.tick()
    assert "1 phone with the audience page open" in deck.view.phones.value
    assert "can phones reach" not in deck.phones_html(now=later)


class _Gated(BaseHTTPRequestHandler):
    """/slow answers 200 once the test opens the gate; /ok answers 200, /broken 503."""

    gate = threading.Event()

    def do_GET(self) -> None:
        if self.path == "/slow":
            self.gate.wait(30)
        self.send_response(503 if self.path == "/broken" else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def gated():
    _Gated.gate = threading.Event()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Gated)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Gated.gate
    _Gated.gate.set()
    httpd.shutdown()
    httpd.server_close()


def _call_in_thread(client: VoteClient, path: str) -> threading.Thread:
    thread = threading.Thread(target=client.call, args=("GET", path))
    thread.start()
    return thread


def _wait_until_sent(client: VoteClient, calls: int) -> None:
    wait_until(lambda: client._started >= calls, f"{calls} calls sent")


def test_an_old_answer_cannot_flip_the_offline_badge(gated) -> None:
    url, gate = gated
    client = VoteClient(url, timeout=10)
    slow = _call_in_thread(client, "/slow")  # started first, answers last
    _wait_until_sent(client, 1)
    assert client.call("GET", "/broken") is None  # a newer call: the server is failing
    assert client.offline
    gate.set()
    slow.join()
    assert client.offline and client.error == "HTTP 503"  # the old success changed nothing
    assert client.call("GET", "/ok") is not None and not client.offline


def test_an_old_failure_cannot_flip_the_badge_to_offline(gated) -> None:
    url, _gate = gated
    client = VoteClient(url, timeout=0.5)
    slow = _call_in_thread(client, "/slow")  # will time out, after the newer call answered
    _wait_until_sent(client, 1)
    assert client.call("GET", "/ok", timeout=10) is not None
    slow.join()
    assert not client.offline  # the stale timeout did not undo the newer answer


def test_the_presenter_sees_the_cap_at_work_lifts_it_and_discards_a_source(server) -> None:
    """A script on one address: the cap stops it, the presenter sees it and acts."""
    from phones import Phone

    deck = deck_at_decision(server, presenter=True)
    script = [Phone(server.url, "127.0.77.1") for _ in range(8)]  # cookie-less reloads
    answers = []
    for phone in script:
        phone.load()
        answers.append(phone.vote("2")[0])
    assert answers.count(200) == 5 and set(answers[5:]) == {403}  # the default cap: 5
    deck.sync.tick()
    report = deck.view.sources.value
    assert "voters per address: 5" in report and "3 refused" in report
    assert "the cap refused 3 votes" in report  # an alert, in the presenter's words
    assert deck.view.suspects.options == (deck.suspects()[0],)
    assert deck.view.moderation.layout.display == "flex"

    deck.act("lift-cap")  # the room shares one connection after all
    deck.sync.tick()
    assert "voters per address: no cap" in deck.view.sources.value
    late = Phone(server.url, "127.0.77.1")
    late.load()
    assert late.vote("2")[0] == 200
    assert deck.client.results("product")["total"] == 6

    deck.act(f"discard:{deck.view.suspects.options[0]}")  # no: it was a prankster
    deck.sync.tick()
    results = deck.client.results("product")
    assert results["total"] == 0 and deck.talk.tally().total == 0
    assert "6 discarded" in deck.view.sources.value
    again = Phone(server.url, "127.0.77.1")
    again.load()
    assert again.vote("2")[0] == 403  # blocked for this poll
    assert deck.suspects() == []  # a blocked source is not offered again
