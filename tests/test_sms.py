"""The Twilio webhook as Twilio calls it: signed form posts, TwiML back, votes in Redis."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from conftest import TWILIO_TOKEN, steady_window
from twilio.request_validator import RequestValidator

from cyoa.voteserver.app import create_app
from cyoa.voteserver.sms_parse import HELP, OPT_IN, OPT_OUT

PHONE = "+15557654321"
URL = "http://localhost/sms"
_sids = itertools.count()


def form(body: str, sender: str = PHONE, sid: str = "") -> dict[str, str]:
    sid = sid or f"SM{next(_sids):032x}"
    return {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": "AC" + "1" * 32,
        "From": sender,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
    }


def signature(data: dict[str, str], url: str = URL, token: str = TWILIO_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, data)


def text(client, body: str, sender: str = PHONE, sid: str = "", **kwargs):
    """Post one signed text message, as Twilio would."""
    data = form(body, sender, sid)
    headers = {"X-Twilio-Signature": signature(data)}
    return client.post("/sms", data=data, headers=headers, **kwargs)


def reply(response) -> str:
    assert response.status_code == 200, response.data
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.data)  # noqa: S314
    return " ".join("".join(m.itertext()) for m in root.iter("Message"))


def votes(store, talk_id, poll) -> dict[str, int]:
    return {o["key"]: o["votes"] for o in store.results(talk_id, poll)["options"]}


def test_a_signed_text_is_counted_and_acknowledged(client, store, talk_id, open_poll):
    response = text(client, "2")
    assert "Dachshund Doc Send" in reply(response)
    assert response.headers["X-Cyoa-Outcome"] == "counted"
    assert votes(store, talk_id, open_poll) == {"1": 0, "2": 1}


@pytest.mark.parametrize(
    "tamper",
    ["wrong token", "tampered body", "wrong scheme", "wrong port", "missing header", "garbage"],
)
def test_a_bad_signature_is_refused_and_nothing_counted(client, store, talk_id, open_poll, tamper):
    data = form("2")
    url, token = URL, TWILIO_TOKEN
    if tamper == "wrong token":
        token = "not-" + TWILIO_TOKEN
    elif tamper == "wrong scheme":
        url = "https://localhost/sms"
    elif tamper == "wrong port":
        url = "http://localhost:8080/sms"
    headers = {"X-Twilio-Signature": signature(data, url, token)}
    if tamper == "tampered body":
        data["Body"] = "1"
    elif tamper == "missing header":
        headers = {}
    elif tamper == "garbage":
        headers = {"X-Twilio-Signature": "x" * 28}
    response = client.post("/sms", data=data, headers=headers)
    assert response.status_code == 403
    assert votes(store, talk_id, open_poll) == {"1": 0, "2": 0}


def test_an_added_field_is_covered_by_the_signature(client, store, talk_id, open_poll):
    data = form("2")
    headers = {"X-Twilio-Signature": signature(data)}
    response = client.post("/sms", data={**data, "FromCity": "Springfield"}, headers=headers)
    assert response.status_code == 403
    assert votes(store, talk_id, open_poll)["2"] == 0


def test_without_a_token_configured_unsigned_texts_are_still_refused(
    config, store, talk_id, open_poll
):
    """Unsigned, a text is a made-up number: see test_sms_signing for the rehearsal key."""
    app = create_app(replace(config, twilio_auth_token=""))
    response = app.test_client().post("/sms", data=form("1"))
    assert response.status_code == 403
    assert votes(store, talk_id, open_poll)["1"] == 0


def test_public_url_wins_behind_a_proxy(config, store, talk_id, open_poll):
    """Twilio signs the public URL; the app sees the proxy's upstream Host."""
    client = create_app(replace(config, public_url="https://vote.example.org/")).test_client()
    upstream = {"Host": "10.0.0.5:8000"}
    data = form("2")
    signed_public = signature(data, "https://vote.example.org/sms")
    response = client.post(
        "/sms", data=data, headers={**upstream, "X-Twilio-Signature": signed_public}
    )
    assert response.headers["X-Cyoa-Outcome"] == "counted"
    data = form("1", sender="+15550000002")
    signed_host = signature(data, "http://10.0.0.5:8000/sms")
    response = client.post(
        "/sms", data=data, headers={**upstream, "X-Twilio-Signature": signed_host}
    )
    assert response.status_code == 403
    assert votes(store, talk_id, open_poll) == {"1": 0, "2": 1}


def test_a_trusted_proxy_forwards_scheme_and_host(config, store, talk_id, open_poll):
    client = create_app(replace(config, trust_proxy=1)).test_client()
    data = form("2")
    headers = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "vote.example.org",
        "X-Twilio-Signature": signature(data, "https://vote.example.org/sms"),
    }
    assert client.post("/sms", data=data, headers=headers).status_code == 200
    assert votes(store, talk_id, open_poll)["2"] == 1


def test_an_encoded_slash_in_the_query_string_still_validates(client, store, talk_id, open_poll):
    data = form("2")
    url = URL + "?next=a%2Fb&x=1"
    headers = {"X-Twilio-Signature": signature(data, url)}
    response = client.post("/sms?next=a%2Fb&x=1", data=data, headers=headers)
    assert response.headers["X-Cyoa-Outcome"] == "counted"
    assert votes(store, talk_id, open_poll)["2"] == 1


