"""The story graph: frozen dataclasses the loader builds and everything else reads.

Immutable on purpose: the deck, the checker and the exporter all share one story, and none
of them may change it under the others' feet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from typing import Literal

SceneKind = Literal["next", "choice", "ending", "dead end"]
PACKAGE_PREFIX = "package:"
"""``notebooks: package:NAME`` names an installed Python package's folder instead of a path."""


def package_folder(name: str) -> Path | None:
    """The folder of installed package ``name`` on disk; None where there is none.

    A story shipped inside a wheel names notebooks shipped in the same wheel this way
    (``package:cyoa.notebooks``): no relative path holds both in a checkout and once installed.
    """
    try:
        folder = files(name)
    except (ImportError, TypeError, ValueError):
        return None
    return folder if isinstance(folder, Path) and folder.is_dir() else None


@dataclass(frozen=True)
class Source:
    """Where a scene was written, so a problem can name the file and the line."""

    file: Path
    lines: tuple[tuple[str, int], ...] = ()

    def line(self, name: str) -> int | None:
        """The line of front-matter field ``name`` (``options.1.goto``), or of the id."""
        return field_line(dict(self.lines), name)


def field_line(lines: dict[str, int], name: str) -> int | None:
    """The line of field ``name``, else of the nearest field holding it, else of the id.

    A missing ``options.1.goto`` points at option 2's line (``options.1``), not at the id,
    so the author lands on the option that lacks it.
    """
    while True:
        if name in lines:
            return lines[name]
        if "." not in name:
            return lines.get("id")
        name = name.rsplit(".", 1)[0]


@dataclass(frozen=True)
class Option:
    """One answer to a choice: the key the audience texts and the scene it leads to."""

    key: str
    label: str
    goto: str
    sms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Choice:
    """A decision the room votes on, and how the room sees it.

    ``hide_results``: the room sees no counts until the vote closes (no bandwagon);
    ``time_limit``: seconds after the vote opens when the vote server closes it by itself.
    """

    question: str
    options: tuple[Option, ...]
    default: str | None = None
    hide_results: bool = False
    time_limit: int | None = None

    def option(self, key: str) -> Option | None:
        return next((option for option in self.options if option.key == key), None)


@dataclass(frozen=True)
class Ending:
    """How one path through the story ends."""

    label: str


@dataclass(frozen=True)
class Scene:
    """One slide: text, notes, maybe an image and a demo, and where the talk goes next."""

    id: str
    title: str
    body: str = ""
    notes: str = ""
    image: str | None = None
    alt: str = ""
    demo: str | None = None
    next: str | None = None
    choice: Choice | None = None
    ending: Ending | None = None
    source: Source | None = field(default=None, compare=False, repr=False)

    @property
    def kind(self) -> SceneKind:
        if self.choice is not None:
            return "choice"
        if self.ending is not None:
            return "ending"
        if self.next is not None:
            return "next"
        return "dead end"

    @property
    def edges(self) -> tuple[tuple[str | None, str], ...]:
        """(option key or None for ``next``, target id) for every way out of this scene."""
        if self.choice is not None:
            return tuple((option.key, option.goto) for option in self.choice.options)
        if self.next is not None:
            return ((None, self.next),)
        return ()

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(target for _, target in self.edges)

    def line(self, name: str) -> int | None:
        return self.source.line(name) if self.source else None


@dataclass(frozen=True)
class Story:
    """A whole adventure: its scenes in file order and the one it starts with."""

    name: str
    title: str
    start: str
    scenes: tuple[Scene, ...]
    description: str = ""
    notebooks: str = ""  # the learner notebooks' folder: relative to root, or package:NAME
    duration: int | None = None  # the talk's planned length in seconds (presenter's clock)
    root: Path | None = field(default=None, compare=False, repr=False)

    @property
    def notebooks_path(self) -> Path | None:
        """Where this story's demo cells live: the folder it names (relative to its root) or
        the installed package's folder (``package:NAME``); None if it names none, or no such
        package is installed."""
        if self.notebooks.startswith(PACKAGE_PREFIX):
            return package_folder(self.notebooks.removeprefix(PACKAGE_PREFIX))
        return (self.root / self.notebooks).resolve() if self.root and self.notebooks else None

    @cached_property
    def by_id(self) -> dict[str, Scene]:
        """Scenes by id (the first one wins where the checker finds duplicates)."""
        found: dict[str, Scene] = {}
        for scene in self.scenes:
            found.setdefault(scene.id, scene)
        return found

    def scene(self, scene_id: str) -> Scene:
        return self.by_id[scene_id]

    @property
    def decisions(self) -> tuple[Scene, ...]:
        return tuple(scene for scene in self.scenes if scene.choice is not None)

    @property
    def endings(self) -> tuple[Scene, ...]:
        return tuple(scene for scene in self.scenes if scene.ending is not None)
