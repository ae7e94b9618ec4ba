"""The presenter sees where votes come from and acts: lift the cap, discard one source.

``GET /api/polls/<poll>/sources``, ``POST .../cap``, ``POST .../discard`` (presenter only),
the thresholds that make an alert, and ``cyoa results`` printing refusals and alerts.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_vote_cap import WebPhone, votes

from cyoa.cli import main
from cyoa.voteserver.app import create_app
from cyoa.voteserver.sources import source_of
from cyoa.voteserver.store import Option
from cyoa.voteserver.watch import BURST_MIN, SOURCE_MIN, PollSources, alerts, report


@pytest.fixture
def capped(config, store, open_poll):
    """The app with a cap of 2 voters per address (the store fixture's talk is current)."""
    return create_app(replace(config, voters_per_address=2))


def sources(client, auth, poll: str = "product") -> dict:
    response = client.get(f"/api/polls/{poll}/sources", headers=auth)
    assert response.status_code == 200, response.data
    return response.get_json()


def source_id(config, address: str) -> str:
    return source_of(config.secret_key, address).id


def test_every_moderation_route_needs_the_presenter_token(capped, open_poll):
    client, base = capped.test_client(), f"/api/polls/{open_poll}"
    assert client.get(f"{base}/sources").status_code == 401
    assert client.post(f"{base}/cap", json={"voters_per_address": 0}).status_code == 401
    assert client.post(f"{base}/discard", json={"source": "a" * 12}).status_code == 401


def test_the_report_shows_sources_refusals_and_alerts(capped, config, auth, open_poll):
    for _ in range(4):
        WebPhone(capped, "10.0.0.7").vote("2")  # two counted, two refused by the cap
    WebPhone(capped, "10.0.0.8").vote("1")
    data = sources(capped.test_client(), auth)
    assert (data["cap"], data["cap_from"], data["ballots"], data["refused"]) == (2, "setting", 3, 2)
    crowded, single = source_id(config, "10.0.0.7"), source_id(config, "10.0.0.8")
    assert data["sources"] == [
        {"source": crowded, "kind": "address", "voters": 2, "refused": 2, "blocked": False},
        {"source": single, "kind": "address", "voters": 1, "refused": 0, "blocked": False},
    ]
    assert data["alerts"] == [
        f"the cap refused 2 votes from 1 source ({crowded}): if the room shares one "
        "connection, lift the cap"
    ]
    assert data["busiest_second"]["votes"] >= 1


def test_lifting_the_cap_lets_the_refused_phone_vote(capped, store, talk_id, auth, open_poll):
    phones = [WebPhone(capped, "10.0.0.7") for _ in range(3)]
    assert [p.vote("1").status_code for p in phones] == [200, 200, 403]
    lifted = capped.test_client().post(
        f"/api/polls/{open_poll}/cap", json={"voters_per_address": 0}, headers=auth
    )
    assert lifted.status_code == 200
    assert (lifted.get_json()["cap"], lifted.get_json()["cap_from"]) == (0, "poll")
    assert phones[2].vote("1").get_json()["outcome"] == "counted"
    assert votes(store, talk_id) == {"1": 3, "2": 0}


def test_a_poll_cap_stays_with_its_poll_a_talk_cap_goes_on(capped, store, talk_id, auth):
    client = capped.test_client()
    for poll in ("first", "second", "third"):
        store.define_poll(talk_id, poll, "Q?", [Option("1", "a"), Option("2", "b")])
    store.open_poll(talk_id, "first")
    set_cap = client.post("/api/polls/first/cap", json={"voters_per_address": 7}, headers=auth)
    assert set_cap.get_json()["cap"] == 7
    store.open_poll(talk_id, "second")
    assert sources(client, auth, "second")["cap"] == 2  # the setting again
    whole_talk = {"voters_per_address": 0, "scope": "talk"}
    assert client.post("/api/polls/second/cap", json=whole_talk, headers=auth).status_code == 200
    store.open_poll(talk_id, "third")
    assert (sources(client, auth, "third")["cap"], sources(client, auth, "first")["cap"]) == (0, 7)
    for _ in range(4):
        assert WebPhone(capped, "10.0.0.7").vote("1", poll="third").status_code == 200


def test_discard_takes_back_one_sources_ballots_and_blocks_it(
    capped, config, store, talk_id, auth, open_poll
):
    for choice in ("2", "2", "1"):  # the third is refused by the cap
        WebPhone(capped, "10.0.0.7").vote(choice)
    honest = WebPhone(capped, "10.0.0.8")
    honest.vote("1")
    crowded = source_id(config, "10.0.0.7")
    client = capped.test_client()
    answer = client.post(f"/api/polls/{open_poll}/discard", json={"source": crowded}, headers=auth)
    assert answer.status_code == 200
    data = answer.get_json()
    assert (data["discarded"], data["source"], data["total"]) == (2, crowded, 1)
    assert {o["key"]: o["votes"] for o in data["options"]} == {"1": 1, "2": 0}
    assert votes(store, talk_id) == {"1": 1, "2": 0}
    again = WebPhone(capped, "10.0.0.7").vote("2")
    assert (again.status_code, again.get_json()["code"]) == (403, "blocked")
    assert honest.vote("2").get_json()["outcome"] == "changed"  # others are untouched
    report_after = sources(client, auth)
    row = next(r for r in report_after["sources"] if r["source"] == crowded)
    assert (row["voters"], row["blocked"], row["refused"]) == (0, True, 2)
    assert report_after["discarded"] == 2
    assert "blocked sources tried 1 vote more" in report_after["alerts"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("cap", None),
        ("cap", [0]),
        ("cap", {}),
        ("cap", {"voters_per_address": -1}),
        ("cap", {"voters_per_address": 10_001}),
        ("cap", {"voters_per_address": True}),
        ("cap", {"voters_per_address": "0"}),
        ("cap", {"voters_per_address": 1.5}),
        ("cap", {"voters_per_address": 0, "scope": "room"}),
        ("cap", {"voters_per_address": 0, "extra": 1}),
        ("discard", {}),
        ("discard", {"source": 12}),
        ("discard", {"source": "../../etc"}),
        ("discard", {"source": "a" * 12 + "\n"}),
        ("discard", {"source": "sms"}),
        ("discard", {"source": "a" * 12, "also": "b"}),
    ],
)
def test_bad_bodies_are_refused_and_change_nothing(capped, auth, open_poll, path, body):
    client = capped.test_client()
    response = client.post(f"/api/polls/{open_poll}/{path}", json=body, headers=auth)
    assert response.status_code == 400
    assert response.get_json()["error"]
    data = sources(client, auth)
    assert (data["cap_from"], data["sources"]) == ("setting", [])


