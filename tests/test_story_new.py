"""``cyoa new``: a story that passes ``cyoa check`` at once, says in every file what to change,
and never overwrites anything."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cyoa.cli import main
from cyoa.story.demos import demo_recording, notebook_demos
from cyoa.story.loader import load_story
from cyoa.story.scaffold import STARTER, starter_files


def cyoa(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def new_story(tmp_path: Path) -> Path:
    folder = tmp_path / "my-first-talk"
    code, out, err = cyoa("new", str(folder))
    assert code == 0, err
    assert f"cyoa present {folder} --rehearse" in out
    return folder


def test_a_new_story_passes_cyoa_check_with_no_warning(new_story: Path) -> None:
    code, out, err = cyoa("check", str(new_story))
    assert code == 0, err
    assert err == ""
    assert "6 scenes, 1 decision, 2 endings, 2 paths from 'title' to an ending" in out
    assert out.rstrip().endswith("OK: no errors, 0 warnings.")


def test_it_has_every_part_a_talk_uses(new_story: Path) -> None:
    story = load_story(new_story)
    assert (story.name, story.title) == ("my-first-talk", "My first talk")
    assert story.scene(story.start).title == "My first talk"
    (decision,) = story.decisions
    assert decision.choice is not None and decision.choice.default == "1"
    assert len(story.endings) == 2
    branches = [story.scene(option.goto) for option in decision.choice.options]
    assert {scene.next for scene in branches} == {ending.id for ending in story.endings}
    assert all(scene.notes for scene in story.scenes), "every scene has speaker notes"
    (pictured,) = [scene for scene in story.scenes if scene.image]
    assert (new_story / pictured.image).is_file() and pictured.alt
    (demo,) = {scene.demo for scene in story.scenes if scene.demo}
    assert story.notebooks_path == (new_story / "notebooks").resolve()
    assert demo in notebook_demos(story.notebooks_path)


def test_the_recorded_demo_is_what_its_notebook_cell_prints(new_story: Path) -> None:
    """The deck shows the recording: it must be the tagged cell's real code and output."""
    story = load_story(new_story)
    (cell,) = notebook_demos(story.notebooks_path)["hello"]
    recording = demo_recording(new_story, "hello")
    assert recording is not None and recording.code == cell
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(cell, "demo:hello", "exec"), {})  # noqa: S102 (the starter's own cell)
    assert recording.output == printed.getvalue()


def test_every_file_says_what_to_change(new_story: Path) -> None:
    for path in sorted(p for p in new_story.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".md", ".yaml"):
            comment = any(line.lstrip().startswith("# ") for line in text.splitlines())
        elif path.suffix == ".svg":
            comment = "<!--" in text
        elif path.suffix == ".json":
            comment = bool(json.loads(text).get("comment"))
        else:
            assert path.suffix == ".ipynb", path
            cells = json.loads(text)["cells"]
            comment = cells[0]["cell_type"] == "markdown" and "".join(cells[1]["source"])[0] == "#"
        assert comment, f"{path.relative_to(new_story)} says nothing about what to change"
        assert "change" in text.lower() or "replace" in text.lower(), path


def test_it_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = cyoa("new", str(tmp_path))
    assert code == 1
    assert f"{tmp_path} is not empty: cyoa new writes only into a new or empty folder" in err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_it_writes_into_an_empty_folder_with_a_given_title(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    code, _, err = cyoa("new", str(folder), "--title", 'Deploys: "the" talk')
    assert code == 0, err
    assert load_story(folder).title == 'Deploys: "the" talk'
    assert cyoa("check", str(folder), "--quiet")[0] == 0


def test_the_starter_is_package_data() -> None:
    """The templates ship in the wheel (pyproject's package-data; test_packaging builds it)."""
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    assert '"starter/**/*"' in pyproject
    names = {path.as_posix() for path in starter_files()}
    assert {"story.yaml.j2", "demos.yaml", "notebooks/learn.ipynb"} <= names
    assert STARTER.name == "starter"
