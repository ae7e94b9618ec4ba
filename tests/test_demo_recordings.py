"""Recorded demos: every demo of the shipped story has a recording that matches its cells."""

from __future__ import annotations

import json
import sys

from click.testing import CliRunner

from cyoa.cli import main
from cyoa.demos.record import MACHINE_PATH, code_for, normalize, products, recording_name
from cyoa.demos.runner import PRODUCTS
from cyoa.story.demos import RECORDINGS_DIR, demo_recording, notebook_demos
from cyoa.story.export import export_site
from cyoa.story.loader import default_story_path, load_story


def story_recordings():
    """(demo, product, the recording's JSON) for every demo of the story and every product."""
    story = load_story(default_story_path())
    for name in sorted({scene.demo for scene in story.scenes if scene.demo}):
        for product in products():
            file = story.root / RECORDINGS_DIR / recording_name(name, product)
            assert file.is_file(), f"no recording of {name} for {product}: cyoa record-demos"
            yield name, product, json.loads(file.read_text())


def test_every_demo_of_the_story_has_a_recording_of_its_current_cells():
    story = load_story(default_story_path())
    cells = notebook_demos(story.notebooks_path)
    for name, product, raw in story_recordings():
        recording = demo_recording(story.root, name, None if product == "dachshund" else product)
        assert recording is not None
        code = code_for("\n\n".join(cells[name]), product)
        assert recording.code == code, f"{name}: cells changed since"
        assert recording.output.strip(), name
        assert raw["ok"], f"{name} ({product}) did not run cleanly when it was recorded"


def test_no_recording_shows_the_machine_it_was_recorded_on():
    """No /tmp/, /work/, /root/, /home/ or .venv path: only $SCRATCH/..., python, ~."""
    for name, product, raw in story_recordings():
        found = [m.group(0) for m in MACHINE_PATH.finditer(raw["output"])]
        assert found == [], f"{name} ({product}) shows machine paths: {found[:3]}"


def test_each_recording_is_of_its_own_product():
    """The pets branch's recording is of Tinder for Pets and never names the other product."""
    for name, product, raw in story_recordings():
        assert raw["product"] == product, name
        others = [PRODUCTS[p] for p in PRODUCTS if p != product]
        assert [o for o in others if o in raw["output"]] == [], f"{name} ({product})"
        assert f"({PRODUCTS[product]})" in raw["output"].splitlines()[0], name


def test_the_machine_path_check_catches_what_it_must():
    caught = "$ /work/main/.venv/bin/python -m flask\n  SCRATCH /tmp/cyoa-x/a\n cd /home/ann/"
    assert len(list(MACHINE_PATH.finditer(caught))) == 4
    fine = "$ python -m flask $SCRATCH/server/root/.ssh ::/home/deployer: /srv/app/.venv/bin"
    assert list(MACHINE_PATH.finditer(fine)) == []


def test_record_demos_runs_the_real_demo(tmp_path):
    """The nginx demo recorded into a copy of the story shows nginx's real 502."""
    import shutil

    story_dir = tmp_path / "wsgi"
    shutil.copytree(default_story_path(), story_dir, ignore=shutil.ignore_patterns("recordings"))
    notebooks = (default_story_path() / load_story(default_story_path()).notebooks).resolve()
    meta = (story_dir / "story.yaml").read_text()
    (story_dir / "story.yaml").write_text(meta.replace("../../../notebooks", str(notebooks)))
    argv = ["record-demos", str(story_dir), "--only", "nginx-502"]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 0, result.output
    recording = demo_recording(story_dir, "nginx-502")
    assert "502 Bad Gateway" in recording.output and "nginx -t" in recording.output
    pets = demo_recording(story_dir, "nginx-502", "pets")
    assert "(Tinder for Pets)" in pets.output and "(Tinder for Pets)" not in recording.output


def test_the_export_shows_a_demos_recorded_output(tmp_path):
    story = load_story(default_story_path())
    scene = next(s for s in story.scenes if s.demo == "nginx-502")
    export_site(story, tmp_path / "site")
    page = next((tmp_path / "site").rglob(f"{scene.id}.html")).read_text()
    assert "502 Bad Gateway" in page


def test_the_recorder_shows_python_and_scratch_and_keeps_an_ellipsis():
    raw = (
        "  SCRATCH=/tmp/cyoa-app-x1\n"
        f"  $ {sys.executable} -m flask --app wsgi run\n"
        "  $ git clone /tmp/cyoa-app-x1/github/app\n"
        "  CREATE ROLE app PASSWORD '…'\n"
    )
    once = normalize(raw)
    assert once.splitlines() == [
        "  SCRATCH=…",
        "  $ python -m flask --app wsgi run",
        "  $ git clone $SCRATCH/github/app",
        "  CREATE ROLE app PASSWORD '…'",
    ]
    assert normalize(once) == once
