"""Only signed texts count: Twilio's token or the server's SMS rehearsal key, never none.

An unsigned webhook is a made-up ``From`` number, so a loop of curl would outvote any room.
``cyoa sms`` and ``cyoa rehearse`` sign with the rehearsal key the server keeps in its
state dir; a refusal is a 403 saying why and one throttled line on the server's stderr.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from conftest import TWILIO_TOKEN
from test_sms import form, signature, votes

from cyoa.cli import main
from cyoa.voteserver.app import create_app
from cyoa.voteserver.logs import Throttled
from cyoa.voteserver.rehearse import REHEARSAL_KEY_FILE, rehearse, send_sms
from cyoa.voteserver.settings import persistent_secret

LOG_LINE = "cyoa: refused an SMS webhook from 127.0.0.1: no X-Twilio-Signature"


def app_client(config, twilio: bool, **changes):
    """A vote server with or without a Twilio token configured."""
    config = replace(config, twilio_auth_token=TWILIO_TOKEN if twilio else "", **changes)
    return create_app(config).test_client()


def rehearsal_key(config) -> str:
    return persistent_secret(config.state_dir, REHEARSAL_KEY_FILE)


@pytest.mark.parametrize("twilio", [True, False], ids=["twilio-token", "no-twilio-token"])
def test_an_unsigned_text_is_refused_with_the_reason(config, store, talk_id, open_poll, twilio):
    client = app_client(config, twilio)
    response = client.post("/sms", data=form("1"))
    assert response.status_code == 403
    assert response.mimetype == "text/plain"
    assert response.headers["X-Cyoa-Outcome"] == "unsigned"
    text = response.get_data(as_text=True)
    assert "no X-Twilio-Signature" in text and "TWILIO_AUTH_TOKEN" in text
    assert "sms_rehearsal_key" in text  # what to set, for the rehearsal tools
    assert votes(store, talk_id, open_poll) == {"1": 0, "2": 0}


@pytest.mark.parametrize("twilio", [True, False], ids=["twilio-token", "no-twilio-token"])
def test_a_forged_signature_is_refused_with_the_reason(config, store, talk_id, open_poll, twilio):
    client = app_client(config, twilio)
    data = form("1")
    headers = {"X-Twilio-Signature": signature(data, token="a-key-the-server-never-had")}
    response = client.post("/sms", data=data, headers=headers)
    assert response.status_code == 403
    assert response.headers["X-Cyoa-Outcome"] == "forged"
    assert "matches neither TWILIO_AUTH_TOKEN nor" in response.get_data(as_text=True)
    assert votes(store, talk_id, open_poll) == {"1": 0, "2": 0}


@pytest.mark.parametrize("twilio", [True, False], ids=["twilio-token", "no-twilio-token"])
def test_a_text_signed_with_the_rehearsal_key_counts(config, store, talk_id, open_poll, twilio):
    client = app_client(config, twilio)  # the app creates the key file in its state dir
    key_file = Path(config.state_dir) / REHEARSAL_KEY_FILE
    assert key_file.stat().st_mode & 0o777 == 0o600
    data = form("2")
    headers = {"X-Twilio-Signature": signature(data, token=key_file.read_text().strip())}
    response = client.post("/sms", data=data, headers=headers)
    assert response.headers["X-Cyoa-Outcome"] == "counted"
    assert votes(store, talk_id, open_poll) == {"1": 0, "2": 1}


def test_the_rehearsal_key_setting_replaces_the_file(config, store, talk_id, open_poll):
    client = app_client(config, twilio=False, sms_rehearsal_key="shared-by-every-host")
    stale = form("1")  # signed with the state dir's key, which the setting replaces
    headers = {"X-Twilio-Signature": signature(stale, token=rehearsal_key(config))}
    assert client.post("/sms", data=stale, headers=headers).status_code == 403
    data = form("2")
    headers = {"X-Twilio-Signature": signature(data, token="shared-by-every-host")}
    assert client.post("/sms", data=data, headers=headers).headers["X-Cyoa-Outcome"] == "counted"
    assert votes(store, talk_id, open_poll) == {"1": 0, "2": 1}


def test_signed_texts_are_not_capped_by_address(config, store, talk_id, open_poll, auth):
    client = app_client(config, twilio=True, voters_per_address=1)
    for n in range(4):  # four phones, all relayed by one Twilio address
        data = form("1", sender=f"+1555000{n:04d}")
        response = client.post(
            "/sms",
            data=data,
            headers={"X-Twilio-Signature": signature(data)},
            environ_base={"REMOTE_ADDR": "54.172.60.1"},
        )
        assert response.headers["X-Cyoa-Outcome"] == "counted"
    report = client.get(f"/api/polls/{open_poll}/sources", headers=auth).get_json()
    assert report["sources"] == [
        {"source": "sms", "kind": "sms", "voters": 4, "refused": 0, "blocked": False}
    ]


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_refusal_lines_are_throttled_per_reason_with_a_count_of_the_rest():
    logger = logging.getLogger("test.throttle")
    logger.propagate = False
    lines = Lines()
    logger.addHandler(lines)
    now = [100.0]
    log = Throttled(logger, every=5.0, clock=lambda: now[0])
    for _ in range(1000):  # a flood within one window: one line
        log.warning("unsigned", "refused one")
    log.warning("forged", "refused another")  # another reason has its own window
    now[0] += 5.0
    log.warning("unsigned", "refused one")
    log.warning("unsigned", "refused one")
    logger.removeHandler(lines)
    assert lines.lines == [
        "refused one",
        "refused another",
        "refused one [999 more like it in the last 5 s not logged]",
    ]


def cli(*args: str, env: dict[str, str | None]):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def no_twilio_env(server_env: dict[str, str]) -> dict[str, str]:
    """``cyoa serve`` as a presenter runs it without a Twilio account."""
    env = dict(server_env)
    del env["TWILIO_AUTH_TOKEN"]
    return env


def test_cyoa_sms_without_a_twilio_token_counts_on_a_real_server(
    start_server, no_twilio_env, open_poll
):
    server = start_server(no_twilio_env)
    env = {"CYOA_STATE_DIR": no_twilio_env["CYOA_STATE_DIR"], "TWILIO_AUTH_TOKEN": None}
    result = cli("sms", "--to", server.url, "option 2", env=env)
    assert result.exit_code == 0, result.output
    assert "Dachshund Doc Send" in result.output
    results = requests.get(f"{server.url}/api/polls/{open_poll}", timeout=5).json()
    assert [o["votes"] for o in results["options"]] == [0, 1]


def test_cyoa_rehearse_without_a_twilio_token_counts_its_texts(
    start_server, no_twilio_env, open_poll
):
    server = start_server(no_twilio_env)
    env = {"CYOA_STATE_DIR": no_twilio_env["CYOA_STATE_DIR"], "TWILIO_AUTH_TOKEN": None}
    result = cli(
        "rehearse", "--url", server.url, "--voters", "12", "--sms-share", "1", "--seed", "4",
        env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "accepted:  12 voters" in result.output and "hint" not in result.output
    results = requests.get(f"{server.url}/api/polls/{open_poll}", timeout=5).json()
    assert results["total"] == 12


def test_cyoa_sms_with_no_key_at_all_says_what_to_set(
    start_server, no_twilio_env, open_poll, tmp_path
):
    server = start_server(no_twilio_env)
    env = {"CYOA_STATE_DIR": str(tmp_path / "elsewhere"), "TWILIO_AUTH_TOKEN": None}
    result = CliRunner().invoke(main, ["sms", "--to", server.url, "2"], env=env)
    assert result.exit_code == 1
    assert "refused the signature (403)" in result.output
    assert "no X-Twilio-Signature" in result.output
    assert f"unsigned (no key: no --token, TWILIO_AUTH_TOKEN, or {tmp_path}" in result.output


def test_a_real_server_logs_a_refusal_once_for_a_flood(start_server, open_poll):
    server = start_server()  # with a Twilio token: unsigned texts are refused all the same
    sent = 30
    with requests.Session() as session:
        for n in range(sent):
            reply = send_sms(server.url, "2", f"+1555100{n:04d}", session=session)
            assert reply.status == 403 and reply.outcome == "unsigned"
    # A worker writes (and flushes) its line before it answers: the 403s came after it.
    lines = [line for line in server.output().splitlines() if line.startswith(LOG_LINE)]
    assert lines, server.output()
    assert len(lines) < sent  # throttled: one per reason per few seconds per worker
    results = requests.get(f"{server.url}/api/polls/{open_poll}", timeout=5).json()
    assert results["total"] == 0


def test_rehearse_signs_with_the_key_it_is_given(start_server, open_poll, config):
    server = start_server()
    summary = rehearse(server.url, 6, sms_share=1.0, seed=2, token=rehearsal_key(config))
    assert summary.accepted == 6 and not summary.refused
