"""``cyoa present``'s pieces and ``cyoa results``, without a browser."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cyoa.cli import main
from cyoa.deck import load_story
from cyoa.present import PresentError, lan_address, single_run, voila_argv
from voteserver.store import Option


def test_a_second_run_with_the_same_state_dir_is_refused(tmp_path: Path) -> None:
    with single_run(tmp_path) as info:
        info.write_text(json.dumps({"pid": 4242, "deck_url": "http://127.0.0.1:8001/deck"}))
        refused = pytest.raises(PresentError, match=r"already running \(pid 4242\).*8001")
        with refused, single_run(tmp_path):
            pass
    with single_run(tmp_path):  # released on the way out
        pass


def test_voila_is_pre_heated_and_loopback_only(tmp_path: Path) -> None:
    from cyoa.present import Settings

    argv = voila_argv(tmp_path, Settings(story=tmp_path, state_dir=tmp_path, deck_port=9))
    assert "--preheat_kernel=True" in argv and "--pool_size=1" in argv
    assert "--Voila.ip=127.0.0.1" in argv and "--template=cyoa" in argv
    assert lan_address().count(".") == 3


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
