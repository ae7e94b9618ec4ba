"""``cyoa present``'s pieces and ``cyoa results``, without a browser."""

from __future__ import annotations

import ipaddress
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import free_port

from cyoa.cli import main
from cyoa.deck import load_story
from cyoa.present import PresentError, Settings, plan_talk, single_run, voila_argv
from cyoa.voteserver.store import Option


def test_a_second_run_with_the_same_state_dir_is_refused(tmp_path: Path) -> None:
    with single_run(tmp_path) as info:
        info.write_text(json.dumps({"pid": 4242, "deck_url": "http://127.0.0.1:8001/deck"}))
        refused = pytest.raises(PresentError, match=r"already running \(pid 4242\).*8001")
        with refused, single_run(tmp_path):
            pass
    with single_run(tmp_path):  # released on the way out
        pass


def test_voila_is_pre_heated_and_loopback_only(tmp_path: Path) -> None:
    """Voilà's own parser reads the command line: what Voilà will do, not what we typed."""
    from traitlets.utils.importstring import import_item
    from voila.app import Voila

    from cyoa.deck import template
    from cyoa.deck.kernels import FreshPoolKernelManager

    settings = Settings(story=tmp_path, state_dir=tmp_path, deck_port=free_port())
    argv = voila_argv(tmp_path, settings)
    assert argv[:3] == [sys.executable, "-m", "voila"]
    voila = Voila()
    voila.parse_command_line(argv[3:])
    assert ipaddress.ip_address(voila.ip).is_loopback  # the deck is never on the network
    assert (voila.port, voila.port_retries) == (settings.deck_port, 0)  # that port or none
    assert voila.extra_args == [str(tmp_path)]  # the deck's notebooks
    deck = voila.config.VoilaConfiguration
    assert deck.preheat_kernel is True and deck.default_pool_size >= 1
    assert deck.template == template.OURS.parent.name  # the template cyoa ships
    assert import_item(deck.multi_kernel_manager_class) is FreshPoolKernelManager


def test_results_prints_the_path_with_each_tally_and_writes_the_export(
    store, talk_id: str, redis_url: str, tmp_path: Path
) -> None:
    story = load_story()
    decision = story.decisions[0]
    options = [Option(o.key, o.label, o.sms) for o in decision.choice.options]
    store.start_talk(talk_id, story=story.name)
    store.define_poll(talk_id, decision.id, decision.choice.question, options, scene=decision.id)
    store.open_poll(talk_id, decision.id)
    for voter, choice in enumerate(["2", "2", "1"]):
        assert store.cast_vote(talk_id, decision.id, f"v{voter}", choice).accepted
    store.close_poll(talk_id, decision.id)
    second = decision.choice.option("2").goto
    store.put_state(talk_id, second, [story.start, decision.id, second])

    result = CliRunner().invoke(
        main,
        ["results", "--talk", talk_id, "--out", str(tmp_path)],
        env={"REDIS_URL": redis_url, "CYOA_STATE_DIR": str(tmp_path / "state")},
    )
    assert result.exit_code == 0, result.output
    assert f"Talk {talk_id} · story {story.name}" in result.output
    followed = next(line for line in result.output.splitlines() if "▶" in line)
    assert decision.choice.option("2").label[:30] in followed and " 2 " in followed
    data = json.loads((tmp_path / f"cyoa-results-{talk_id}.json").read_text())
    assert {"talk", "story", "path", "polls"} <= set(data)
    assert data["path"][-1] == second and data["polls"][0]["total"] == 3
    assert "votes" in (tmp_path / f"cyoa-results-{talk_id}.csv").read_text().splitlines()[0]


def test_results_for_an_unknown_talk_is_a_clean_error(redis_url: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["results", "--talk", "never-held"], env={"REDIS_URL": redis_url}
    )
    assert result.exit_code == 1
    assert "no talk 'never-held'" in result.output and "Traceback" not in result.output


NOW = 1_900_000_000.0


def current(**state) -> dict:
    """The current talk as GET /api/state reports it: the wsgi story, moved a minute ago."""
    return {"talk": "t1", "story": "wsgi", "scene": "welcome", "updated": NOW - 60, **state}


