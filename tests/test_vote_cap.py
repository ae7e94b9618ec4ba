"""The voters-per-address cap: a script that drops its cookies cannot vote again and again.

Each cookie-less ``GET /`` makes a new voter, so the cap counts the distinct voters with a
ballot in a poll from one client address, atomically in the vote's Lua script. A voter with
a ballot may always change it; this machine's own 127.0.0.1 is not capped (a tunnel or an
undeclared proxy would show the whole room there); signed texts are not capped.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import requests
from conftest import PRESENTER_TOKEN
from phones import Phone, address

from cyoa.voteserver.app import create_app
from cyoa.voteserver.rehearse import read_form
from cyoa.voteserver.settings import SETTINGS, load_config
from cyoa.voteserver.voting import MESSAGES


def capped_app(config, cap: int):
    return create_app(replace(config, voters_per_address=cap))


class WebPhone:
    """A phone on the in-process app: its own cookie jar and client address."""

    def __init__(self, app, remote_addr: str) -> None:
        self.client = app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = remote_addr
        page = self.client.get("/")
        self.csrf = read_form(page.get_data(as_text=True)).fields["csrf"]

    def vote(self, choice: str, poll: str = "product", json: bool = True):
        headers = {"Accept": "application/json"} if json else {}
        data = {"poll": poll, "choice": choice, "csrf": self.csrf}
        return self.client.post("/vote", data=data, headers=headers)


def votes(store, talk_id: str, poll: str = "product") -> dict[str, int]:
    return {o["key"]: o["votes"] for o in store.results(talk_id, poll)["options"]}


def test_the_default_cap_is_small_and_zero_means_none():
    setting = next(s for s in SETTINGS if s.env == "CYOA_VOTERS_PER_ADDRESS")
    assert 1 <= setting.default <= 20
    assert load_config(environ={}).voters_per_address == setting.default
    assert load_config(environ={"CYOA_VOTERS_PER_ADDRESS": "0"}).voters_per_address == 0


def test_a_new_voter_past_the_cap_is_refused_and_others_are_not(config, store, talk_id, open_poll):
    app = capped_app(config, 2)
    first, second = WebPhone(app, "10.0.0.7"), WebPhone(app, "10.0.0.7")
    assert first.vote("1").get_json()["outcome"] == "counted"  # the page's fetch: fast path
    assert second.vote("1").get_json()["outcome"] == "counted"
    third = WebPhone(app, "10.0.0.7").vote("2")
    assert third.status_code == 403
    assert third.get_json() == {"error": MESSAGES["full"][1], "code": "full"}
    assert WebPhone(app, "10.0.0.8").vote("2").status_code == 200  # another address
    assert votes(store, talk_id) == {"1": 2, "2": 1}


def test_a_voter_with_a_ballot_may_always_change_it(config, store, talk_id, open_poll):
    app = capped_app(config, 1)
    phone = WebPhone(app, "10.0.0.7")
    assert phone.vote("1").status_code == 200
    assert WebPhone(app, "10.0.0.7").vote("1").status_code == 403  # the address is full
    changed = phone.vote("2")
    assert changed.get_json()["outcome"] == "changed"
    assert votes(store, talk_id) == {"1": 0, "2": 1}


def test_a_plain_form_refused_by_the_cap_shows_why_on_the_page(config, store, open_poll):
    app = capped_app(config, 1)
    WebPhone(app, "10.0.0.7").vote("1", json=False)
    phone = WebPhone(app, "10.0.0.7")
    refused = phone.vote("2", json=False)  # JavaScript off: the Flask view
    assert refused.status_code == 303 and refused.location.endswith("/?m=full")
    page = phone.client.get(refused.location).get_data(as_text=True)
    assert "enough phones on this network have voted" in page


def test_zero_turns_the_cap_off(config, store, talk_id, open_poll):
    app = capped_app(config, 0)
    for _ in range(8):
        assert WebPhone(app, "10.0.0.7").vote("1").status_code == 200
    assert votes(store, talk_id)["1"] == 8


def test_this_machines_loopback_is_exempt_other_127_addresses_are_not(
    config, store, talk_id, open_poll
):
    app = capped_app(config, 1)
    for _ in range(3):  # cyoa rehearse, or a tunnel that shows every phone as 127.0.0.1
        assert WebPhone(app, "127.0.0.1").vote("1").status_code == 200
        assert WebPhone(app, "::1").vote("1").status_code == 200
    assert WebPhone(app, "127.0.5.1").vote("2").status_code == 200
    assert WebPhone(app, "127.0.5.1").vote("2").status_code == 403
    assert votes(store, talk_id) == {"1": 6, "2": 1}


def test_ipv6_counts_by_its_64(config, store, talk_id, open_poll):
    app = capped_app(config, 2)
    assert WebPhone(app, "2001:db8:1:2::a").vote("1").status_code == 200
    assert WebPhone(app, "2001:db8:1:2::b").vote("1").status_code == 200
    assert WebPhone(app, "2001:db8:1:2:ffff::c").vote("1").status_code == 403  # same /64
    assert WebPhone(app, "2001:db8:1:3::a").vote("1").status_code == 200  # another /64
    assert WebPhone(app, "::ffff:10.0.0.9").vote("1").status_code == 200  # IPv4 as IPv6


def test_the_cap_holds_when_new_voters_race(store, talk_id, open_poll):
    """Twenty new voters from one address at once: exactly the cap gets in."""

    def cast(n: int) -> str:
        return store.cast_vote(
            talk_id, open_poll, f"wrace{n:04d}", "1", address="src", cap=3, capped=True
        ).outcome

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(cast, range(20)))
    assert outcomes.count("counted") == 3
    assert outcomes.count("address_full") == 17
    counts = store.poll_sources(talk_id, open_poll)
    assert counts.voters == {"src": 3} and counts.refused == {"src": 17}
    assert votes(store, talk_id) == {"1": 3, "2": 0}


def test_a_reset_forgets_the_sources(store, talk_id, open_poll):
    for n in range(3):
        store.cast_vote(talk_id, open_poll, f"w{n}", "1", address="src", cap=2, capped=True)
    store.reset_poll(talk_id, open_poll)
    counts = store.poll_sources(talk_id, open_poll)
    assert (counts.ballots, counts.voters, counts.refused, counts.seconds) == (0, {}, {}, {})
    result = store.cast_vote(talk_id, open_poll, "w9", "1", address="src", cap=2, capped=True)
    assert result.outcome == "counted"


# -- over real HTTP, against a real `cyoa serve`, one source address per phone -------------
def test_the_cap_over_real_http_with_distinct_addresses(start_server, open_poll, server_env):
    server = start_server({**server_env, "CYOA_VOTERS_PER_ADDRESS": "3"})
    shared = [Phone(server.url, "127.0.5.1") for _ in range(4)]  # one Wi-Fi hotspot
    alone = [Phone(server.url, address(i, block=6)) for i in range(3)]  # a phone each
    answers = []
    for phone in shared + alone:
        assert phone.load() == 200
        answers.append(phone.vote("1"))
    assert [status for status, _ in answers] == [200, 200, 200, 403, 200, 200, 200]
    assert answers[3][1]["code"] == "full"
    assert shared[0].vote("2")[1]["outcome"] == "changed"  # a ballot may always change
    auth = {"Authorization": f"Bearer {PRESENTER_TOKEN}"}
    report = requests.get(f"{server.url}/api/polls/{open_poll}/sources", headers=auth, timeout=5)
    data = report.json()
    assert (data["cap"], data["cap_from"], data["refused"], data["ballots"]) == (3, "setting", 1, 6)
    top = data["sources"][0]
    assert (top["voters"], top["refused"], top["kind"]) == (3, 1, "address")
    assert "127.0.5.1" not in report.text  # ids are keyed digests, never the address
    assert any(alert.startswith("the cap refused 1 vote from 1 source") for alert in data["alerts"])
    lifted = requests.post(
        f"{server.url}/api/polls/{open_poll}/cap",
        json={"voters_per_address": 0},
        headers=auth,
        timeout=5,
    )
    assert lifted.json()["cap"] == 0
    assert shared[3].vote("1")[1]["outcome"] == "counted"  # the refused phone, once lifted
    results = requests.get(f"{server.url}/api/polls/{open_poll}", timeout=5).json()
    assert [o["votes"] for o in results["options"]] == [6, 1]


def test_this_machine_is_not_capped_over_real_http(start_server, open_poll, server_env):
    server = start_server({**server_env, "CYOA_VOTERS_PER_ADDRESS": "1"})
    for _ in range(4):  # cyoa rehearse's simulated phones all come from 127.0.0.1
        phone = Phone(server.url, "127.0.0.1")
        phone.load()
        assert phone.vote("1")[0] == 200
    stranger = [Phone(server.url, "127.0.7.1") for _ in range(2)]
    for phone in stranger:
        phone.load()
    assert [phone.vote("2")[0] for phone in stranger] == [200, 403]


def test_cyoa_rehearse_still_works_against_a_capped_local_server(
    start_server, open_poll, server_env
):
    from cyoa.voteserver.rehearse import rehearse

    server = start_server({**server_env, "CYOA_VOTERS_PER_ADDRESS": "2"})
    summary = rehearse(server.url, 20, sms_share=0.0, seed=5)
    assert summary.accepted == 20 and not summary.refused


def test_rehearse_explains_a_remote_servers_cap():
    """Against a remote server every simulated phone shares this machine's one address."""
    from collections import Counter

    from cyoa.voteserver.rehearse import Summary

    summary = Summary("p", {"1": "a", "2": "b"}, refused=Counter({"web 403 full": 12}))
    hint = next(line for line in summary.lines() if line.lstrip().startswith("hint:"))
    assert "CYOA_VOTERS_PER_ADDRESS=0" in hint and "/api/polls/<poll>/cap" in hint
