"""The page's JSON votes take a fast path before Flask: it must answer exactly as Flask does.

``Accept: application/json`` (what the page's script sends) is answered by
``voteserver.fastvote``; any other JSON-wanting Accept header goes through the Flask view.
Each case below is run both ways and must give the same status, body and tally.
"""

from __future__ import annotations

import pytest
from conftest import PET_OPTIONS
from test_audience import Phone

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

    from cyoa.voteserver import create_app

    # an hour-long window: the three votes never straddle two windows (a 10 s one could)
    strict = create_app(replace(config, voter_rate=2, rate_window=3600))
    answers = {}
    for name, accept in (("fast", FAST), ("flask", FLASK)):
        phone = Phone(strict.test_client())
        phone.load()
        statuses = [phone.vote("12"[i % 2], headers=accept) for i in range(3)]
        answers[name] = [(r.status_code, r.headers.get("Retry-After")) for r in statuses]
    assert answers["fast"] == answers["flask"] == [(200, None), (200, None), (429, "3600")]


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
