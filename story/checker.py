"""The checker: every way a story can break a live talk, found before the talk.

Errors stop ``cyoa check`` (and the export); warnings only advise, like a slide too long to
read from the back of the room.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, replace

from cyoa.story.branches import load_terms, stray_problems, term_problems
from cyoa.story.demos import Demos, story_demos
from cyoa.story.loader import STORY_FILE
from cyoa.story.model import Scene, Story
from cyoa.story.paths import TooManyPaths, count_paths, loop_links, reachable_from
from cyoa.story.problems import Problem, StoryError, blame
from cyoa.story.variants import parse_blocks, text_on_path, variant_ids
from cyoa.story.votewords import refusals

MIN_OPTIONS = 2
MAX_OPTIONS = 9
KEYS = tuple(str(number) for number in range(1, MAX_OPTIONS + 1))
MAX_SLIDE_WORDS = 110
"""More words than a room reads while the speaker talks."""
MAX_SLIDE_LINES = 18
"""More lines than fit a projector at a readable size."""
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
MIN_TIME_LIMIT = 10
"""Fewer seconds than a room needs to scan the QR code and tap."""
MAX_TIME_LIMIT = 3600
"""An hour: longer is no limit at all (leave it out and close the vote by hand)."""


@dataclass(frozen=True)
class Summary:
    """What ``cyoa check`` reports about a story that passes.

    ``paths`` counts the paths that visit no scene twice (None: too many to count);
    ``loops`` lists the links that go back to an earlier scene, (from, to).
    """

    scenes: int
    decisions: int
    endings: int
    paths: int | None
    loops: tuple[tuple[str, str], ...] = ()


def check_story(story: Story, demos: set[str] | None = None) -> list[Problem]:
    """All problems in ``story``, errors and warnings, sorted by file and line.

    ``demos`` defaults to the names the story's files allow (see ``story_demos``).
    """
    problems: list[Problem] = []
    allowed: Demos | None = Demos(demos, None) if demos is not None else None
    if allowed is None:
        try:
            allowed = story_demos(story)
        except StoryError as error:  # an unreadable demos.yaml or notebook: say so, go on
            problems += error.problems
    problems += _duplicate_ids(story)
    if story.start not in story.by_id:
        file = story.root / STORY_FILE if story.root else None
        problems.append(Problem(f"start scene '{story.start}' does not exist", file))
    for scene in story.scenes:
        with blame(scene.source.file if scene.source else None):
            problems += _scene_problems(story, scene, allowed)
    problems += _unreachable(story)
    problems += _traps(story)
    problems += _branch_warnings(story)
    return sorted(problems, key=lambda problem: problem.sort_key)


def _branch_warnings(story: Story) -> list[Problem]:
    """Warnings for terms (``terms.yaml``) shown on a path that never introduced them."""
    try:
        terms = load_terms(story.root)
        return term_problems(story, terms) + stray_problems(story, terms)
    except StoryError as error:
        return [replace(problem, severity="warning") for problem in error.problems]
    except TooManyPaths:
        return []


def errors(problems: list[Problem]) -> list[Problem]:
    return [problem for problem in problems if problem.severity == "error"]


def summarize(story: Story) -> Summary:
    """Counts for a story that passed the checker; loops are counted around, not through."""
    try:
        paths: int | None = count_paths(story)
    except TooManyPaths:
        paths = None
    return Summary(
        scenes=len(story.scenes),
        decisions=len(story.decisions),
        endings=len(story.endings),
        paths=paths,
        loops=tuple(loop_links(story)),
    )


def _problem(scene: Scene, message: str, field: str = "id", warning: bool = False) -> Problem:
    file = scene.source.file if scene.source else None
    severity = "warning" if warning else "error"
    return Problem(message, file, scene.line(field), scene.id, severity)


def _duplicate_ids(story: Story) -> list[Problem]:
    problems = []
    first: dict[str, Scene] = {}
    for scene in story.scenes:
        if scene.id in first:
            other = first[scene.id]
            where = f"{other.source.file.name}:{other.line('id')}" if other.source else "another"
            problems.append(_problem(scene, f"duplicate id: '{scene.id}' is also in {where}"))
        else:
            first[scene.id] = scene
    return problems


def _scene_problems(story: Story, scene: Scene, demos: Demos | None) -> list[Problem]:
    problems = []
    if not ID_PATTERN.match(scene.id):
        problems.append(_problem(scene, "id must be lowercase letters, digits and dashes"))
    if scene.kind == "dead end":
        problems.append(_problem(scene, "dead end: the scene has no next, choice or ending"))
    if scene.next is not None and scene.next not in story.by_id:
        problems.append(_problem(scene, f"broken link: next '{scene.next}' is not a scene", "next"))
    if scene.choice is not None:
        problems += _choice_problems(story, scene)
    if demos is not None and scene.demo is not None and scene.demo not in demos.known:
        why = demos.why_unknown(scene.demo)
        problems.append(_problem(scene, f"unknown demo '{scene.demo}': {why}", "demo"))
    if scene.image is not None:
        problems += _image_problems(story, scene)
    problems += _length_warnings(scene)
    problems += _variant_problems(story, scene)
    return problems


def _variant_problems(story: Story, scene: Scene) -> list[Problem]:
    """A ``::: on ID`` block must name scenes that can come before this one on some path."""
    problems = []
    for scene_id in sorted(variant_ids(scene)):
        if scene_id not in story.by_id:
            problems.append(_problem(scene, f"variant '::: on {scene_id}': no such scene"))
        elif scene.id not in reachable_from(story, scene_id):
            problems.append(
                _problem(
                    scene,
                    f"variant '::: on {scene_id}': '{scene_id}' never comes before this "
                    "scene, so the block never shows",
                )
            )
    return problems


def _choice_problems(story: Story, scene: Scene) -> list[Problem]:
    assert scene.choice is not None
    options = scene.choice.options
    problems = []
    if len(options) < MIN_OPTIONS:
        problems.append(
            _problem(
                scene,
                f"a choice needs at least {MIN_OPTIONS} options, has {len(options)}",
                "choice",
            )
        )
    if len(options) > MAX_OPTIONS:
        problems.append(
            _problem(
                scene, f"a choice has at most {MAX_OPTIONS} options, has {len(options)}", "choice"
            )
        )
    seen_keys: set[str] = set()
    given = dict(scene.source.lines) if scene.source else {}
    for index, option in enumerate(options):
        field = f"options.{index}"
        if option.key in seen_keys:
            problems.append(_problem(scene, f"duplicate option key '{option.key}'", f"{field}.key"))
        seen_keys.add(option.key)
        if option.key not in KEYS and f"{field}.key" not in given and scene.source:
            problems.append(
                _problem(
                    scene,
                    f"option {index + 1} has no key, and keys run 1 to 9 (the audience texts "
                    f"one digit): a choice has at most {MAX_OPTIONS} options",
                    field,
                )
            )
        elif option.key not in KEYS:
            problems.append(
                _problem(
                    scene,
                    f"option key '{option.key}' must be one digit, 1 to 9 (the audience texts it)",
                    f"{field}.key",
                )
            )
        if option.goto not in story.by_id:
            problems.append(
                _problem(
                    scene,
                    f"broken link: option {option.key} goes to '{option.goto}', "
                    "which is not a scene",
                    f"{field}.goto",
                )
            )
    problems += [
        _problem(scene, refusal.message, refusal.field) for refusal in refusals(scene.choice)
    ]
    default = scene.choice.default
    if default is not None and default not in seen_keys:
        problems.append(
            _problem(scene, f"default '{default}' is not one of the option keys", "choice.default")
        )
    return problems + _time_limit_problems(scene)


def _time_limit_problems(scene: Scene) -> list[Problem]:
    limit = scene.choice.time_limit if scene.choice else None
    if limit is None or MIN_TIME_LIMIT <= limit <= MAX_TIME_LIMIT:
        return []
    if limit < MIN_TIME_LIMIT:
        why = (
            f"time_limit {limit} is too short: give the room at least {MIN_TIME_LIMIT} "
            "seconds to scan the code and vote"
        )
    else:
        why = (
            f"time_limit {limit} is over an hour ({MAX_TIME_LIMIT} seconds): leave it out "
            "and close the vote by hand"
        )
    return [_problem(scene, why, "choice.time_limit")]


def _image_problems(story: Story, scene: Scene) -> list[Problem]:
    image = scene.image or ""
    if re.match(r"[a-z][a-z0-9+.-]*:", image, re.I) or image.startswith("//"):
        return [
            _problem(
                scene, f"image '{image}' must be a file in the story folder, not a URL", "image"
            )
        ]
    if story.root is None:
        return []
    root = story.root.resolve()
    path = (root / image).resolve()
    if not path.is_relative_to(root):
        return [_problem(scene, f"image '{image}' must be inside the story folder", "image")]
    if not path.is_file():
        return [
            _problem(scene, f"missing image '{image}': no such file in the story folder", "image")
        ]
    return []


def _length_warnings(scene: Scene) -> list[Problem]:
    """The longest way the slide can show: its shared text with each variant in turn."""
    shown = [text_on_path(scene.body, block.when) for block in parse_blocks(scene.body)]
    body = max(shown or [scene.body], key=lambda text: len(re.findall(r"\w+", text)))
    words = len(re.findall(r"\w+", body))
    lines = [line for line in body.splitlines() if line.strip()]
    if words > MAX_SLIDE_WORDS:
        return [
            _problem(
                scene,
                f"long slide: {words} words (keep it under {MAX_SLIDE_WORDS}; "
                "move detail to the speaker notes)",
                warning=True,
            )
        ]
    if len(lines) > MAX_SLIDE_LINES:
        return [
            _problem(
                scene,
                f"long slide: {len(lines)} lines (keep it under "
                f"{MAX_SLIDE_LINES}; move detail to the speaker notes)",
                warning=True,
            )
        ]
    return []


def _unreachable(story: Story) -> list[Problem]:
    if story.start not in story.by_id:
        return []
    reached = reachable_from(story, story.start)
    return [
        _problem(scene, f"unreachable: no path from the start '{story.start}' leads here")
        for scene in story.scenes
        if scene.id not in reached
    ]


def _traps(story: Story) -> list[Problem]:
    """Loops the talk can enter and never leave for an ending.

    Dead ends and broken links have their own errors, so they count as exits here: only a
    real loop is reported, once, at its first scene.
    """
    graph = {scene.id: [t for t in scene.targets if t in story.by_id] for scene in story.scenes}
    exits = {
        scene.id
        for scene in story.scenes
        if scene.kind in ("ending", "dead end")
        or any(target not in story.by_id for target in scene.targets)
    }
    finishing = _can_reach(graph, exits)
    reached = reachable_from(story, story.start)
    trapped = reached - finishing
    problems = []
    for component in _bottom_components(graph, trapped):
        loop = [scene.id for scene in story.scenes if scene.id in component]
        scene = story.by_id[loop[0]]
        cycle = " → ".join([*loop, loop[0]])
        problems.append(_problem(scene, f"loop that never reaches an ending: {cycle}"))
    return problems


def _can_reach(graph: dict[str, list[str]], goals: set[str]) -> set[str]:
    parents: dict[str, set[str]] = defaultdict(set)
    for source, targets in graph.items():
        for target in targets:
            parents[target].add(source)
    found = set(goals)
    stack = list(goals)
    while stack:
        for parent in parents[stack.pop()]:
            if parent not in found:
                found.add(parent)
                stack.append(parent)
    return found


def _bottom_components(graph: dict[str, list[str]], nodes: set[str]) -> list[set[str]]:
    """Groups of trapped scenes that all reach each other and lead nowhere else."""
    components: list[set[str]] = []
    for node in sorted(nodes):
        if any(node in component for component in components):
            continue
        ahead = _forward(graph, node, nodes)
        if all(node in _forward(graph, other, nodes) for other in ahead):
            components.append(ahead)
    return components


def _forward(graph: dict[str, list[str]], start: str, within: set[str]) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for target in graph[stack.pop()]:
            if target in within and target not in seen:
                seen.add(target)
                stack.append(target)
    return seen
