"""Two ``cyoa serve`` processes on one Redis behind the shipped nginx give the same answers.

The nginx is real and runs deploy/cyoa-vote.nginx as shipped, with the test's ports, folders
and an upstream of two servers (tests/test_deploy.py, ``nginx_conf``). Phones have addresses
of their own (tests/phones.py), as on a venue's Wi-Fi. nginx spreads requests over the two
servers; its access log (the test's own addition to the http block) says which server
answered each request, so every claim "from the other server" is checked, not assumed.
Nothing waits a fixed time: each check waits for the event (the servers' 1 s memory of the
current talk, their 0.25 s feed snapshots, nginx's 1 s feed cache).
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import PRESENTER_TOKEN, TWILIO_TOKEN, free_port
from phones import Phone, address
from test_deploy import start_nginx, stop_nginx
from twilio.request_validator import RequestValidator
from waiting import GUARD, wait_until

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {PRESENTER_TOKEN}"}
POLL = {
    "question": "Which way?",
    "options": [{"key": "1", "label": "Left"}, {"key": "2", "label": "Right"}],
}
# Which server answered: the request's probe id, the upstream, nginx's cache verdict.
LOG_FORMAT = "log_format probes '$http_x_probe $upstream_addr $upstream_cache_status';"
probes = itertools.count(1)


class ProbedPhone(Phone):
    """A phone whose every request carries an id, so nginx's log names the server."""

    last_probe = ""

    def request(self, method: str, path: str, body: str = "", headers: dict | None = None):
        self.last_probe = f"p{next(probes)}"
        return super().request(method, path, body, {**(headers or {}), "X-Probe": self.last_probe})

    def load(self) -> int:
        """``GET /``: the cookie, the CSRF token and the poll the page shows (the first
        form's: the page's <template>s hold blank copies of it for its script)."""
        status, html = self.request("GET", "/")
        page = html.decode()
        self.csrf = re.search(r'<meta name="csrf" content="([^"]*)"', page).group(1)
        shown = re.search(r'<input type="hidden" name="poll" value="([^"]*)"', page)
        self.poll = shown.group(1) if shown else ""
        return status


@dataclass
class Room:
    """nginx in front of two vote servers; what the access log says about each request."""

    url: str
    servers: dict[str, str]  # upstream address -> a name for messages
    log: Path

    def answered_by(self, probe: str) -> str:
        """The server that answered ``probe``: "a" or "b", or "cache" (nginx's own answer)."""

        def line() -> str:
            found = re.search(rf"^{probe} (\S+) (\S+)$", self.log.read_text(), re.MULTILINE)
            return found.group(1) if found else ""

        upstream = wait_until(line, f"nginx's log line for {probe}")
        return "cache" if upstream == "-" else self.servers[upstream]

    def presenter(self, method: str, path: str, **kwargs: Any) -> tuple[str, dict]:
        """A presenter call through nginx: the server that answered, and its JSON."""
        probe = f"p{next(probes)}"
        headers = {**AUTH, "X-Probe": probe}
        response = requests.request(method, self.url + path, headers=headers, timeout=10, **kwargs)
        assert response.status_code < 300, response.text
        return self.answered_by(probe), response.json()

    def from_both(
        self,
        ask: Callable[[], tuple[str, Any]],
        holds: Callable[[Any], bool],
        what: str,
        timeout: float = GUARD,
    ) -> dict[str, Any]:
        """Ask until each server has given an answer for which ``holds`` is true; then the
        answers, by server (an answer from before they caught up is not kept)."""
        latest: dict[str, Any] = {}

        def both() -> bool:
            server, answer = ask()
            if server != "cache" and holds(answer):
                latest[server] = answer
            return set(latest) == {"a", "b"}

        wait_until(both, f"both servers: {what}", timeout)
        return latest


