"""The shipped notebooks are found by package, and ``cyoa notebooks DIR`` copies them out.

In a checkout they are the repository's ``notebooks/`` (through the editable install); the
installed wheel's are tested in test_packaging.py.
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from story_helpers import write_story

from cyoa.cli import main
from cyoa.demos.notebooks import NOTEBOOKS
from cyoa.shipped import learner_notebooks, notebook_folder
from cyoa.story.demos import notebook_demos, story_demos
from cyoa.story.loader import default_story_path, load_story

ROOT = Path(__file__).resolve().parent.parent
LEARNERS = ["explore.ipynb", *(p.name for p in sorted((ROOT / "notebooks").glob("learn-*")))]


def copy_out(folder: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["notebooks", str(folder)])
    return result.exit_code, result.stdout + result.stderr


def test_in_a_checkout_the_shipped_notebooks_are_the_repositorys() -> None:
    assert notebook_folder() == ROOT / "notebooks"
    assert NOTEBOOKS == ROOT / "notebooks"  # python -m cyoa.demos.notebooks writes there
    assert sorted(p.name for p in learner_notebooks()) == sorted(LEARNERS)
    assert load_story(default_story_path()).notebooks_path == ROOT / "notebooks"


def test_cyoa_notebooks_copies_the_learners_notebooks_once(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "course"

    code, output = copy_out(folder)
    again, second = copy_out(folder)

    assert code == 0, output
    assert sorted(p.name for p in folder.iterdir()) == sorted(LEARNERS)
    for name in LEARNERS:
        assert (folder / name).read_bytes() == (ROOT / "notebooks" / name).read_bytes()
    assert f"jupyter lab {folder}" in output
    assert again == 0 and "wrote" not in second and second.count("kept") == len(LEARNERS)


def test_cyoa_notebooks_never_overwrites_a_learners_work(tmp_path: Path) -> None:
    folder = tmp_path / "course"
    copy_out(folder)
    worked = folder / LEARNERS[1]
    worked.write_text(worked.read_text().replace('"outputs": []', '"outputs": [1]', 1))
    (folder / LEARNERS[0]).unlink()

    code, output = copy_out(folder)

    assert code == 1
    assert f"differ from the shipped ones (your edits or outputs): {worked.name}" in output
    assert "Nothing was copied" in output
    assert not (folder / LEARNERS[0]).exists()  # all or nothing
    assert '"outputs": [1]' in worked.read_text()


def test_a_story_names_notebooks_by_package(tmp_path: Path) -> None:
    root = write_story(tmp_path / "story")
    (root / "story.yaml").write_text(
        "name: t\ntitle: T\nstart: start\nnotebooks: package:cyoa.notebooks\n"
    )

    story = load_story(root)

    assert story.notebooks_path == notebook_folder()
    assert story_demos(story).tagged == set(notebook_demos(notebook_folder()))


def test_a_package_that_is_not_installed_is_a_checker_error(tmp_path: Path) -> None:
    root = write_story(tmp_path / "story")
    (root / "story.yaml").write_text(
        "name: t\ntitle: T\nstart: start\nnotebooks: package:nope.nb\n"
    )

    result = CliRunner().invoke(main, ["check", str(root)])

    assert result.exit_code == 1
    assert (
        "story.yaml:4: error: notebooks: 'package:nope.nb' is not a folder "
        "(no installed Python package has that folder)"
    ) in result.stderr
