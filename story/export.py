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

from cyoa.story.demos import Recording, demo_recording, demo_summaries, recording_variant
from cyoa.story.model import Scene, Story
from cyoa.story.paths import StoryPath, enumerate_paths, reading_order
from cyoa.story.results import Results
from cyoa.story.storymap import NODE_HEIGHT, NODE_WIDTH, layout
from cyoa.story.variants import scene_on_path

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


def site_pages(story: Story, results: Results | None = None) -> _Site:
    """The site's pages, to render one at a time without writing files (the vote server)."""
    return _Site(story, Path(), results)


def render_markdown(text: str) -> Markup:
    """Scene Markdown as HTML (raw HTML in the source is shown as text, never run)."""
    return Markup(_markdown.render(text))  # noqa: S704 - markdown-it escapes, html is off


class _Site:
    """One story's site: each page rendered as a string (the vote server's /story serves
    them, voteserver/story_pages.py) or written as a file (``cyoa export``)."""

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

    def scene_view(self, scene_id: str) -> dict:
        scene: Scene = scene_on_path(self.story, scene_id, None)  # every variant, marked
        poll = self.results.poll_for(scene_id) if self.results else None
        return {
            "scene": scene,
            "demo_summary": self.demos.get(scene.demo or "", ""),
            "recording": self._recording(scene),
            "poll": poll,
            "target": lambda target_id: self.story.by_id.get(target_id),
            "start": self.story.start,
        }

    def _recording(self, scene: Scene) -> Recording | None:
        """The room's own recording where the room passed (the pets path shows the pets app);
        the default one elsewhere."""
        if not (scene.demo and self.story.root):
            return None
        room = list(self.results.path) if self.results else []
        on_path = room[: room.index(scene.id) + 1] if scene.id in room else []
        variant = recording_variant(self.story.root, scene.demo, on_path)
        return demo_recording(self.story.root, scene.demo, variant)

    def write_scene(self, scene_id: str) -> None:
        (self.out / SCENES_DIR / f"{scene_id}.html").write_text(
            self.scene_page(scene_id), encoding="utf-8"
        )

    def scene_page(self, scene_id: str) -> str:
        """The scene's page (``scenes/<id>.html``) as HTML."""
        return self.env.get_template("scene.html").render(
            **self._context("../"),
            view=self.scene_view(scene_id),
            scene=scene_on_path(self.story, scene_id, None),
            parents=[self.story.by_id[p] for p in self.parents.get(scene_id, [])],
            href=lambda target_id: f"{target_id}.html",
        )

    def write_index(self) -> None:
        (self.out / "index.html").write_text(self.index_page(), encoding="utf-8")

    def index_page(self) -> str:
        """The story map, every path and every scene (``index.html``) as HTML."""
        context = self._context("")
        story_map = layout(self.story, context["room_path"], context["room_steps"])
        paths = enumerate_paths(self.story)
        room = [p for p in paths if self.results and p.scenes == self.results.path]
        return self.env.get_template("index.html").render(
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
        (self.out / "handout.html").write_text(self.handout_page(), encoding="utf-8")

    def handout_page(self) -> str:
        """Every scene in reading order, for print (``handout.html``) as HTML."""
        return self.env.get_template("handout.html").render(
            **self._context(""),
            views=[self.scene_view(scene_id) for scene_id in self.order],
            href=lambda target_id: f"#{target_id}",
        )
