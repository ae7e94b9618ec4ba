"""The webhook under messy input and a failing Redis: never a 5xx, never a stray vote."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from dataclasses import replace

from conftest import PET_OPTIONS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sms import form, reply, signature, text

from cyoa.voteserver import keys, sms
from cyoa.voteserver.app import create_app
from cyoa.voteserver.embedded import EmbeddedRedis

bodies = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda piece, n: (piece * n)[:1600],
        st.text(min_size=1, max_size=30),
        st.integers(1, 1600),
    ),
    st.builds(
        "{}{}{}".format,
        st.text(max_size=3),
        st.sampled_from(["2", "#1", "option 2", "b", "Dachshund", "stop", "HELP", "3", "c"]),
        st.text(max_size=3),
    ),
)
phones = itertools.count(15550100000)
REPLIES = {
    "",
    sms.HELP_TEXT,
    sms.NO_POLL,
    sms.choices_text(PET_OPTIONS),
    *(
        sms.vote_reply(outcome, option, PET_OPTIONS)
        for outcome in ("counted", "changed", "unchanged", "duplicate", "rate_limited", "not_open")
        for option in PET_OPTIONS
    ),
}


@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_messy_bodies_never_break_the_webhook(client, store, talk_id, open_poll, body):
    response = text(client, body, sender=f"+{next(phones)}")
    assert response.status_code == 200
    message = reply(response)
    assert len(message) <= 160 and set(message) <= sms.GSM7
    assert message in REPLIES  # a fixed text: nothing of the body is echoed back
    ballots = {v.decode() for v in store.redis.hvals(keys.poll_ballots(talk_id, open_poll))}
    assert ballots <= {o.key for o in PET_OPTIONS}
    tally = store.results(talk_id, open_poll)
    assert tally["total"] == len(store.redis.hkeys(keys.poll_ballots(talk_id, open_poll)))


def test_a_1600_character_body_is_read(client, store, talk_id, open_poll):
    body = "🐶" * 700 + " my vote: dachshund " + "!" * 870
    assert len(body) > 1500
    assert text(client, body).headers["X-Cyoa-Outcome"] == "counted"
    assert store.results(talk_id, open_poll)["options"][1]["votes"] == 1


def test_redis_stopped_mid_talk_gets_a_twiml_apology(config, tmp_path, talk_id):
    embedded = EmbeddedRedis(tmp_path / "own-redis")
    url = embedded.start()
    try:
        app = create_app(replace(config, redis_url=url, redis_timeout=0.5))
        client = app.test_client()
        store = app.extensions["cyoa.store"]
        store.start_talk(talk_id)
        store.define_poll(talk_id, "product", "What did you build?", PET_OPTIONS)
        store.open_poll(talk_id, "product")
        assert text(client, "2").headers["X-Cyoa-Outcome"] == "counted"

        embedded.stop()
        response = text(client, "1", sender="+15550000001")
        assert response.status_code == 200
        assert response.mimetype == "application/xml"
        assert "paused" in reply(response)
        ET.fromstring(response.data)  # noqa: S314 - well-formed TwiML, not a stack trace

        embedded.start()  # it recovers by itself once Redis is back
        assert text(client, "1", sender="+15550000001").headers["X-Cyoa-Outcome"] == "counted"
        assert store.results(talk_id, "product")["total"] == 2
    finally:
        embedded.stop()


def test_twilios_longest_emoji_text_fits_the_body_limit(client, store, talk_id, open_poll):
    body = "2 " + "🐶" * 1598  # 6,400 bytes of UTF-8, ~19 KB form-encoded
    assert text(client, body).headers["X-Cyoa-Outcome"] == "counted"


def test_an_oversized_request_is_refused_not_crashed(client, store, talk_id, open_poll):
    data = form("2" + " " * 100_000)
    response = client.post("/sms", data=data, headers={"X-Twilio-Signature": signature(data)})
    assert response.status_code == 413
    assert store.results(talk_id, open_poll)["total"] == 0