def plan(state: dict, **settings) -> tuple[bool, str]:
    return plan_talk(state, "wsgi", Settings(story=Path("."), state_dir=Path("."), **settings), NOW)


def test_a_crash_in_the_live_talk_resumes_where_it_was() -> None:
    fresh, why = plan(current())
    assert not fresh and why.startswith("resuming t1") and "1 min ago" in why


def test_the_mornings_rehearsal_never_becomes_the_afternoons_talk() -> None:
    fresh, why = plan(current(rehearsal=True))
    assert fresh and "was a rehearsal" in why and "cyoa results --talk t1" in why
    with pytest.raises(PresentError, match="a rehearsal never becomes the live talk"):
        plan(current(rehearsal=True), resume=True)
    fresh, _why = plan(current(rehearsal=True), rehearse=True)
    assert not fresh  # going on with the rehearsal is fine
    fresh, why = plan(current(), rehearse=True)
    assert fresh and "a new rehearsal" in why  # a rehearsal never lands in the live talk


def test_yesterdays_talk_is_not_resumed_unless_asked() -> None:
    stale = current(updated=NOW - 20 * 3600)
    fresh, why = plan(stale)
    assert fresh and "20.0 h ago" in why and "--resume" in why
    fresh, why = plan(stale, resume=True)
    assert not fresh and "--resume" in why


def test_another_story_or_new_talk_starts_afresh() -> None:
    assert plan(current(story="other"))[0]
    assert plan(current(), new_talk=True) == (True, "a new live talk (--new-talk)")


def test_prepare_talk_keeps_a_rehearsal_apart_from_the_live_talk(start_server) -> None:
    """Against a real vote server: rehearse, vote, then go live: the room sees a clean talk."""
    import requests
    from conftest import PRESENTER_TOKEN

    from cyoa.present import prepare_talk

    server = start_server()
    auth = {"Authorization": f"Bearer {PRESENTER_TOKEN}"}
    story = load_story()
    settings = Settings(story=story.root, state_dir=Path("."), rehearse=True)
    rehearsal = prepare_talk(server.url, PRESENTER_TOKEN, settings)
    assert rehearsal["rehearsal"] is True and rehearsal["scene"] == story.start
    moved = requests.put(
        server.url + "/api/state",
        json={"scene": "pets", "path": ["welcome", "pets"]},
        headers=auth,
        timeout=5,
    )
    assert moved.status_code == 200
    again = prepare_talk(server.url, PRESENTER_TOKEN, settings)  # a rehearsal restarted
    assert again["talk"] == rehearsal["talk"] and again["scene"] == "pets"

    live = prepare_talk(
        server.url, PRESENTER_TOKEN, Settings(story=story.root, state_dir=Path("."))
    )
    assert live["talk"] != rehearsal["talk"] and live["rehearsal"] is False
    assert live["scene"] == story.start and "was a rehearsal" in live["why"]
    state = requests.get(server.url + "/api/state", headers=auth, timeout=5).json()
    assert state["talk"] == live["talk"] and state["path"] == [story.start]


def test_ports_are_refused_with_the_reason_before_anything_starts(tmp_path: Path) -> None:
    from test_present_cleanup import free_port as quiet_port

    from cyoa.present import check_ports

    def refused(port: int, deck_port: int) -> str:
        settings = Settings(story=tmp_path, state_dir=tmp_path, port=port, deck_port=deck_port)
        with pytest.raises(PresentError) as error:
            check_ports(settings)
        return str(error.value)

    free = free_port()
    assert refused(free, free) == f"--port and --deck-port are both {free}: they must differ"
    assert refused(free, 65536) == (
        "port 65536 (the deck, Voilà) is not a port (1-65535): choose another with --deck-port"
    )
    assert "(the vote server) is not a port" in refused(0, free)
    port = quiet_port()
    deck_port = next(p for p in iter(quiet_port, None) if p != port)
    check_ports(Settings(story=tmp_path, state_dir=tmp_path, port=port, deck_port=deck_port))
