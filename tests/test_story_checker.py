"""The checker refuses every kind of broken story, naming the file, the line and the scene."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from story_helpers import write_story

from cyoa.story.checker import check_story, errors
from cyoa.story.loader import load_story
from cyoa.story.problems import StoryError


def problems_of(root: Path) -> list[str]:
    """What ``cyoa check`` would print for the story at ``root``: one line per problem."""
    try:
        story = load_story(root)
    except StoryError as error:
        return [str(problem) for problem in error.problems]
    return [str(problem) for problem in check_story(story)]


def test_a_valid_story_has_no_problems(tmp_path: Path) -> None:
    story = load_story(write_story(tmp_path))
    assert check_story(story) == []
    assert [scene.id for scene in story.scenes] == ["start", "pick", "left", "right"]
    pick = story.scene("pick")
    assert pick.choice is not None
    assert [option.key for option in pick.choice.options] == ["1", "2"]
    assert pick.choice.default == "2"
    assert story.scene("start").notes == "Wave."
    assert story.scene("start").body == "Hello, room."


BROKEN = {
    "broken next link": (
        {"01-start.md": "---\nid: start\ntitle: Welcome\nnext: pik\n---\nHi\n"},
        "01-start.md:4: error: scene 'start': broken link: next 'pik' is not a scene",
    ),
    "broken option link": (
        {
            "02-pick.md": """
            ---
            id: pick
            title: Pick one
            choice:
              question: Which way?
              options:
                - {key: "1", label: Left, goto: left}
                - {key: "2", label: Right, goto: rihgt}
            ---
            """
        },
        "02-pick.md:8: error: scene 'pick': broken link: option 2 goes to 'rihgt', "
        "which is not a scene",
    ),
    "unreachable scene": (
        {"05-lost.md": "---\nid: lost\ntitle: Lost\nending: Nobody comes here\n---\n"},
        "05-lost.md:2: error: scene 'lost': unreachable: no path from the start 'start' leads here",
    ),
    "dead end": (
        {"03-left.md": "---\nid: left\ntitle: Left\n---\nAnd then nothing.\n"},
        "03-left.md:2: error: scene 'left': dead end: the scene has no next, choice or ending",
    ),
    "choice with one option": (
        {
            "02-pick.md": """
            ---
            id: pick
            title: Pick one
            choice:
              question: Which way?
              options:
                - {key: "1", label: Left, goto: left}
            ---
            """
        },
        "02-pick.md:4: error: scene 'pick': a choice needs at least 2 options, has 1",
    ),
    "duplicate id": (
        {"05-again.md": "---\nid: left\ntitle: Left again\nending: Twice\n---\n"},
        "05-again.md:2: error: scene 'left': duplicate id: 'left' is also in 03-left.md:2",
    ),
    "duplicate option key": (
        {
            "02-pick.md": """
            ---
            id: pick
            title: Pick one
            choice:
              question: Which way?
              options:
                - {key: "1", label: Left, goto: left}
                - {key: "1", label: Right, goto: right}
            ---
            """
        },
        "02-pick.md:8: error: scene 'pick': duplicate option key '1'",
    ),
    "unknown demo": (
        {"01-start.md": "---\nid: start\ntitle: Welcome\ndemo: helo\nnext: pick\n---\n"},
        "01-start.md:4: error: scene 'start': unknown demo 'helo': a demo must be declared in "
        "demos.yaml (known: hello, nginx-502)",
    ),
    "missing image": (
        {"03-left.md": "---\nid: left\ntitle: Left\nimage: images/nope.svg\nending: L\n---\n"},
        "03-left.md:4: error: scene 'left': missing image 'images/nope.svg': "
        "no such file in the story folder",
    ),
    "image from the network": (
        {
            "03-left.md": (
                "---\nid: left\ntitle: L\nimage: https://cdn.example/x.png\nending: L\n---\n"
            )
        },
        "03-left.md:4: error: scene 'left': image 'https://cdn.example/x.png' must be a file "
        "in the story folder, not a URL",
    ),
    "loop that never ends": (
        {
            "03-left.md": "---\nid: left\ntitle: Left\nnext: lefter\n---\n",
            "05-lefter.md": "---\nid: lefter\ntitle: Lefter\nnext: left\n---\n",
        },
        "03-left.md:2: error: scene 'left': loop that never reaches an ending: "
        "left → lefter → left",
    ),
    "next and choice at once": (
        {
            "02-pick.md": """
            ---
            id: pick
            title: Pick one
            next: left
            choice:
              question: Which way?
              options:
                - {key: "1", label: Left, goto: left}
                - {key: "2", label: Right, goto: right}
            ---
            """
        },
        "02-pick.md:5: error: scene 'pick': has next and choice: a scene goes on in exactly "
        "one way",
    ),
    "key the audience cannot text": (
        {
            "02-pick.md": """
            ---
            id: pick
            title: Pick one
            choice:
              question: Which way?
              options:
                - {key: "1", label: Left, goto: left}
                - {key: "left", label: Right, goto: right}
            ---
            """
        },
        "02-pick.md:8: error: scene 'pick': option key 'left' must be one digit, 1 to 9 "
        "(the audience texts it)",
    ),
    "default that is not an option": (
        {
            "02-pick.md": """
            ---
            id: pick
            title: Pick one
            choice:
              question: Which way?
              default: "3"
              options:
                - {key: "1", label: Left, goto: left}
                - {key: "2", label: Right, goto: right}
            ---
            """
        },
        "02-pick.md:6: error: scene 'pick': default '3' is not one of the option keys",
    ),
    "one SMS word for two options": (
        {
            "02-pick.md": """
            ---
            id: pick
            title: Pick one
            choice:
              question: Which way?
              options:
                - {key: "1", label: Left, goto: left, sms: [west, way]}
                - {key: "2", label: Right, goto: right, sms: [east, way]}
            ---
            """
        },
        "02-pick.md:8: error: scene 'pick': sms word 'way' means both option 1 and option 2",
    ),
    "typo in a field name": (
        {"03-left.md": "---\nid: left\ntitle: Left\nendign: Oops\n---\n"},
        "03-left.md:4: error: scene 'left': unknown field 'endign' (known: id, title, image, "
        "alt, demo, next, choice, ending)",
    ),
    "bad YAML": (
        {"03-left.md": "---\nid: left\ntitle: [Left\nending: L\n---\n"},
        "03-left.md:",
    ),
    "start that does not exist": (
        {"01-start.md": None},
        "story.yaml: error: start scene 'start' does not exist",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_broken_story_is_refused_naming_file_line_and_scene(tmp_path: Path, case: str) -> None:
    replace, expected = BROKEN[case]
    root = write_story(tmp_path, replace=replace)
    found = problems_of(root)
    assert any(expected in line for line in found), "\n".join(found)
    assert all("error" in line for line in found if expected in line)


def test_every_problem_is_reported_in_one_run(tmp_path: Path) -> None:
    root = write_story(
        tmp_path,
        replace={
            "01-start.md": "---\nid: start\ntitle: Welcome\ndemo: nope\nnext: pick\n---\n",
            "03-left.md": "---\nid: left\ntitle: Left\nnext: gone\n---\n",
        },
    )
    found = problems_of(root)
    assert len(found) == 2
    assert "unknown demo 'nope'" in found[0]
    assert "broken link: next 'gone'" in found[1]


def test_a_long_slide_is_a_warning_not_an_error(tmp_path: Path) -> None:
    wordy = "word " * 200
    root = write_story(
        tmp_path, replace={"03-left.md": f"---\nid: left\ntitle: Left\nending: L\n---\n{wordy}\n"}
    )
    problems = check_story(load_story(root))
    assert errors(problems) == []
    assert [problem.severity for problem in problems] == ["warning"]
    assert "long slide: 200 words" in str(problems[0])
    assert "03-left.md" in str(problems[0])


def test_a_loop_with_a_way_out_is_allowed(tmp_path: Path) -> None:
    """A "go back and choose again" option is fine as long as an ending stays reachable."""
    root = write_story(
        tmp_path,
        replace={
            "03-left.md": """
            ---
            id: left
            title: Left
            choice:
              question: Really?
              options:
                - {key: "1", label: Back, goto: pick}
                - {key: "2", label: Finish, goto: right}
            ---
            """
        },
    )
    assert check_story(load_story(root)) == []


def _notebook(path: Path, tags: list[str]) -> None:
    cells = [
        {
            "cell_type": "code",
            "source": f"print('{tag}')",
            "metadata": {"tags": [tag]},
            "outputs": [],
            "execution_count": None,
        }
        for tag in tags
    ]
    path.write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}),
        encoding="utf-8",
    )


def test_a_demo_without_a_notebook_cell_is_refused(tmp_path: Path) -> None:
    """A story that names its notebooks: each demo it uses must be a tagged cell there."""
    root = write_story(tmp_path / "story")
    with (root / "story.yaml").open("a") as meta:
        meta.write("notebooks: ../notebooks\n")
    (tmp_path / "notebooks").mkdir()
    _notebook(tmp_path / "notebooks" / "learn-1.ipynb", ["demo:nginx-502"])
    found = problems_of(root)
    assert len(found) == 1
    assert (
        "scene 'start': unknown demo 'hello': a demo must be declared in demos.yaml and "
        "tagged demo:<name> in a notebook of ../notebooks" in found[0]
    )
    _notebook(tmp_path / "notebooks" / "learn-2.ipynb", ["demo:hello"])
    assert problems_of(root) == []
