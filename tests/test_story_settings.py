"""A decision's settings in the story format (``hide_results``, ``time_limit``, ``default``):
legal ones load and survive a round trip; bad ones are refused by the ``cyoa check``
command with the file, the line and the scene, and never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from story_helpers import write_story

from cyoa.cli import main
from cyoa.story.loader import load_story
from cyoa.story.writer import write_story as write_back

PICK = """
---
id: pick
title: Pick one
choice:
  question: Which way?
  default: "2"
{settings}
  options:
    - key: "1"
      label: Left
      goto: left
    - key: "2"
      label: Right
      goto: right
---

Vote now.
"""
SETTINGS_LINE = 7  # the first settings line of PICK, in the scene file


def story_with(tmp_path: Path, *settings: str) -> Path:
    lines = "\n".join(f"  {line}" for line in settings)
    return write_story(tmp_path / "story", replace={"02-pick.md": PICK.format(settings=lines)})


def check(root: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", "--quiet", str(root)])
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    return result.exit_code, output


def test_a_timed_hidden_decision_checks_and_loads(tmp_path: Path) -> None:
    root = story_with(tmp_path, "hide_results: true", "time_limit: 45")
    code, output = check(root)
    assert code == 0, output
    choice = load_story(root).scene("pick").choice
    assert choice is not None
    assert (choice.hide_results, choice.time_limit, choice.default) == (True, 45, "2")


def test_without_settings_the_room_sees_counts_and_the_presenter_closes(tmp_path: Path) -> None:
    root = story_with(tmp_path)
    choice = load_story(root).scene("pick").choice
    assert choice is not None and (choice.hide_results, choice.time_limit) == (False, None)


def test_the_settings_survive_writing_the_story_back(tmp_path: Path) -> None:
    story = load_story(story_with(tmp_path, "hide_results: yes", "time_limit: 90"))
    again = load_story(write_back(story, tmp_path / "again"))
    assert again.scene("pick").choice == story.scene("pick").choice
    assert again.scene("pick").choice.time_limit == 90


BAD = {
    "hide_results: maybe": "'hide_results' must be true or false, not 'maybe'",
    'hide_results: "true"': "'hide_results' must be true or false, not 'true'",
    "hide_results:": "'hide_results' must be true or false, not nothing",
    "time_limit: 45s": "'time_limit' must be a whole number of seconds (time_limit: 45), not '45s'",
    "time_limit: 2.5": "'time_limit' must be a whole number of seconds (time_limit: 45), not 2.5",
    "time_limit: true": "'time_limit' must be a whole number of seconds (time_limit: 45), not True",
    "time_limit:": "'time_limit' must be a whole number of seconds (time_limit: 45), not nothing",
    "time_limit: 3": "time_limit 3 is too short: give the room at least 10 seconds",
    "time_limit: -5": "time_limit -5 is too short",
    "time_limit: 7200": "time_limit 7200 is over an hour (3600 seconds)",
    "timelimit: 45": "unknown field 'timelimit' (known: question, options, default, "
    "hide_results, time_limit)",
}


@pytest.mark.parametrize("setting", BAD)
def test_a_bad_setting_is_refused_naming_file_line_and_scene(tmp_path: Path, setting: str) -> None:
    root = story_with(tmp_path, setting, "# the author's comment")
    code, output = check(root)
    assert code != 0, output
    where = f"scenes/02-pick.md:{SETTINGS_LINE}: error: scene 'pick': "
    assert where + BAD[setting] in output, output
    assert "1 error; fix them first" in output, output
