"""The static site: an index with the story map, a page per scene, and a printable handout.

Everything is relative links and local files, so the export works from ``file://`` and any
static host, and asks the network for nothing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markdown_it import MarkdownIt
from markupsafe import Markup

from cyoa.story.demos import demo_recording, demo_summaries
from cyoa.story.model import Scene, Story
from cyoa.story.paths import StoryPath, enumerate_paths, reading_order
from cyoa.story.results import Results
from cyoa.story.storymap import NODE_HEIGHT, NODE_WIDTH, layout

TEMPLATES = Path(__file__).resolve().parent / "templates"
MARKER = ".cyoa-export"
SCENES_DIR = "scenes"
MEDIA_DIR = "media"
STATIC_FILES = ("style.css", "favicon.svg")
OWNED = ("index.html", "handout.html", *STATIC_FILES, SCENES_DIR, MEDIA_DIR)

_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


class ExportError(Exception):
    """The export cannot be written where it was asked to go."""


@dataclass(frozen=True)
class Step:
    """One file (or set of files) of the export; the CLI shows progress step by step."""

    label: str
    run: Callable[[], None]


def export_site(story: Story, out: Path, results: Results | None = None) -> Path:
    """Write the whole site for ``story`` into ``out`` and return the index page."""
    for step in export_steps(story, out, results):
        step.run()
    return Path(out) / "index.html"


def export_steps(story: Story, out: Path, results: Results | None = None) -> list[Step]:
    """The export as a list of steps, so a caller can show progress while they run."""
    site = _Site(story, Path(out), results)
    steps = [Step("prepare", site.prepare)]
    steps += [Step(name, lambda name=name: site.copy_static(name)) for name in STATIC_FILES]
    steps += [
        Step(f"media/{image}", lambda image=image: site.copy_image(image))
        for image in sorted({scene.image for scene in story.scenes if scene.image})
    ]
    steps += [
        Step(f"scenes/{scene_id}.html", lambda scene_id=scene_id: site.write_scene(scene_id))
        for scene_id in site.order
    ]
    steps += [Step("index.html", site.write_index), Step("handout.html", site.write_handout)]
    return steps


def render_markdown(text: str) -> Markup:
    """Scene Markdown as HTML (raw HTML in the source is shown as text, never run)."""
    return Markup(_markdown.render(text))  # noqa: S704 - markdown-it escapes, html is off


class _Site:
    def __init__(self, story: Story, out: Path, results: Results | None) -> None:
        self.story, self.out, self.results = story, out, results
        self.order = reading_order(story)
        self.number = {scene_id: index for index, scene_id in enumerate(self.order, start=1)}
        self.demos = demo_summaries(story.root) if story.root else {}
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["markdown"] = render_markdown
        self.parents: dict[str, list[str]] = {scene_id: [] for scene_id in self.order}
        for scene_id in self.order:
            for target in story.by_id[scene_id].targets:
                if target in self.parents and scene_id not in self.parents[target]:
                    self.parents[target].append(scene_id)

    def prepare(self) -> None:
        """Make ``out``, clearing a previous export there but never anybody else's files."""
        if self.out.exists() and not self.out.is_dir():
            raise ExportError(f"{self.out} is a file, not a folder")
        if self.out.is_dir() and any(self.out.iterdir()) and not (self.out / MARKER).exists():
            raise ExportError(
                f"{self.out} is not empty and holds no earlier export; pick an empty folder"
            )
        for name in OWNED:
            path = self.out / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        (self.out / SCENES_DIR).mkdir(parents=True)
        (self.out / MARKER).write_text("written by cyoa export\n", encoding="utf-8")

    def copy_static(self, name: str) -> None:
        shutil.copyfile(TEMPLATES / name, self.out / name)

    def copy_image(self, image: str) -> None:
        assert self.story.root is not None
        target = self.out / MEDIA_DIR / image
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.story.root / image, target)

    def _context(self, root: str) -> dict:
        return {
            "story": self.story,
            "root": root,
            "number": self.number,
            "results": self.results,
            "room_path": set(self.results.path) if self.results else set(),
            "room_steps": self.results.steps if self.results else set(),
        }

    def _write(self, name: str, template: str, **context: object) -> None:
        html = self.env.get_template(template).render(**context)
        (self.out / name).write_text(html, encoding="utf-8")

    def scene_view(self, scene_id: str) -> dict:
        scene: Scene = self.story.by_id[scene_id]
        poll = self.results.poll_for(scene_id) if self.results else None
        return {
            "scene": scene,
            "demo_summary": self.demos.get(scene.demo or "", ""),
            "recording": (
                demo_recording(self.story.root, scene.demo)
                if scene.demo and self.story.root
                else None
            ),
            "poll": poll,
            "target": lambda target_id: self.story.by_id.get(target_id),
            "start": self.story.start,
        }

    def write_scene(self, scene_id: str) -> None:
        self._write(
            f"{SCENES_DIR}/{scene_id}.html",
            "scene.html",
            **self._context("../"),
            view=self.scene_view(scene_id),
            scene=self.story.by_id[scene_id],
            parents=[self.story.by_id[p] for p in self.parents.get(scene_id, [])],
            href=lambda target_id: f"{target_id}.html",
        )

    def write_index(self) -> None:
        context = self._context("")
        story_map = layout(self.story, context["room_path"], context["room_steps"])
        paths = enumerate_paths(self.story)
        room = [p for p in paths if self.results and p.scenes == self.results.path]
        self._write(
            "index.html",
            "index.html",
            **context,
            map=story_map,
            node_width=NODE_WIDTH,
            node_height=NODE_HEIGHT,
            paths=paths,
            path_views=[self.path_view(path) for path in paths],
            room_path_number=(paths.index(room[0]) + 1) if room else None,
            scenes=[self.story.by_id[scene_id] for scene_id in self.order],
        )

    def path_view(self, path: StoryPath) -> dict:
        labels = path.labels(self.story)
        return {
            "picks": [
                {"scene": scene_id, "label": label}
                for (scene_id, _), label in zip(path.picks, labels, strict=True)
            ],
            "ending": self.story.by_id[path.ending],
        }

    def write_handout(self) -> None:
        self._write(
            "handout.html",
            "handout.html",
            **self._context(""),
            views=[self.scene_view(scene_id) for scene_id in self.order],
            href=lambda target_id: f"#{target_id}",
        )
