"""Write a Story back to files in the loader's format: how tools and tests create stories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cyoa.story.loader import SCENES_DIR, STORY_FILE
from cyoa.story.model import Scene, Story

NOTES_MARKDOWN = "## Speaker notes"


def write_story(story: Story, root: Path) -> Path:
    """Write ``story`` under ``root`` (story.yaml and scenes/NNN-id.md, in scene order)."""
    root = Path(root)
    (root / SCENES_DIR).mkdir(parents=True, exist_ok=True)
    meta = {"name": story.name, "title": story.title, "start": story.start}
    if story.description:
        meta["description"] = story.description
    if story.notebooks:
        meta["notebooks"] = story.notebooks
    if story.duration:
        meta["duration"] = f"{story.duration}s"
    (root / STORY_FILE).write_text(_yaml(meta), encoding="utf-8")
    width = len(str(len(story.scenes)))
    for number, scene in enumerate(story.scenes, start=1):
        file = root / SCENES_DIR / f"{number:0{width}d}-{scene.id}.md"
        file.write_text(scene_text(scene), encoding="utf-8")
    return root


def scene_text(scene: Scene) -> str:
    """One scene as a Markdown file with YAML front matter."""
    text = f"---\n{_yaml(_front_matter(scene))}---\n\n{scene.body}\n"
    if scene.notes:
        text += f"\n{NOTES_MARKDOWN}\n\n{scene.notes}\n"
    return text


def _front_matter(scene: Scene) -> dict[str, Any]:
    data: dict[str, Any] = {"id": scene.id, "title": scene.title}
    for name in ("image", "alt", "demo", "next"):
        if getattr(scene, name):
            data[name] = getattr(scene, name)
    if scene.choice is not None:
        options = []
        for option in scene.choice.options:
            item: dict[str, Any] = {"key": option.key, "label": option.label, "goto": option.goto}
            if option.sms:
                item["sms"] = list(option.sms)
            options.append(item)
        data["choice"] = {"question": scene.choice.question, "options": options}
        if scene.choice.default is not None:
            data["choice"]["default"] = scene.choice.default
        if scene.choice.hide_results:
            data["choice"]["hide_results"] = True
        if scene.choice.time_limit is not None:
            data["choice"]["time_limit"] = scene.choice.time_limit
    if scene.ending is not None:
        data["ending"] = scene.ending.label
    return data


def _yaml(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