@pytest.fixture
def room(start_server, server_env, tmp_path: Path, talk_id: str) -> Iterator[Room]:
    """Two servers on the session's Redis, nginx in front, this test's talk open for votes."""
    env = {**server_env, "CYOA_TRUST_PROXY": "1"}  # nginx's X-Forwarded-For is the phone
    first, second = start_server(env), start_server(env)
    prefix = tmp_path / "nginx"
    log = f"{LOG_FORMAT}\n    access_log {prefix}/logs/probes.log probes;"
    process, url = start_nginx(prefix, free_port(), [first.port, second.port], log)
    servers = {f"127.0.0.1:{first.port}": "a", f"127.0.0.1:{second.port}": "b"}
    try:
        yield open_room(Room(url, servers, prefix / "logs" / "probes.log"), talk_id)
    finally:
        stop_nginx(process)


def open_room(room: Room, talk_id: str) -> Room:
    """Start the talk and open its poll through nginx; once both servers show it."""
    room.presenter("POST", "/api/talks", json={"talk": talk_id})
    room.presenter("PUT", "/api/polls/way", json=POLL)
    room.presenter("POST", "/api/polls/way/open")

    # Each server remembers the current talk for a second: wait until both show the poll
    # (to a new phone each time: one that never comes back is not counted as present).
    def page() -> tuple[str, str]:
        newcomer = ProbedPhone(room.url, address(0, block=9))
        newcomer.load()
        return room.answered_by(newcomer.last_probe), newcomer.poll

    room.from_both(page, lambda poll: poll == "way", "the open poll on the page", 10)
    return room


def sms(room: Room, number: str, body: str) -> requests.Response:
    """A text as Twilio sends it through nginx, signed for the URL Twilio called."""
    url = room.url + "/sms"
    params = {
        "MessageSid": "SM" + number[-6:].rjust(32, "0"),
        "From": number,
        "Body": body,
        "To": "+15005550006",
        "AccountSid": "AC" + "2" * 32,
    }
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    return requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=10)


def test_votes_spread_over_both_servers_count_once_and_the_close_sees_every_one(room):
    """Many phones vote through nginx (a fifth change their minds), a few text: every vote
    acknowledged is in the tally once, whichever server took it, and the close says so."""

    def phone_votes(i: int) -> dict[str, Any]:
        phone = ProbedPhone(room.url, address(i))
        assert phone.load() == 200 and phone.poll == "way"
        choices = ["1" if i % 3 else "2"] + (["2" if i % 3 else "1"] if i % 5 == 0 else [])
        answers = []
        for choice in choices:
            status, answer = phone.vote(choice)
            assert status == 200, answer
            answers.append((room.answered_by(phone.last_probe), answer))
        return {"answers": answers, "final": answers[-1][1]["choice"]}

    with ThreadPoolExecutor(8) as pool:
        phones = list(pool.map(phone_votes, range(60)))
    answers = [answer for phone in phones for answer in phone["answers"]]
    outcomes = Counter(answer["outcome"] for _server, answer in answers)
    assert outcomes == {"counted": 60, "changed": 12}  # one ballot per phone, 12 changed
    assert {server for server, _answer in answers} == {"a", "b"}  # both servers took votes
    texts = [sms(room, f"+1555123{n:04d}", "Right") for n in range(3)]
    assert [t.headers.get("X-Cyoa-Outcome") for t in texts] == ["counted"] * 3, texts[0].text

    expected = Counter(phone["final"] for phone in phones) + Counter({"2": 3})
    expected_votes = {"1": expected["1"], "2": expected["2"]}

    def tally() -> tuple[str, dict]:
        return room.presenter("GET", "/api/polls/way")

    def counts(results: dict) -> dict[str, int]:
        return {o["key"]: o["votes"] for o in results["options"]}

    seen = room.from_both(tally, lambda r: r["total"] == 63, "the tally of 63 votes")
    assert [counts(r) for r in seen.values()] == [expected_votes, expected_votes]
    _server, closed = room.presenter("POST", "/api/polls/way/close")
    assert closed["status"] == "closed" and closed["total"] == 63  # 60 phones + 3 texts
    assert counts(closed) == expected_votes


