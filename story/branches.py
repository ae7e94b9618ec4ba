"""Every branch true to itself: a path names only what that path has introduced.

A story may keep ``terms.yaml`` next to ``story.yaml``: each term (a product's name, a table,
a tool) maps to the scene or scenes that introduce it. On every path, a slide, its speaker
notes and its demo's recording may name a term only once a scene that introduces it has been
on that path (a decision may name what its options introduce: it offers them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from cyoa.story.demos import demo_recording, recording_file, recording_variant
from cyoa.story.model import Story
from cyoa.story.paths import StoryPath, enumerate_paths
from cyoa.story.problems import Problem, StoryError
from cyoa.story.textfile import read_text
from cyoa.story.variants import scene_on_path, variant_ids

TERMS_FILE = "terms.yaml"


@dataclass(frozen=True)
class Term:
    """A word that belongs to some paths only, and the scenes that bring it in."""

    text: str
    introduced_by: tuple[str, ...]

    @property
    def pattern(self) -> re.Pattern[str]:
        return _pattern(self.text)


@lru_cache(maxsize=1024)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(text)}(?!\w)", re.I)


@dataclass(frozen=True)
class Stray:
    """A term shown on a path that never introduced it."""

    path: StoryPath
    scene: str
    where: str  # "slide", "speaker notes" or "recording recordings/<demo>.json"
    term: Term

    def describe(self, story: Story) -> str:
        brought = " or ".join(self.term.introduced_by)
        return (
            f"scene '{self.scene}': {self.where} names '{self.term.text}' on the path "
            f"{' › '.join(self.path.labels(story))}, which never went through {brought}"
        )


def load_terms(root: Path | None) -> list[Term]:
    """The story's ``terms.yaml`` (term: scene id, or a list of them); [] without one."""
    if root is None or not (Path(root) / TERMS_FILE).is_file():
        return []
    file = Path(root) / TERMS_FILE
    try:
        data = yaml.safe_load(read_text(file)) or {}
    except yaml.YAMLError as error:
        raise StoryError([Problem(f"not valid YAML: {error}", file)]) from None
    if not isinstance(data, dict):
        raise StoryError([Problem("must map each term to the scene(s) that introduce it", file)])
    terms = []
    for text, scenes in data.items():
        ids = [scenes] if isinstance(scenes, str) else scenes
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise StoryError(
                [Problem(f"term '{text}': give a scene id or a list of scene ids", file)]
            )
        terms.append(Term(str(text), tuple(ids)))
    return terms


def term_problems(story: Story, terms: list[Term]) -> list[Problem]:
    """Terms that name no scene: the check could never pass or fail honestly."""
    file = story.root / TERMS_FILE if story.root else None
    return [
        Problem(f"term '{term.text}': '{scene_id}' is not a scene", file, severity="warning")
        for term in terms
        for scene_id in term.introduced_by
        if scene_id not in story.by_id
    ]


def strays(story: Story, terms: list[Term], recordings: bool = False) -> Iterator[Stray]:
    """Every term shown on a path before (or without) a scene that introduces it.

    ``recordings``: also read each demo's recording (the branch's own where the path has
    one, as the deck shows it), whose code and output the slide shows.
    """
    if not terms:
        return
    seen = _Shown(story, terms, recordings)
    for path in enumerate_paths(story):
        yield from strays_on_path(story, terms, path, recordings, seen)


class _Shown:
    """The terms each scene shows for a path so far, worked out once per distinct text."""

    def __init__(self, story: Story, terms: list[Term], recordings: bool) -> None:
        self.story, self.terms, self.recordings = story, terms, recordings
        self._texts: dict[tuple, list[tuple[str, str]]] = {}
        self._found: dict[str, list[Term]] = {}

    def texts(self, scene_id: str, so_far: tuple[str, ...]) -> list[tuple[str, str]]:
        scene = self.story.scene(scene_id)
        relevant = frozenset(variant_ids(scene) & set(so_far))
        demo_key = so_far if self.recordings and scene.demo else ()
        key = (scene_id, relevant, demo_key)
        if key not in self._texts:
            shown = scene_on_path(self.story, scene_id, so_far)
            texts = [
                ("slide", f"{shown.title}\n{shown.body}\n{shown.alt}"),
                ("speaker notes", shown.notes),
            ]
            if self.recordings and scene.demo and self.story.root is not None:
                texts += _recording(self.story.root, scene.demo, list(so_far))
            self._texts[key] = texts
        return self._texts[key]

    def terms_in(self, text: str) -> list[Term]:
        if text not in self._found:
            self._found[text] = [term for term in self.terms if term.pattern.search(text)]
        return self._found[text]


def strays_on_path(
    story: Story,
    terms: list[Term],
    path: StoryPath,
    recordings: bool = False,
    shown: _Shown | None = None,
) -> Iterator[Stray]:
    """The strays of one path (``shown``: a cache shared by the paths of one walk)."""
    shown = shown or _Shown(story, terms, recordings)
    for index, scene_id in enumerate(path.scenes):
        so_far = path.scenes[: index + 1]
        scene = story.scene(scene_id)
        allowed = set(so_far) | (set(scene.targets) if scene.choice is not None else set())
        for where, text in shown.texts(scene_id, so_far):
            for term in shown.terms_in(text):
                if not allowed.intersection(term.introduced_by):
                    yield Stray(path, scene_id, where, term)


def _recording(root: Path, demo: str, path: list[str]) -> list[tuple[str, str]]:
    """The recording the deck shows for ``demo`` on ``path`` (the branch's own, if any)."""
    variant = recording_variant(root, demo, path)
    recording = demo_recording(root, demo, variant)
    if recording is None:
        return []
    file = recording_file(root, demo, variant if variant else None)
    where = f"recording {file.parent.name}/{file.name}"
    return [(where, f"{recording.code}\n{recording.output}")]


def stray_problems(story: Story, terms: list[Term]) -> list[Problem]:
    """One warning per scene, place and term (on the first path that shows it)."""
    problems: dict[tuple[str, str, str], Problem] = {}
    for stray in strays(story, terms):
        key = (stray.scene, stray.where, stray.term.text)
        if key not in problems:
            scene = story.by_id[stray.scene]
            file = scene.source.file if scene.source else None
            message = stray.describe(story).split(": ", 1)[1]
            problems[key] = Problem(message, file, scene.line("id"), stray.scene, "warning")
    return list(problems.values())
