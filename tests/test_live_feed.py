"""The page's feed from real ``cyoa serve`` processes: one answer for the whole room.

``GET /api/live`` is answered before Flask from a snapshot each worker shares between its
phones (voteserver/live.py): every phone gets the same bytes and ETag, its own choice stays
on its page, counts follow the votes within a moment, and two server processes on one Redis
say the same thing. Nothing here waits a fixed time: each check waits for the event.
"""

from __future__ import annotations

import re

import pytest
import requests
from conftest import PRESENTER_TOKEN, SECRET_KEY
from waiting import wait_until

from cyoa.voteserver import voters
from cyoa.voteserver.live import LiveFeed

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {PRESENTER_TOKEN}"}
POLL = {
    "question": "Which way?",
    "options": [{"key": "1", "label": "Left"}, {"key": "2", "label": "Right"}],
}
JSON = {"Accept": "application/json"}


def presenter(url: str, method: str, path: str, **kwargs) -> dict:
    response = requests.request(method, url + path, headers=AUTH, timeout=10, **kwargs)
    assert response.status_code < 300, response.text
    return response.json()


class Phone:
    """A phone with the page open: its cookies, its CSRF token, its feed."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.csrf = ""

    def load(self) -> str:
        page = self.http.get(self.url + "/", timeout=10)
        assert page.status_code == 200
        self.csrf = re.search(r'<meta name="csrf" content="([^"]+)"', page.text).group(1)
        return page.text

    def feed(self, etag: str = "") -> requests.Response:
        headers = {"If-None-Match": etag} if etag else {}
        response = self.http.get(self.url + "/api/live", headers=headers, timeout=10)
        assert response.status_code in (200, 304), response.text
        return response

    def vote(self, choice: str) -> dict:
        data = {"poll": "way", "choice": choice, "csrf": self.csrf}
        response = self.http.post(self.url + "/vote", data=data, headers=JSON, timeout=10)
        assert response.status_code == 200, response.text
        return response.json()


def test_every_phone_gets_the_same_feed_and_keeps_its_own_choice(server):
    left, right, stranger = Phone(server.url), Phone(server.url), Phone(server.url)
    presenter(server.url, "PUT", "/api/polls/way", json=POLL)
    for phone in (left, right):
        phone.load()
    presenter(server.url, "POST", "/api/polls/way/open")
    wait_until(lambda: left.feed().json()["status"] == "open", "the opening in the feed")
    for phone in (left, right):
        phone.load()  # the page's swap: the page now shows the poll (and remembers it)

    assert left.vote("1")["outcome"] == "counted"
    assert right.vote("2")["outcome"] == "counted"

    def both_counted() -> dict | None:
        answers = [p.feed() for p in (left, right, stranger)]
        bodies = {a.content for a in answers}
        data = answers[0].json()
        return data if len(bodies) == 1 and data["results"]["total"] == 2 else None

    live = wait_until(both_counted, "both votes in one feed for every phone")
    assert "choice" not in live  # the phone's own choice is on its page, not in the feed
    assert live["results"]["votes"] == {"1": 1, "2": 1}
    assert live["poll"]["id"] == "way" and live["poll"]["closes_in"] is None
    assert "You chose “<b>Left</b>”" in left.load()  # the page still knows whose is whose
    assert "You chose “<b>Right</b>”" in right.load()

    etag = left.feed().headers["ETag"]
    assert right.feed().headers["ETag"] == etag  # one answer, one ETag for the room
    unchanged = right.feed(etag)
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["ETag"] == etag

    presenter(server.url, "POST", "/api/polls/way/close")
    closed = wait_until(
        lambda: (d := left.feed().json())["status"] == "closed" and d, "the close in the feed"
    )
    assert closed["results"]["votes"] == {"1": 1, "2": 1} and closed["results"]["winner"] is None
    # The closed poll is shown to the phones that saw it open (their cookie), and only them.
    # (Each worker has its own snapshot: the other may say it a moment later.)
    wait_until(lambda: right.feed().json() == closed, "the close for the other phone")
    assert stranger.feed().json() == {"status": "waiting", "poll": None, "results": None}


def test_hidden_counts_stay_out_of_the_feed_until_the_close(server):
    phone = Phone(server.url)
    presenter(server.url, "PUT", "/api/polls/way", json={**POLL, "hide_results": True})
    presenter(server.url, "POST", "/api/polls/way/open")
    phone.load()
    phone.vote("2")
    opened = wait_until(
        lambda: (d := phone.feed().json())["status"] == "open" and d, "the opening in the feed"
    )
    assert opened["results"] is None and opened["poll"]["hide_results"] is True
    presenter(server.url, "POST", "/api/polls/way/close")
    closed = wait_until(
        lambda: (d := phone.feed().json())["status"] == "closed" and d, "the close in the feed"
    )
    assert closed["results"] == {"votes": {"1": 0, "2": 1}, "total": 1, "winner": "2"}


def test_two_server_processes_on_one_redis_give_the_same_feed(start_server, talk_id):
    first, second = start_server(), start_server()  # same env: same REDIS_URL
    presenter(first.url, "POST", "/api/talks", json={"talk": talk_id})
    presenter(second.url, "PUT", "/api/polls/way", json=POLL)
    presenter(first.url, "POST", "/api/polls/way/open")
    phones = [Phone(first.url), Phone(second.url), Phone(first.url)]
    for phone, choice in zip(phones, "121", strict=True):
        phone.load()
        phone.vote(choice)

    def agreed() -> bytes | None:
        answers = [phone.feed() for phone in phones]
        bodies = {a.content for a in answers}
        etags = {a.headers["ETag"] for a in answers}
        done = len(bodies) == len(etags) == 1 and answers[0].json()["results"]["total"] == 3
        return answers[0].content if done else None

    body = wait_until(agreed, "both servers' feeds to agree on three votes")
    assert b'"votes":{"1":2,"2":1}' in body


def test_a_phone_that_drew_the_opening_names_the_poll_to_see_its_close(server):
    """The page's script draws an opening from the feed (no page load sets the ``cyoa_poll``
    cookie), so it names the poll it saw open: ``?poll=``, which wins over the cookie."""
    drawn, stranger = Phone(server.url), Phone(server.url)
    presenter(server.url, "PUT", "/api/polls/old", json=POLL)
    presenter(server.url, "POST", "/api/polls/old/open")
    drawn.load()  # the page during an earlier poll: its cookie names that one
    presenter(server.url, "PUT", "/api/polls/way", json=POLL)
    presenter(server.url, "POST", "/api/polls/way/open")
    wait_until(lambda: drawn.feed().json()["poll"]["id"] == "way", "the opening in the feed")
    assert drawn.vote("2")["outcome"] == "counted"
    presenter(server.url, "POST", "/api/polls/way/close")

    def close_of_way() -> dict | None:
        answer = drawn.http.get(server.url + "/api/live?poll=way", timeout=10)
        assert answer.status_code == 200, answer.text
        data = answer.json()
        return data if data["status"] == "closed" else None

    closed = wait_until(close_of_way, "the close of the poll the phone names")
    assert closed["poll"]["id"] == "way"  # not "old", the poll its cookie names
    assert closed["results"] == {"votes": {"1": 0, "2": 1}, "total": 1, "winner": "2"}
    assert drawn.feed().json()["poll"]["id"] == "old"  # without ?poll=, its cookie as before
    assert stranger.feed().json()["status"] == "waiting"  # nothing named: nothing shown


@pytest.mark.parametrize("query", ["poll=../etc", "poll=a%20b", "poll=way&poll=old"])
def test_a_feed_request_naming_no_poll_is_refused_with_a_reason(server, query):
    phone = Phone(server.url)
    phone.load()  # with a cookie (its first feed request per worker goes through Flask)
    for _ in range(3):  # and without one (answered before Flask)
        for http in (phone.http, requests):
            answer = http.get(f"{server.url}/api/live?{query}", timeout=10)
            assert answer.status_code == 400
            assert "poll must be a poll id" in answer.json()["error"]


def test_a_forged_voter_cookie_on_the_feed_counts_no_phone(server):
    def phones() -> int:
        return presenter(server.url, "GET", "/api/state")["audience"]

    def feed(cookie: str) -> None:
        answer = requests.get(
            server.url + "/api/live", headers={"Cookie": f"cyoa_voter={cookie}"}, timeout=10
        )
        assert answer.status_code == 200, answer.text

    before = phones()
    genuine = voters.sign_voter(SECRET_KEY, "w" + "f0" * 10)
    feed(genuine[:-1] + ("0" if genuine[-1] != "0" else "1"))  # its signature altered
    assert phones() == before  # a phone is marked before its first feed answer, if at all
    feed(genuine)
    assert phones() == before + 1


def test_the_feed_checks_each_cookie_header_it_remembers_on_its_own(app):
    """A worker remembers what each Cookie header said (a phone sends the same one at every
    poll), keyed by the whole header: a forged signature for a voter it has already seen
    is still refused, and the remembered answer is the checked one."""
    feed = LiveFeed(app, threads=None)
    genuine = voters.sign_voter(SECRET_KEY, "w" + "f0" * 10)
    forged = genuine[:-1] + ("0" if genuine[-1] != "0" else "1")
    header = f"cyoa_voter={genuine}; cyoa_poll=way"
    assert feed.read_cookies(header) == ("w" + "f0" * 10, "way")
    assert feed.read_cookies(f"cyoa_voter={forged}; cyoa_poll=way") == (None, "way")
    assert feed.read_cookies(header) == ("w" + "f0" * 10, "way")  # remembered, unchanged
    assert feed.read_cookies("") == (None, "")
