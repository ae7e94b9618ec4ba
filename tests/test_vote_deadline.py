"""A poll's time limit is the vote server's: a real ``cyoa serve`` sets the deadline when the
poll opens, counts down in the results and on the phones' feed, refuses a late vote (web
or SMS) even though nobody closed the poll, and reports it closed with its final count.

Nothing here waits for a duration: the test waits until the server *says* the poll is
closed, with a generous guard."""

from __future__ import annotations

import json
import re

import pytest
import requests
from conftest import PRESENTER_TOKEN, TWILIO_TOKEN
from phones import Phone
from waiting import wait_until

from cyoa.voteserver.rehearse import send_sms

POLL = {
    "question": "Which way?",
    "options": [{"key": "1", "label": "Left"}, {"key": "2", "label": "Right"}],
}
GUARD = 30.0  # seconds: only a bound for a broken server, never a measured wait


class Presenter:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {PRESENTER_TOKEN}"

    def __call__(self, method: str, path: str, **kwargs) -> dict:
        response = self.http.request(method, self.url + path, timeout=10, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()


def public(server, poll: str) -> dict:
    response = requests.get(f"{server.url}/api/polls/{poll}", timeout=10)
    assert response.status_code == 200
    return response.json()


def test_a_timed_poll_counts_down_and_refuses_a_late_vote_nobody_closed(server) -> None:
    presenter, phone = Presenter(server.url), Phone(server.url, "127.0.9.1")
    presenter("put", "/api/polls/timed", json={**POLL, "time_limit": 3600})
    opened = presenter("post", "/api/polls/timed/open")
    assert opened["status"] == "open" and opened["time_limit"] == 3600
    assert 0 < opened["closes_in"] <= 3600 and opened["closes_at"] > 0

    # While it is open: votes count, and the phones see the seconds left.
    assert phone.load() == 200
    assert phone.vote("1")[1]["outcome"] == "counted"
    _, page = phone.request("GET", "/")  # the plain page (no JavaScript) says it as text
    left = re.search(r"Voting closes in\s*<b>(\d+)</b>", page.decode())
    assert left and 0 < int(left[1]) <= 3600, page.decode()
    _, feed = phone.request("GET", "/api/live")
    live = json.loads(feed)
    assert live["status"] == "open" and 0 < live["poll"]["closes_in"] <= 3600

    # A shorter limit counts from the next open: the open poll keeps its deadline.
    presenter("put", "/api/polls/timed", json={**POLL, "time_limit": 1})
    assert public(server, "timed")["closes_in"] > 1
    presenter("post", "/api/polls/timed/close")
    assert presenter("post", "/api/polls/timed/open")["closes_in"] <= 1

    results = wait_until(
        lambda: (r := public(server, "timed"))["status"] == "closed" and r, "the deadline"
    )
    assert results["winner"] == "1" and results["total"] == 1
    assert results["closes_in"] is None and results["closes_at"] > 0

    # Nobody closed it, and still: a late vote is refused, by the page and by SMS.
    state = presenter("get", "/api/state")
    assert state["open_poll"] == "timed"  # the talk still names it: no close was called
    status, answer = phone.vote("2", poll="timed")
    assert (status, answer["code"]) == (409, "closed"), answer
    sms = send_sms(server.url, "2", "+15550001111", TWILIO_TOKEN)
    assert sms.outcome == "not_open" and "closed" in sms.text, sms
    _, feed = phone.request("GET", "/api/live")
    live = json.loads(feed)
    assert live["status"] == "closed" and live["results"]["winner"] == "1"
    assert live["poll"]["closes_in"] is None
    _, page = phone.request("GET", "/")
    assert "Voting has closed." in page.decode() and "Voting closes in" not in page.decode()

    # The deck's close afterwards: the same final count, and the talk's open poll cleared.
    closed = presenter("post", "/api/polls/timed/close")
    assert (closed["status"], closed["winner"], closed["total"]) == ("closed", "1", 1)
    assert presenter("get", "/api/state")["open_poll"] == ""


def test_a_poll_without_a_limit_has_no_deadline(server) -> None:
    presenter = Presenter(server.url)
    presenter("put", "/api/polls/free", json=POLL)
    opened = presenter("post", "/api/polls/free/open")
    assert (opened["time_limit"], opened["closes_at"], opened["closes_in"]) == (None, None, None)


@pytest.mark.parametrize("limit", [0, -1, 1.5, "45", True, 86401])
def test_a_bad_time_limit_is_refused_and_changes_nothing(client, auth, limit) -> None:
    response = client.put("/api/polls/bad", json={**POLL, "time_limit": limit}, headers=auth)
    assert response.status_code == 400 and "time_limit" in response.get_json()["error"]
    assert client.get("/api/polls/bad").status_code == 404


def test_reset_gives_a_timed_out_poll_its_whole_time_again(client, auth) -> None:
    client.put("/api/polls/again", json={**POLL, "time_limit": 1}, headers=auth)
    first = client.post("/api/polls/again/open", headers=auth).get_json()["closes_at"]
    wait_until(
        lambda: client.get("/api/polls/again").get_json()["status"] == "closed", "the deadline"
    )
    reset = client.post("/api/polls/again/reset", headers=auth).get_json()
    # a new deadline, a whole limit from the reset, which came after the old deadline
    # (0.001: the deadline is stored to 14 digits)
    assert reset["closes_at"] >= first + 1 - 0.001
    assert reset["total"] == 0
