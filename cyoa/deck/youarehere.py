"""The "you are here" map: the story graph as a small strip under the slide, as inline SVG.

The rows of :func:`cyoa.story.storymap.layers` become columns, so the talk reads left to
right: the path so far is bright, the current scene is ringed, decisions are diamonds and
the scenes ahead are dim. At a decision each option's branch (the scenes only it reaches)
carries the option's number, so the room sees where each vote leads. Drawn in Python: no
script, no network, and the same picture in every browser.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Sequence

from cyoa.story.model import Story
from cyoa.story.paths import reachable_from
from cyoa.story.storymap import layers

STEP = 28  # px between columns (one story layer)
LANE = 18  # px between lanes (scenes side by side in a layer)
PAD = 12
TOP = 24  # room above the top lane for the option numbers


def branches(story: Story, scene_id: str) -> dict[str, set[str]]:
    """At a decision, option key -> the scenes only that option reaches (before the merge)."""
    scene = story.by_id[scene_id]
    if scene.choice is None:
        return {}
    reach = {
        option.key: reachable_from(story, option.goto) if option.goto in story.by_id else set()
        for option in scene.choice.options
    }
    own = {}
    for key, scenes in reach.items():
        others = set().union(*(r for k, r in reach.items() if k != key))
        own[key] = scenes - others - {scene_id}
    return own


def map_svg(story: Story, path: Sequence[str], decided: str | None = None) -> str:
    """The strip for a talk at ``path[-1]`` having walked ``path``; ``decided`` is the
    option key chosen at the current decision, if any."""
    row = layers(story)
    lanes: dict[int, list[str]] = {}
    for scene in story.scenes:
        lanes.setdefault(row.get(scene.id, 0), []).append(scene.id)
    widest = max((len(ids) for ids in lanes.values()), default=1)
    where: dict[str, tuple[float, float]] = {}
    for column, ids in lanes.items():
        for index, scene_id in enumerate(ids):
            lane = index - (len(ids) - 1) / 2
            where[scene_id] = (PAD + column * STEP, TOP + ((widest - 1) / 2 + lane) * LANE)
    width = PAD * 2 + max(lanes, default=0) * STEP
    height = TOP + PAD + (widest - 1) * LANE
    current = path[-1] if path else story.start
    walked = set(path)
    steps = set(itertools.pairwise(path))
    own = branches(story, current)
    option_of = {s: key for key, scenes in own.items() for s in scenes}
    numbers = {}
    choice = story.by_id[current].choice if current in story.by_id else None
    for number, option in enumerate(choice.options if choice else (), 1):
        numbers[option.key] = number
    edges, nodes, labels = [], [], []
    for scene in story.scenes:
        for key, target in scene.edges:
            if target not in where:
                continue
            (x1, y1), (x2, y2) = where[scene.id], where[target]
            state = "taken" if (scene.id, target) in steps else "ahead"
            if scene.id == current and key is not None:
                state = "chosen" if key == decided else "option"
            mid = (x1 + x2) / 2
            d = f"M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
            if x2 <= x1:  # a loop back: arc over the top
                d = f"M{x1:.0f},{y1:.0f} C{x1:.0f},0 {x2:.0f},0 {x2:.0f},{y2:.0f}"
            edges.append(
                f'<path class="cyoa-map-edge cyoa-map-{state}" data-from="{_a(scene.id)}" '
                f'data-to="{_a(target)}" d="{d}"/>'
            )
    for scene in story.scenes:
        x, y = where[scene.id]
        state = "current" if scene.id == current else "taken" if scene.id in walked else "ahead"
        branch = option_of.get(scene.id)
        extra = f' data-option="{numbers[branch]}"' if branch in numbers else ""
        shape = {
            "choice": f'<path d="M{x:.0f},{y - 6:.0f} l6,6 l-6,6 l-6,-6 z"/>',
            "ending": f'<rect x="{x - 5:.0f}" y="{y - 5:.0f}" width="10" height="10"/>',
        }.get(scene.kind, f'<circle cx="{x:.0f}" cy="{y:.0f}" r="4"/>')
        ring = f'<circle class="cyoa-map-ring" cx="{x:.0f}" cy="{y:.0f}" r="9"/>'
        nodes.append(
            f'<g class="cyoa-map-node cyoa-map-{state} cyoa-map-{scene.kind}" '
            f'data-scene="{_a(scene.id)}"{extra}><title>{html.escape(scene.title)}</title>'
            f"{ring if state == 'current' else ''}{shape}</g>"
        )
    for key, number in numbers.items():
        target = choice.option(key).goto if choice else None
        if target in where:
            x, y = where[target]
            labels.append(
                f'<text class="cyoa-map-num" x="{x:.0f}" y="{y - 8:.0f}" '
                f'text-anchor="middle">{number}</text>'
            )
    here = story.by_id.get(current)
    title = html.escape(f"You are here: {here.title}" if here else "")
    return (
        f'<svg class="cyoa-map-svg" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{title}" preserveAspectRatio="xMidYMid meet">'
        f"<g>{''.join(edges)}</g><g>{''.join(nodes)}</g><g>{''.join(labels)}</g></svg>"
    )


def _a(value: str) -> str:
    return html.escape(value, quote=True)