def test_a_repeated_message_sid_counts_once(client, store, talk_id, open_poll):
    first = text(client, "1", sid="SM" + "a" * 32)
    text(client, "2", sid="SM" + "b" * 32)  # the voter changed their mind...
    again = text(client, "1", sid="SM" + "a" * 32)  # ...then Twilio retried the first text
    assert first.headers["X-Cyoa-Outcome"] == "counted"
    assert again.headers["X-Cyoa-Outcome"] == "duplicate"
    assert "Dachshund" in reply(again)  # the ballot that stands
    assert votes(store, talk_id, open_poll) == {"1": 0, "2": 1}


def test_a_voter_changes_their_vote_by_text(client, store, talk_id, open_poll):
    text(client, "tinder")
    response = text(client, "option 2")
    assert response.headers["X-Cyoa-Outcome"] == "changed"
    assert reply(response).startswith("Changed")
    assert votes(store, talk_id, open_poll) == {"1": 0, "2": 1}
    assert text(client, "#2").headers["X-Cyoa-Outcome"] == "unchanged"


KEYWORDS = sorted(OPT_OUT | OPT_IN | HELP)


@pytest.mark.parametrize("word", KEYWORDS)
@pytest.mark.parametrize("shape", [str.upper, str.lower, str.capitalize, lambda w: f"  {w}\n"])
def test_opt_out_and_help_keywords_are_never_votes(client, store, talk_id, open_poll, word, shape):
    response = text(client, shape(word))
    if word in HELP:
        assert "STOP" in reply(response)
    else:
        assert reply(response) == ""  # an empty <Response/>: Twilio answers these itself
    assert votes(store, talk_id, open_poll) == {"1": 0, "2": 0}


def test_a_yes_no_poll_still_never_counts_yes(client, store, talk_id):
    from cyoa.voteserver.store import Option

    store.define_poll(talk_id, "yn", "Ship it?", [Option("y", "Yes"), Option("n", "No")])
    store.open_poll(talk_id, "yn")
    assert text(client, "YES").headers["X-Cyoa-Outcome"] == "optin"
    assert text(client, "no").headers["X-Cyoa-Outcome"] == "counted"
    assert votes(store, talk_id, "yn") == {"y": 0, "n": 1}


def test_an_unclear_text_gets_the_options_and_is_not_counted(client, store, talk_id, open_poll):
    response = text(client, "<b>whatever</b> & 7")
    message = reply(response)
    assert "1 Tinder for Pets" in message and "2 Dachshund Doc Send" in message
    assert "whatever" not in message and "<b>" not in response.get_data(as_text=True)
    assert len(message) <= 160
    assert votes(store, talk_id, open_poll) == {"1": 0, "2": 0}


def test_no_open_poll_says_so(client, store, talk_id):
    response = text(client, "2")
    assert response.headers["X-Cyoa-Outcome"] == "no_poll"
    assert "No question is open" in reply(response)


def test_a_closed_poll_is_not_voted_on(client, store, talk_id, open_poll):
    store.close_poll(talk_id, open_poll)
    response = text(client, "2")
    assert "No question is open" in reply(response)
    assert votes(store, talk_id, open_poll) == {"1": 0, "2": 0}


def test_a_text_racing_the_close_is_refused(client, store, talk_id, open_poll):
    # The poll is still the talk's open poll but its status already says closed.
    from cyoa.voteserver import keys

    store.redis.hset(keys.poll_meta(talk_id, open_poll), "status", "closed")
    response = text(client, "2")
    assert response.headers["X-Cyoa-Outcome"] == "not_open"
    assert "closed" in reply(response)
    assert votes(store, talk_id, open_poll)["2"] == 0


def test_one_phone_is_rate_limited(config, store, talk_id, open_poll):
    client = create_app(replace(config, voter_rate=3, rate_window=steady_window())).test_client()
    outcomes = [text(client, body).headers["X-Cyoa-Outcome"] for body in "12121"]
    assert outcomes[:3] == ["counted", "changed", "changed"]
    assert outcomes[3:] == ["rate_limited", "rate_limited"]
    assert "wait" in reply(text(client, "2"))
    other = text(client, "2", sender="+15550000009")  # other phones are not affected
    assert other.headers["X-Cyoa-Outcome"] == "counted"


def test_phone_numbers_are_never_stored(client, store, talk_id, open_poll, redis_client):
    text(client, "1", sender="+15557654321")
    text(client, "2", sender="+15557654321")
    text(client, "dachshund", sender="+447700900123")
    assert store.results(talk_id, open_poll)["total"] == 2
    dump = []
    for key in redis_client.scan_iter(match=f"cyoa:{{{talk_id}*"):
        kind = redis_client.type(key).decode()
        dump.append(key)
        if kind == "hash":
            dump += [x for pair in redis_client.hgetall(key).items() for x in pair]
        elif kind == "set":
            dump += list(redis_client.smembers(key))
        elif kind == "zset":
            dump += list(redis_client.zrange(key, 0, -1))
        elif kind == "string":
            dump.append(redis_client.get(key))
    blob = b" ".join(dump).decode(errors="replace")
    assert "ballots" in blob  # the scan saw the poll's keys
    for digits in ("5557654321", "7654321", "7700900123"):
        assert digits not in blob


def test_a_missing_from_number_is_a_bad_request(client, store, talk_id, open_poll):
    data = form("2")
    del data["From"]
    response = client.post("/sms", data=data, headers={"X-Twilio-Signature": signature(data)})
    assert response.status_code == 400
    assert store.results(talk_id, open_poll)["total"] == 0


def test_help_works_without_a_poll(client):
    assert re.search(r"STOP", reply(text(client, "help")))
