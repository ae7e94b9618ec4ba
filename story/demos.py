"""Where demo names are declared: ``demos.yaml`` in the story folder, name -> one-line summary.

Everything that needs demo names goes through ``known_demos`` (and ``demo_summaries``), so a
later change can read them from the learner notebooks without touching the checker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from story.problems import Problem, StoryError

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
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise StoryError([Problem(f"not valid YAML: {error}", file)]) from None
    if not isinstance(data, dict) or not all(isinstance(name, str) for name in data):
        raise StoryError([Problem("must map each demo name to a one-line description", file)])
    return {name: str(summary or "").strip() for name, summary in data.items()}


def notebook_demos(notebooks: Path) -> dict[str, list[str]]:
    """Each demo name tagged ``demo:<name>`` in the learner notebooks, with its cells' code.

    The notebooks are the one source of a demo's code: the learner runs them top to bottom,
    the deck runs the tagged cells. Read as JSON, so the story needs no Jupyter packages.
    """
    found: dict[str, list[str]] = {}
    for path in sorted(Path(notebooks).glob("learn-*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else str(source)
            for tag in cell.get("metadata", {}).get("tags", []):
                if cell.get("cell_type") == "code" and tag.startswith(DEMO_TAG):
                    found.setdefault(tag[len(DEMO_TAG) :], []).append(source)
    return found


def known_demos(story_root: Path, notebooks: Path | None = None) -> set[str]:
    """The demo names a scene may use: declared in demos.yaml, and, when the story names
    its notebooks folder, also present as tagged cells there (so a demo cannot be missing)."""
    declared = set(demo_summaries(story_root))
    if notebooks is None:
        return declared
    return declared & set(notebook_demos(notebooks))


def demo_recording(story_root: Path, name: str) -> Recording | None:
    """The recorded run of demo ``name`` (``recordings/<name>.json``), if one was saved."""
    file = Path(story_root) / RECORDINGS_DIR / f"{name}.json"
    if not file.is_file():
        return None
    data = json.loads(file.read_text(encoding="utf-8"))
    return Recording(code=str(data.get("code", "")), output=str(data.get("output", "")))
