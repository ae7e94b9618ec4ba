"""Lay the story graph out as a map: layers top to bottom, drawn as inline SVG.

Computed here in Python, so the export needs no JavaScript and no graph library from the
network, and the map prints.
"""

from __future__ import annotations

from dataclasses import dataclass

from cyoa.story.model import Story
from cyoa.story.paths import reachable_from, reading_order

NODE_WIDTH = 220
NODE_HEIGHT = 40
COLUMN = 250
ROW = 66
MARGIN = 24
LABEL_CHARS = 26


@dataclass(frozen=True)
class MapNode:
    id: str
    title: str
    label: str
    kind: str
    x: float
    y: float
    taken: bool


@dataclass(frozen=True)
class MapEdge:
    source: str
    target: str
    key: str | None
    path: str  # SVG path data
    key_x: float
    key_y: float
    taken: bool


@dataclass(frozen=True)
class StoryMap:
    width: float
    height: float
    nodes: tuple[MapNode, ...]
    edges: tuple[MapEdge, ...]


def layers(story: Story) -> dict[str, int]:
    """Each scene's row: its longest distance from the start, ignoring edges that loop back."""
    order = reading_order(story)
    position = {scene_id: index for index, scene_id in enumerate(order)}
    row = dict.fromkeys(order, 0)
    for scene_id in order:  # a topological order for every edge that goes forward
        for target in story.by_id[scene_id].targets:
            if target in position and position[target] > position[scene_id]:
                row[target] = max(row[target], row[scene_id] + 1)
    reached = reachable_from(story, story.start)
    bottom = max(row.values(), default=0) + 1
    for scene_id in order:  # scenes nobody reaches go below the rest
        if scene_id not in reached:
            row[scene_id] = bottom
    return row


def layout(
    story: Story, taken: set[str] | None = None, steps: set[tuple[str, str]] | None = None
) -> StoryMap:
    """Positions for every scene and edge; ``taken``/``steps`` mark the room's path."""
    taken, steps = taken or set(), steps or set()
    row = layers(story)
    rows: dict[int, list[str]] = {}
    order = reading_order(story)
    for scene_id in order:
        rows.setdefault(row[scene_id], []).append(scene_id)
    parents: dict[str, list[str]] = {}
    for scene_id in order:
        for target in story.by_id[scene_id].targets:
            parents.setdefault(target, []).append(scene_id)
    widest = max(len(ids) for ids in rows.values())
    center = MARGIN + (widest * COLUMN) / 2
    x: dict[str, float] = {}
    for number in sorted(rows):
        ids = rows[number]
        placed = [p for p in parents.get(ids[0], []) if p in x]
        if len(ids) > 1 or not placed:  # keep branch order; centre the row
            for index, scene_id in enumerate(ids):
                x[scene_id] = center + (index - (len(ids) - 1) / 2) * COLUMN
        else:  # a single scene sits under the average of its parents (a merge)
            x[ids[0]] = sum(x[p] for p in placed) / len(placed)
    y = {scene_id: MARGIN + row[scene_id] * ROW for scene_id in order}
    nodes = tuple(
        MapNode(
            id=scene_id,
            title=story.by_id[scene_id].title,
            label=_shorten(story.by_id[scene_id].title),
            kind=story.by_id[scene_id].kind,
            x=x[scene_id],
            y=y[scene_id],
            taken=scene_id in taken,
        )
        for scene_id in order
    )
    edges = []
    for scene_id in order:
        for key, target in story.by_id[scene_id].edges:
            if target in x:
                edges.append(_edge(scene_id, target, key, x, y, (scene_id, target) in steps))
    height = max(y.values(), default=0) + NODE_HEIGHT + MARGIN
    return StoryMap(widest * COLUMN + 2 * MARGIN, height, nodes, tuple(edges))


def _edge(source: str, target: str, key: str | None, x: dict, y: dict, taken: bool) -> MapEdge:
    x1, y1 = x[source], y[source] + NODE_HEIGHT
    x2, y2 = x[target], y[target]
    if y2 > y1:  # forward: a smooth curve from the bottom of one box to the top of the next
        middle = (y1 + y2) / 2
        path = f"M{x1:.0f},{y1:.0f} C{x1:.0f},{middle:.0f} {x2:.0f},{middle:.0f} {x2:.0f},{y2:.0f}"
    else:  # back up the map: a loop around the right-hand side
        side = max(x1, x2) + NODE_WIDTH / 2 + 20
        top = y2 + NODE_HEIGHT / 2
        path = (
            f"M{x1 + NODE_WIDTH / 2:.0f},{y1 - NODE_HEIGHT / 2:.0f} "
            f"C{side:.0f},{y1:.0f} {side:.0f},{top:.0f} {x2 + NODE_WIDTH / 2:.0f},{top:.0f}"
        )
    key_x = x1 + (x2 - x1) * 0.25
    key_y = y1 + 12
    return MapEdge(source, target, key, path, key_x, key_y, taken)


def _shorten(title: str) -> str:
    return title if len(title) <= LABEL_CHARS else title[: LABEL_CHARS - 1].rstrip() + "…"


def map_svg(story: Story, taken: set[str] | None = None) -> str:
    """The map as one self-contained SVG (its styles inline), the export's look: for a
    notebook, where the site's stylesheet is not loaded. Boxes carry scene titles."""
    import html

    drawn = layout(story, taken)
    style = (
        ".e{fill:none;stroke:#a79f92;stroke-width:1.5}.k{font:700 13px sans-serif;fill:#b35900;"
        "text-anchor:middle}.n rect{fill:#fff;stroke:#8c8477;stroke-width:1.5}"
        ".n.choice rect{fill:#dcecf5;stroke:#3b6e8a;stroke-width:2.5}"
        ".n.ending rect{fill:#eadcf5;stroke:#6a3b8a;stroke-width:2.5}"
        ".n.taken rect{stroke:#b35900;stroke-width:4}"
        ".n text{font:14px sans-serif;text-anchor:middle;fill:#222}"
    )
    parts = [
        f'<svg class="cyoa-storymap" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {drawn.width:.0f} {drawn.height:.0f}" width="{drawn.width:.0f}" '
        f'style="max-width:100%;height:auto;background:#fbf8f2" role="img" '
        f'aria-label="Map of every scene and the links between them"><style>{style}</style>'
    ]
    parts += [f'<path class="e" d="{edge.path}"/>' for edge in drawn.edges]
    parts += [
        f'<text class="k" x="{edge.key_x:.0f}" y="{edge.key_y:.0f}">{html.escape(edge.key)}</text>'
        for edge in drawn.edges
        if edge.key
    ]
    for node in drawn.nodes:
        kind = node.kind + (" taken" if node.taken else "")
        parts.append(
            f'<g class="n {html.escape(kind)}" data-scene="{html.escape(node.id)}">'
            f"<title>{html.escape(node.title)}</title>"
            f'<rect x="{node.x - NODE_WIDTH / 2:.0f}" y="{node.y:.0f}" width="{NODE_WIDTH}" '
            f'height="{NODE_HEIGHT}" rx="8"/><text x="{node.x:.0f}" '
            f'y="{node.y + NODE_HEIGHT / 2 + 5:.0f}">{html.escape(node.label)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
