"""``cyoa check`` on stories an author might write: broken ones are refused with a message
naming the file and the scene, legal ones (loops with a way out) pass, nothing crashes.

Every case goes through the command itself (click's runner on ``cyoa.cli.main``), since the
checker's functions passing proves nothing about what the author sees.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from story_helpers import write_story

from cyoa.cli import main
from cyoa.story.loader import load_story
from cyoa.story.paths import count_paths, enumerate_paths, loop_links

PICK = """
---
id: pick
title: Pick one
choice:
  question: Which way?
  options:
{options}
---

Vote now.
"""


def pick(*options: str) -> str:
    """A decision scene with these option lines (flow mappings, one per line)."""
    return PICK.format(options="\n".join(f"    - {option}" for option in options))


def run_check(root: Path, *args: str) -> Result:
    result = CliRunner().invoke(main, ["check", str(root), *args])
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    return result


def notebook(path: Path, tags: list[str]) -> None:
    cells = [
        {"cell_type": "code", "source": f"print('{tag}')", "metadata": {"tags": [tag]},
         "outputs": [], "execution_count": None}
        for tag in tags
    ]  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4}), "utf-8")


# name -> (scene files to replace, {other file: bytes}, every expected line fragment)
REFUSED: dict[str, tuple[dict[str, str | None], dict[str, bytes], list[str]]] = {
    "scene file in Latin-1": (
        {},
        {"scenes/03-left.md": "---\nid: left\ntitle: Café\nending: L\n---\n".encode("latin-1")},
        ["03-left.md:3: error: scene 'left': not UTF-8: byte 0xe9 in column 11"],
    ),
    "story.yaml in Latin-1": (
        {},
        {"story.yaml": "name: tiny\ntitle: Café\nstart: start\n".encode("latin-1")},
        ["story.yaml:2: error: not UTF-8: byte 0xe9 in column 11"],
    ),
    "demos.yaml in Latin-1": (
        {},
        {"demos.yaml": "hello: says hello in a café\n".encode("latin-1")},
        ["demos.yaml:1: error: not UTF-8: byte 0xe9 in column 27"],
    ),
    "front matter never closed": (
        {"03-left.md": "---\nid: left\ntitle: Left\nending: L\n\nThe end.\n"},
        {},
        ["03-left.md:1: error: scene 'left': front matter never ends: add a --- line"],
    ),
    "a bare ending": (
        {"03-left.md": "---\nid: left\ntitle: Left\nending:\n---\n"},
        {},
        ["03-left.md:4: error: scene 'left': 'ending' is empty: say how this path ends"],
    ),
    "a bare next": (
        {"03-left.md": "---\nid: left\ntitle: Left\nnext:\n---\n"},
        {},
        ["03-left.md:4: error: scene 'left': 'next' is empty: name the scene that comes next"],
    ),
    "an option without goto": (
        {"02-pick.md": pick("{key: '1', label: Left, goto: left}", "{key: '2', label: Right}")},
        {},
        ["02-pick.md:8: error: scene 'pick': 'goto' is missing: every option needs one"],
    ),
    "ten options without keys": (
        {
            "02-pick.md": pick(
                *(f"{{label: Door {word}, goto: left}}" for word in "abcdefghij"[:9]),
                "{label: The last door, goto: right}",
            )
        },
        {},
        [
            "02-pick.md:4: error: scene 'pick': a choice has at most 9 options, has 10",
            "02-pick.md:16: error: scene 'pick': option 10 has no key, and keys run 1 to 9",
        ],
    ),
    "a demo declared but not tagged in a notebook": (
        {},
        {
            "story.yaml": b"name: tiny\ntitle: Tiny\nstart: start\nnotebooks: notebooks\n",
            "notebooks/learn.ipynb": b"",  # replaced below by a notebook tagging nginx-502
        },
        [
            "01-start.md:4: error: scene 'start': unknown demo 'hello': a demo must be declared "
            "in demos.yaml and tagged demo:<name> in a notebook of notebooks; 'hello' is "
            "declared, but no code cell there is tagged demo:hello"
        ],
    ),
    "a notebook that is not JSON": (
        {},
        {
            "story.yaml": b"name: tiny\ntitle: Tiny\nstart: start\nnotebooks: notebooks\n",
            "notebooks/broken.ipynb": b'{"cells": [\n  {"cell_type": "code",,}\n]}\n',
        },
        ["broken.ipynb:2: error: not a notebook: invalid JSON"],
    ),
    "notebooks: names no folder": (
        {},
        {"story.yaml": b"name: tiny\ntitle: Tiny\nstart: start\nnotebooks: ../nowhere\n"},
        ["story.yaml:4: error: notebooks: '../nowhere' is not a folder"],
    ),
    "an SMS word that is the other option's key": (
        {
            "02-pick.md": pick(
                "{key: '1', label: Left, goto: left, sms: [west, '2']}",
                "{key: '2', label: Right, goto: right}",
            )
        },
        {},
        [
            "02-pick.md:7: error: scene 'pick': a text '2' votes for option 2 (as option 2's "
            "key), yet it is also an sms word of option 1"
        ],
    ),
    "an SMS word that is a word of the other option's label": (
        {
            "02-pick.md": pick(
                "{key: '1', label: Into the dark forest, goto: left}",
                "{key: '2', label: Back to the village, goto: right, sms: [dark]}",
            )
        },
        {},
        [
            "02-pick.md:8: error: scene 'pick': a text 'dark' votes for no option (the vote "
            "server answers 'unknown' and the vote is lost): it is a word of option 1's label "
            "'Into the dark forest' and an sms word of option 2"
        ],
    ),
    "an SMS word that catches the plural in the other option's label": (
        {
            "02-pick.md": pick(
                "{key: '1', label: Tinder, goto: left, sms: [pet]}",
                "{key: '2', label: Lonely pets club, goto: right}",
            )
        },
        {},
        [
            "02-pick.md:8: error: scene 'pick': a text 'pets' votes for no option (the vote "
            "server answers 'unknown' and the vote is lost): it is a word of option 2's label "
            "'Lonely pets club', and it also matches the label or sms words of option 1"
        ],
    ),
    "a label the SMS provider takes as opt-out": (
        {
            "02-pick.md": pick(
                "{key: '1', label: Go on, goto: left}", "{key: '2', label: Stop, goto: right}"
            )
        },
        {},
        ["02-pick.md:8: error: scene 'pick': a text 'Stop' is the opt-out keyword"],
    ),
    "an SMS word that is the other option's letter": (
        {
            "02-pick.md": pick(
                "{key: '1', label: Left, goto: left, sms: [b]}",
                "{key: '2', label: Right, goto: right}",
            )
        },
        {},
        [
            "02-pick.md:7: error: scene 'pick': a text 'b' votes for option 1 (as an sms word "
            "of option 1), yet it is also option 2's letter"
        ],
    ),
}


def build(tmp_path: Path, scenes: dict[str, str | None], files: dict[str, bytes]) -> Path:
    root = write_story(tmp_path / "story", replace=scenes)
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".ipynb") and not data:
            notebook(root / name, ["demo:nginx-502"])
        else:
            (root / name).write_bytes(data)
    return root


@pytest.mark.parametrize("case", list(REFUSED), ids=list(REFUSED))
def test_cyoa_check_refuses_naming_the_file_and_the_scene(tmp_path: Path, case: str) -> None:
    scenes, files, expected = REFUSED[case]
    result = run_check(build(tmp_path, scenes, files))
    assert result.exit_code == 1, result.stdout
    lines = result.stderr.splitlines()
    for fragment in expected:
        assert any(fragment in line for line in lines), "\n".join(lines)
    assert "fix them first" in lines[-1]
    assert "paths from" not in result.stdout


def test_misleading_messages_are_gone(tmp_path: Path) -> None:
    """The old messages pointed the wrong way; none of them comes back for these stories."""
    cases = [
        ("front matter never closed", "no front matter"),
        ("a bare ending", "dead end"),
        ("a demo declared but not tagged in a notebook", "none declared"),
    ]
    for index, (case, wrong) in enumerate(cases):
        scenes, files, _ = REFUSED[case]
        result = run_check(build(tmp_path / str(index), scenes, files))
        assert wrong not in result.stderr, result.stderr


LOOP_BACK = {
    "03-left.md": pick(
        "{key: '1', label: Onward, goto: far}",
        "{key: '2', label: Sideways, goto: right}",
        "{key: '3', label: Back to the fork, goto: pick}",
    ).replace("id: pick", "id: left"),
    "05-far.md": "---\nid: far\ntitle: Far\nending: Far away\n---\n",
}
ASK_AGAIN = {
    "02-pick.md": pick(
        "{key: '1', label: Left, goto: left}",
        "{key: '2', label: Right, goto: right}",
        "{key: '3', label: Ask again, goto: pick}",
    )
}


@pytest.mark.parametrize(
    ("scenes", "paths", "loops"),
    [(LOOP_BACK, 3, "left → pick"), (ASK_AGAIN, 2, "pick → pick")],
    ids=["a third option back to the decision before", "a decision that can ask again"],
)
def test_a_loop_with_a_way_out_passes_and_is_counted(
    tmp_path: Path, scenes: dict[str, str], paths: int, loops: str
) -> None:
    root = write_story(tmp_path, replace=scenes)
    result = run_check(root)
    assert result.exit_code == 0, result.stderr
    assert f"{paths} paths from 'start' to an ending" in result.stdout
    assert f"The talk can loop: 1 link back to an earlier scene ({loops})" in result.stdout
    assert "a path counts when it visits no scene twice" in result.stdout
    listed = [line for line in result.stdout.splitlines() if " → " in line and "(" in line]
    assert len(listed) == paths + 1  # the paths, and the line naming the loop
    story = load_story(root)
    assert count_paths(story) == len(enumerate_paths(story)) == paths
    assert [f"{a} → {b}" for a, b in loop_links(story)] == [loops]


def test_a_tangle_of_loops_is_too_many_paths_not_a_hang(tmp_path: Path) -> None:
    """Twelve rooms, each leading to the next eight: more paths than anyone counts, said so."""
    rooms = [f"room-{letter}" for letter in "abcdefghijkl"]
    scenes = {"01-start.md": "---\nid: start\ntitle: Start\nnext: room-a\n---\n"}
    for number, room in enumerate(rooms):
        others = [rooms[(number + step) % len(rooms)] for step in range(1, 9)]
        options = [f"{{label: Through door {other[-1]}, goto: {other}}}" for other in others]
        options.append("{label: Leave the house, goto: out}")
        scenes[f"{number + 2:02}-{room}.md"] = pick(*options).replace("id: pick", f"id: {room}")
    scenes["99-out.md"] = "---\nid: out\ntitle: Out\nending: Outside\n---\n"
    result = run_check(write_story(tmp_path, scenes), "--quiet")
    assert result.exit_code == 0, result.stderr
    assert "14 scenes, 12 decisions, 1 ending, too many paths from 'start'" in result.stdout
    assert "The talk can loop" in result.stdout


ACCEPTED = {
    "a story without notebooks: declared demos are enough": ({}, {}),
    "a notebook of any name": (
        {},
        {
            "story.yaml": b"name: tiny\ntitle: Tiny\nstart: start\nnotebooks: notebooks\n",
            "notebooks/intro.ipynb": b"",
        },
    ),
    "a scene saved with a byte-order mark (as Notepad saves)": (
        {},
        {"scenes/03-left.md": b"\xef\xbb\xbf---\nid: left\ntitle: Left\nending: L\n---\n"},
    ),
    "two labels sharing a word nobody is told to text": (
        {
            "02-pick.md": pick(
                "{key: '1', label: Accept the money, goto: left, sms: [accept]}",
                "{key: '2', label: Reject the money, goto: right, sms: [reject, 'no']}",
            )
        },
        {},
    ),
}


@pytest.mark.parametrize("case", list(ACCEPTED), ids=list(ACCEPTED))
def test_stories_the_readme_allows_pass(tmp_path: Path, case: str) -> None:
    scenes, files = ACCEPTED[case]
    root = build(tmp_path, scenes, files)
    if (root / "notebooks" / "intro.ipynb").exists():
        notebook(root / "notebooks" / "intro.ipynb", ["demo:hello", "demo:nginx-502"])
    result = run_check(root)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.rstrip().endswith("OK: no errors, 0 warnings.")


def test_an_error_cyoa_did_not_expect_is_one_line_naming_the_file(tmp_path: Path) -> None:
    """Front matter nested 5,000 deep makes PyYAML itself recurse too deep: not a traceback."""
    deep = "---\nid: left\ntitle: Left\nending: L\nalt: " + "[" * 5000 + "]" * 5000 + "\n---\n"
    root = write_story(tmp_path, replace={"03-left.md": deep})
    done = subprocess.run(
        [sys.executable, "-m", "cyoa", "check", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    (line,) = [line for line in done.stderr.splitlines() if "bug in cyoa" in line]
    assert line.startswith(str(root / "scenes" / "03-left.md") + ": error: cyoa failed")
    assert "RecursionError" in line