def test_an_unknown_poll_is_404(capped, auth):
    client = capped.test_client()
    assert client.get("/api/polls/nope/sources", headers=auth).status_code == 404
    cap = client.post("/api/polls/nope/cap", json={"voters_per_address": 0}, headers=auth)
    assert cap.status_code == 404
    discard = client.post("/api/polls/nope/discard", json={"source": "a" * 12}, headers=auth)
    assert discard.status_code == 404


# -- what stands out: the thresholds, as pure functions ------------------------------------
def test_one_address_stands_out_with_a_quarter_of_the_ballots():
    raw = PollSources("p", ballots=20, voters={"aaaa": SOURCE_MIN, "sms": 10, "bbbb": 4})
    assert alerts(raw) == ["one address holds 25 % of the votes (5 of 20, source aaaa)"]
    assert alerts(replace(raw, ballots=21)) == []  # under a quarter
    small = PollSources("p", ballots=4, voters={"aaaa": 4})  # all of a tiny rehearsal
    assert alerts(small) == []


def test_this_machine_standing_out_points_at_the_proxy_setting():
    raw = PollSources("p", ballots=10, voters={"loc": 9, "x": 1})
    (alert,) = alerts(raw, local=frozenset({"loc"}))
    assert alert.startswith("90 % of the votes (9 of 10) come through this machine")
    assert "CYOA_TRUST_PROXY" in alert


def test_a_burst_is_a_third_of_the_votes_in_one_second():
    spread = {1000 + s: 10 for s in range(10)}
    assert alerts(PollSources("p", ballots=100, seconds=spread)) == []
    burst = {**spread, 1010: 300}
    assert alerts(PollSources("p", ballots=400, seconds=burst)) == [
        "a burst: 300 votes in one second (75 % of all)"
    ]
    tiny = {1000: BURST_MIN - 1}  # a rehearsal of a few phones at once is no burst
    assert alerts(PollSources("p", ballots=BURST_MIN - 1, seconds=tiny)) == []
    # after a discard the burst is still told: it happened
    after = PollSources("p", ballots=100, discarded=300, seconds=burst)
    assert alerts(after) == ["a burst: 300 votes in one second (75 % of all)"]


def test_the_report_lists_the_busiest_fifty_sources():
    raw = PollSources("p", ballots=60, voters={f"s{n:03d}": 1 for n in range(60)})
    data = report(raw, default_cap=5)
    assert len(data["sources"]) == 50 and data["more_sources"] == 10
    assert (data["cap"], data["cap_from"]) == (5, "setting")


# -- after the talk: cyoa results ----------------------------------------------------------
def test_cyoa_results_prints_refusals_and_alerts(store, talk_id, redis_url, tmp_path: Path):
    from cyoa.deck import load_story

    story = load_story()
    decision = story.decisions[0]
    options = [Option(o.key, o.label, o.sms) for o in decision.choice.options]
    store.start_talk(talk_id, story=story.name)
    store.define_poll(talk_id, decision.id, decision.choice.question, options, scene=decision.id)
    store.open_poll(talk_id, decision.id)
    for n in range(9):  # one address, capped at 6: six ballots stand, three refused
        store.cast_vote(talk_id, decision.id, f"w{n}", "1", address="abc", cap=6, capped=True)
    store.cast_vote(talk_id, decision.id, "w-other", "2", address="def", cap=6, capped=True)
    store.close_poll(talk_id, decision.id)
    store.put_state(talk_id, decision.id, [story.start, decision.id])
    result = CliRunner().invoke(
        main,
        ["results", "--talk", talk_id, "--out", str(tmp_path)],
        env={"REDIS_URL": redis_url, "CYOA_STATE_DIR": str(tmp_path / "state")},
    )
    assert result.exit_code == 0, result.output
    assert "refused 3 votes (voters-per-address cap or a blocked source)" in result.output
    assert "! the cap refused 3 votes from 1 source (abc)" in result.output
    assert "! one address holds 86 % of the votes (6 of 7, source abc)" in result.output
    data = json.loads((tmp_path / f"cyoa-results-{talk_id}.json").read_text())
    assert data["polls"][0]["refused"] == 3 and len(data["polls"][0]["alerts"]) == 2
