"""Recorded demos: every demo of the shipped story has a recording that matches its cells."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cyoa.cli import main
from cyoa.story.demos import RECORDINGS_DIR, demo_recording, notebook_demos
from cyoa.story.export import export_site
from cyoa.story.loader import default_story_path, load_story


def test_every_demo_of_the_story_has_a_recording_of_its_current_cells():
    story = load_story(default_story_path())
    cells = notebook_demos(story.notebooks_path)
    for name in sorted({scene.demo for scene in story.scenes if scene.demo}):
        recording = demo_recording(story.root, name)
        assert recording is not None, f"no recording of {name}: run cyoa record-demos"
        assert recording.code == "\n\n".join(cells[name]), f"{name}: cells changed since"
        assert recording.output.strip(), name
        raw = json.loads((story.root / RECORDINGS_DIR / f"{name}.json").read_text())
        assert raw["ok"], f"{name} did not run cleanly when it was recorded"
        assert "/tmp/" not in recording.output, "scratch paths are normalised"


def test_record_demos_runs_the_real_demo(tmp_path):
    """The nginx demo recorded into a copy of the story shows nginx's real 502."""
    import shutil

    story_dir = tmp_path / "wsgi"
    shutil.copytree(default_story_path(), story_dir, ignore=shutil.ignore_patterns("recordings"))
    notebooks = (default_story_path() / load_story(default_story_path()).notebooks).resolve()
    meta = (story_dir / "story.yaml").read_text()
    (story_dir / "story.yaml").write_text(meta.replace("../../../notebooks", str(notebooks)))
    result = CliRunner().invoke(main, ["record-demos", str(story_dir), "--only", "nginx-502"])
    assert result.exit_code == 0, result.output
    recording = demo_recording(story_dir, "nginx-502")
    assert "502 Bad Gateway" in recording.output and "nginx -t" in recording.output


def test_the_export_shows_a_demos_recorded_output(tmp_path):
    story = load_story(default_story_path())
    scene = next(s for s in story.scenes if s.demo == "nginx-502")
    export_site(story, tmp_path / "site")
    page = next((tmp_path / "site").rglob(f"{scene.id}.html")).read_text()
    assert "502 Bad Gateway" in page
