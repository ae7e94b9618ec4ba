"""Where demo names are declared: ``demos.yaml`` in the story folder, name -> one-line summary.

A story that names its notebooks folder (``notebooks:`` in story.yaml) also needs each demo
as a code cell tagged ``demo:<name>`` in one of the notebooks there (any ``*.ipynb``).
Everything that needs demo names goes through ``known_demos`` (and ``demo_summaries``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from cyoa.story.loader import STORY_FILE
from cyoa.story.model import PACKAGE_PREFIX, Story
from cyoa.story.problems import Problem, StoryError, blame
from cyoa.story.textfile import read_text

DEMOS_FILE = "demos.yaml"
RECORDINGS_DIR = "recordings"
DEMO_TAG = "demo:"


@dataclass(frozen=True)
class Recording:
    """A demo's code and the output it printed when it was last run, shown in the export."""

    code: str
    output: str


def demo_summaries(story_root: Path) -> dict[str, str]:
    """Each declared demo with its one-line description (empty when no file declares any)."""
    file = Path(story_root) / DEMOS_FILE
    if not file.is_file():
        return {}
    try:
        with blame(file):
            data = yaml.safe_load(read_text(file)) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        reason = str(getattr(error, "problem", None) or error).strip()
        line = mark.line + 1 if mark is not None else None
        raise StoryError([Problem(f"not valid YAML: {reason}", file, line)]) from None
    if not isinstance(data, dict) or not all(isinstance(name, str) for name in data):
        raise StoryError([Problem("must map each demo name to a one-line description", file)])
    return {name: str(summary or "").strip() for name, summary in data.items()}


def notebook_demos(notebooks: Path) -> dict[str, list[str]]:
    """Each demo name tagged ``demo:<name>`` in the notebooks folder, with its cells' code.

    Every ``*.ipynb`` in the folder counts, whatever its name: the notebooks are the one
    source of a demo's code, which the learner runs top to bottom. Read as JSON, so the
    story needs no Jupyter packages.
    """
    found: dict[str, list[str]] = {}
    for path in sorted(Path(notebooks).glob("*.ipynb")):
        with blame(path):
            cells = _cells(path)
        for cell in cells:
            source = cell.get("source", "")
            source = "".join(map(str, source)) if isinstance(source, list) else str(source)
            metadata = cell.get("metadata")
            tags = metadata.get("tags") if isinstance(metadata, dict) else None
            for tag in tags if isinstance(tags, list) else []:
                if cell.get("cell_type") == "code" and str(tag).startswith(DEMO_TAG):
                    found.setdefault(str(tag)[len(DEMO_TAG) :], []).append(source)
    return found


def _cells(path: Path) -> list[dict]:
    """A notebook's cells; a file that is not a notebook is a problem on that file."""
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as error:
        problem = Problem(f"not a notebook: invalid JSON ({error.msg})", path, error.lineno)
        raise StoryError([problem]) from None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        raise StoryError([Problem("not a notebook: it has no list of cells", path)])
    return [cell for cell in cells if isinstance(cell, dict)]


def known_demos(story_root: Path, notebooks: Path | None = None) -> set[str]:
    """The demo names a scene may use: declared in demos.yaml, and, when the story names
    its notebooks folder, also present as tagged cells there (so a demo cannot be missing)."""
    declared = set(demo_summaries(story_root))
    if notebooks is None:
        return declared
    return declared & set(notebook_demos(notebooks))


def recording_file(story_root: Path, name: str, variant: str | None = None) -> Path:
    """``recordings/<name>.json``, or a variant's ``recordings/<name>.<variant>.json``."""
    suffix = f".{variant}" if variant else ""
    return Path(story_root) / RECORDINGS_DIR / f"{name}{suffix}.json"


def recording_variant(story_root: Path, name: str, path: list[str]) -> str | None:
    """The variant of demo ``name`` for a talk that took ``path``: the latest scene on it
    that has a recording ``<name>.<scene id>.json`` (the pets path: ``app.pets.json``)."""
    for scene in reversed(path):
        if recording_file(story_root, name, scene).is_file():
            return scene
    return None


def demo_recording(story_root: Path, name: str, variant: str | None = None) -> Recording | None:
    """The recorded run of demo ``name`` (``recordings/<name>.json``), if one was saved;
    with ``variant``, its ``recordings/<name>.<variant>.json`` when there is one."""
    file = recording_file(story_root, name, variant)
    if variant and not file.is_file():
        file = recording_file(story_root, name)
    if not file.is_file():
        return None
    try:
        data = json.loads(read_text(file))
    except json.JSONDecodeError as error:
        raise StoryError([Problem(f"invalid JSON: {error.msg}", file, error.lineno)]) from None
    if not isinstance(data, dict):
        raise StoryError([Problem('must be {"code": ..., "output": ...}', file)])
    return Recording(code=str(data.get("code", "")), output=str(data.get("output", "")))


@dataclass(frozen=True)
class Demos:
    """The demo names a story may use, and why a name would be refused."""

    declared: set[str]
    tagged: set[str] | None  # None: the story names no notebooks folder
    notebooks: str = ""

    @property
    def known(self) -> set[str]:
        return self.declared if self.tagged is None else self.declared & self.tagged

    def why_unknown(self, name: str) -> str:
        known = ", ".join(sorted(self.known))
        if self.tagged is None and not known:
            return f"a demo must be declared in {DEMOS_FILE}, and this story declares none"
        if self.tagged is None:
            return f"a demo must be declared in {DEMOS_FILE} (known: {known})"
        rule = (
            f"a demo must be declared in {DEMOS_FILE} and tagged demo:<name> in a notebook "
            f"of {self.notebooks}"
        )
        if name in self.declared:
            return f"{rule}; '{name}' is declared, but no code cell there is tagged demo:{name}"
        if name in self.tagged:
            return f"{rule}; '{name}' is tagged, but not declared in {DEMOS_FILE}"
        return f"{rule} (known: {known or 'none is both yet'})"


def story_demos(story: Story) -> Demos:
    """What ``demos.yaml`` declares and, if story.yaml names them, the notebooks tag."""
    if story.root is None:
        return Demos(set(), None)
    declared = set(demo_summaries(story.root))
    if not story.notebooks:
        return Demos(declared, None)
    folder = story.notebooks_path
    if folder is None or not folder.is_dir():  # the checker's error; the deck loads the story
        file = story.root / STORY_FILE
        text = read_text(file)
        found = re.search(r"^notebooks:", text, re.M)
        line = text[: found.start()].count("\n") + 1 if found else None
        where = (
            "no installed Python package has that folder"
            if story.notebooks.startswith(PACKAGE_PREFIX)
            else "it is relative to this file"
        )
        message = f"notebooks: '{story.notebooks}' is not a folder ({where})"
        raise StoryError([Problem(message, file, line)])
    return Demos(declared, set(notebook_demos(folder)), story.notebooks)