def test_a_vote_changed_on_one_server_is_seen_changed_from_the_other(room):
    phone = ProbedPhone(room.url, address(0))
    phone.load()
    status, first = phone.vote("1")
    assert status == 200 and first["outcome"] == "counted"
    first_server = room.answered_by(phone.last_probe)

    def change() -> tuple[str, dict]:
        status, answer = phone.vote("2" if answer_log[-1]["choice"] == "1" else "1")
        assert status == 200, answer
        answer_log.append(answer)
        return room.answered_by(phone.last_probe), answer

    # Change it, back and forth, until the other server has taken a change.
    answer_log = [first]
    wait_until(lambda: change()[0] != first_server, "a change taken by the other server")
    changed = answer_log[-1]
    assert changed["outcome"] == "changed" and changed["previous"] != changed["choice"]
    label = {"1": "Left", "2": "Right"}[changed["choice"]]

    def page() -> tuple[str, str]:
        status, html = phone.request("GET", "/")
        assert status == 200
        return room.answered_by(phone.last_probe), html.decode()

    seen = room.from_both(page, lambda html: True, "the phone's page")
    for html in seen.values():  # each server shows the choice the other one took
        assert f"You chose “<b>{label}</b>”" in html
    _server, results = room.presenter("GET", "/api/polls/way")
    assert results["total"] == 1  # one phone, one ballot, however often it changed


def test_the_feed_through_nginx_is_the_same_from_both_servers(room):
    voters = [ProbedPhone(room.url, address(i)) for i in range(3)]
    for phone, choice in zip(voters, "121", strict=True):
        phone.load()  # the page remembers the open poll (its cyoa_poll cookie)
        assert phone.vote(choice)[0] == 200
    reader = voters[0]

    def feed() -> tuple[str, bytes]:
        status, body = reader.request("GET", "/api/live")
        assert status == 200
        return room.answered_by(reader.last_probe), body

    def says(status: str, total: int) -> Callable[[bytes], bool]:
        def holds(body: bytes) -> bool:
            data = json.loads(body)
            return data["status"] == status and (data["results"] or {}).get("total") == total

        return holds

    opened = room.from_both(feed, says("open", 3), "the feed with three votes")
    assert opened["a"] == opened["b"]  # the same bytes from either server
    data = json.loads(opened["a"])
    assert data["poll"]["id"] == "way" and data["results"]["votes"] == {"1": 2, "2": 1}
    # nginx's cached answer catches up too, and then every phone gets that one answer
    wait_until(lambda: feed() == ("cache", opened["a"]), "nginx's cache to hold it")

    room.presenter("POST", "/api/polls/way/close")
    closed = room.from_both(feed, says("closed", 3), "the feed after the close")
    assert closed["a"] == closed["b"]
    assert json.loads(closed["a"])["results"]["winner"] == "1"
    wait_until(lambda: feed() == ("cache", closed["a"]), "nginx's cache to say closed")
    stranger = ProbedPhone(room.url, address(7))  # never saw the poll: nothing to show

    def strangers_feed() -> tuple[str, str]:
        status, body = stranger.request("GET", "/api/live")
        assert status == 200
        return room.answered_by(stranger.last_probe), json.loads(body)["status"]

    assert strangers_feed()[1] == "waiting"
    wait_until(lambda: strangers_feed() == ("cache", "waiting"), "nginx's cache to hold it")
    # The page's script names the poll it saw open (no cookie): never the stranger's answer.
    named = ProbedPhone(room.url, address(8))
    status, body = named.request("GET", "/api/live?poll=way")
    assert status == 200 and json.loads(body)["status"] == "closed", body


def test_the_presenters_phone_count_counts_the_phones_of_both_servers(room):
    """A phone counts once it comes back with its cookie; nginx sends them to either server."""
    for i in range(12):
        phone = ProbedPhone(room.url, address(i))
        phone.load()  # the cookie
        # back with it (present) until the server this phone is meant to test marked it;
        # the other server may have marked it as well: it still counts once
        wanted = "ab"[i % 2]
        wait_until(
            lambda phone=phone, wanted=wanted: (
                phone.load() == 200 and room.answered_by(phone.last_probe) == wanted
            ),
            f"server {wanted} to mark phone {i}",
        )

    def state() -> tuple[str, dict]:
        return room.presenter("GET", "/api/state")

    counted = room.from_both(state, lambda s: s["audience"] >= 12, "the phone count")
    assert {s["audience"] for s in counted.values()} == {12}  # each phone once, from either
