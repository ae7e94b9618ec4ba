"""The rehearsal helpers against a real ``cyoa serve``: ``cyoa sms`` and ``cyoa rehearse``."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import requests
from click.testing import CliRunner
from conftest import ROOT, TWILIO_TOKEN, free_port

from cyoa.cli import main
from cyoa.voteserver.rehearse import read_form, rehearse, sms_url


def cli(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)


def poll_results(server, poll: str) -> dict:
    return requests.get(f"{server.url}/api/polls/{poll}", timeout=5).json()


@pytest.mark.parametrize(
    ("given", "posted"),
    [
        ("http://h:8000", "http://h:8000/sms"),
        ("http://h:8000/", "http://h:8000/sms"),
        ("http://h/sms", "http://h/sms"),
        ("https://h/talk/?x=a%2Fb", "https://h/talk/sms?x=a%2Fb"),
        ("h:8000", "http://h:8000/sms"),
    ],
)
def test_a_base_url_becomes_the_webhook_url(given, posted):
    assert sms_url(given) == posted


def test_cyoa_sms_counts_a_vote_on_a_real_server(start_server, open_poll):
    server = start_server()
    result = cli("sms", "--to", server.url, "option 2", "--token", TWILIO_TOKEN)
    assert result.exit_code == 0, result.output
    assert "Dachshund Doc Send" in result.output
    result = cli(
        "sms", "--to", server.url + "/sms", "tinder", env={"TWILIO_AUTH_TOKEN": TWILIO_TOKEN}
    )
    assert result.output.startswith("Changed")  # same default --from: the vote moved
    assert poll_results(server, open_poll)["total"] == 1
    assert poll_results(server, open_poll)["options"][0]["votes"] == 1


def test_cyoa_sms_repeated_sid_counts_once(start_server, open_poll):
    server = start_server()
    sid = "SM" + "c" * 32
    for body, sender in (("1", "+15550000001"), ("2", "+15550000002")):
        cli(
            "sms", "--to", server.url, body, "--from", sender, "--sid", sid, "--token", TWILIO_TOKEN
        )
    assert [o["votes"] for o in poll_results(server, open_poll)["options"]] == [1, 0]


def test_cyoa_sms_with_the_wrong_token_says_why(start_server, open_poll):
    server = start_server()
    result = CliRunner().invoke(main, ["sms", "--to", server.url, "2", "--token", "wrong"])
    assert result.exit_code == 1
    assert "refused the signature (403)" in result.output
    assert poll_results(server, open_poll)["total"] == 0


@pytest.mark.parametrize(
    "command",
    [["sms", "--to", "{url}", "2"], ["rehearse", "--url", "{url}"], ["results", "--url", "{url}"]],
    ids=["sms", "rehearse", "results"],
)
def test_a_command_with_no_server_says_so_in_one_line(command: list[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    process = subprocess.run(
        [sys.executable, "-m", "cyoa", *(arg.format(url=url) for arg in command)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert process.returncode == 1
    assert process.stderr.strip() == (
        f"Error: cannot reach the vote server at {url} (connection refused): is it running "
        "(cyoa present, or cyoa serve), and is the URL right?"
    )


def test_rehearse_totals_match_the_accepted_voters(start_server, open_poll):
    server = start_server()
    result = cli(
        "rehearse", "--url", server.url, "--voters", "40", "--seed", "7", "--token", TWILIO_TOKEN
    )
    assert result.exit_code == 0, result.output
    accepted = int(re.search(r"accepted:\s+(\d+) voters", result.output)[1])
    by_option = dict(re.findall(r"(\d) [A-Za-z ]+: (\d+)", result.output.split("by option:")[1]))
    results = poll_results(server, open_poll)
    assert accepted == 40
    assert results["total"] == accepted
    assert {o["key"]: str(o["votes"]) for o in results["options"]} == by_option
    assert re.search(r"\((\d+) web, (\d+) SMS\)", result.output)


def test_rehearse_mixes_web_and_sms_voters(start_server, open_poll):
    server = start_server()
    summary = rehearse(server.url, 30, sms_share=0.5, seed=3, token=TWILIO_TOKEN, change_share=0.5)
    assert summary.web > 5 and summary.sms > 5
    assert summary.sent > 30 + summary.web  # page loads, votes, and some changes of mind
    assert summary.accepted == 30 and not summary.refused
    assert summary.server["total"] == 30
    assert {o["key"]: o["votes"] for o in summary.server["options"]} == dict(summary.by_option)


def test_rehearse_reports_sms_refused_by_a_wrong_token(start_server, open_poll):
    server = start_server()
    summary = rehearse(server.url, 10, sms_share=1.0, seed=1, token="wrong")
    assert summary.accepted == 0 and summary.refused["sms 403"] >= 10
    assert poll_results(server, open_poll)["total"] == 0


def test_rehearse_with_no_open_poll_says_so(start_server, store):  # store: a fresh talk
    server = start_server()
    result = CliRunner().invoke(main, ["rehearse", "--url", server.url, "--voters", "3"])
    assert result.exit_code == 1
    assert "no poll is open" in result.output


def test_rehearse_with_no_server_is_a_clean_error():
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(main, ["rehearse", "--url", url, "--voters", "3"])
    assert result.exit_code == 1
    assert "cannot reach the vote server" in result.output


def test_the_form_is_read_as_a_browser_reads_it_templates_left_out() -> None:
    """The page carries ``<template>`` markup its script draws from; a rehearsal phone, like
    a browser, must vote with the live form's poll and token, not a template's blanks."""
    page = (
        '<form method="post" action="/vote"><input type="hidden" name="poll" value="product">'
        '<input type="hidden" name="csrf" value="tok"><button name="choice" value="1">A'
        '</button><button name="choice" value="2">B</button></form>'
        '<template id="draw-poll"><form><input type="hidden" name="poll" value="">'
        '<input type="hidden" name="csrf" value=""><button name="choice" value="">'
        "</button></form></template>"
    )
    form = read_form(page)
    assert form.fields == {"poll": "product", "csrf": "tok"}
    assert form.choices == ["1", "2"]
