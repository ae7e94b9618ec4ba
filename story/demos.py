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


def known_demos(story_root: Path) -> set[str]:
    """The demo names a scene may use."""
    return set(demo_summaries(story_root))


def demo_recording(story_root: Path, name: str) -> Recording | None:
    """The recorded run of demo ``name`` (``recordings/<name>.json``), if one was saved."""
    file = Path(story_root) / RECORDINGS_DIR / f"{name}.json"
    if not file.is_file():
        return None
    data = json.loads(file.read_text(encoding="utf-8"))
    return Recording(code=str(data.get("code", "")), output=str(data.get("output", "")))
