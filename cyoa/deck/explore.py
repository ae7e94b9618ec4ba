"""For learners after the talk: the story map, and a player where you choose every branch.

No vote server: the same :class:`~cyoa.deck.machine.Talk` the deck uses, driven by buttons,
so a learner can walk the paths the room did not choose.
"""

from __future__ import annotations

import html
from collections import deque
from typing import TYPE_CHECKING

import ipywidgets as w
import plotly.graph_objects as go

from cyoa.deck import render
from cyoa.deck.machine import Talk

if TYPE_CHECKING:
    from cyoa.story.model import Story


def levels(story: Story) -> dict[str, int]:
    """Each reachable scene's distance from the start (breadth first): the map's columns."""
    depth = {story.start: 0}
    queue = deque([story.start])
    while queue:
        scene = story.by_id[queue.popleft()]
        for target in scene.targets:
            if target in story.by_id and target not in depth:
                depth[target] = depth[scene.id] + 1
                queue.append(target)
    return depth


def story_map(story: Story) -> go.Figure:
    """Every scene as a dot (decisions and endings stand out), every way on as a line."""
    depth = levels(story)
    rows: dict[int, int] = {}
    where: dict[str, tuple[int, int]] = {}
    for scene in story.scenes:
        if scene.id in depth:
            column = depth[scene.id]
            where[scene.id] = (column, rows.setdefault(column, 0))
            rows[column] += 1
    edge_x: list[float | None] = []
    edge_y: list[float | None] = []
    for scene_id, (x, y) in where.items():
        for target in story.by_id[scene_id].targets:
            if target in where:
                edge_x += [x, where[target][0], None]
                edge_y += [-y, -where[target][1], None]
    kinds = {"choice": "#ffcc33", "ending": "#5ee08a"}
    scenes = [story.by_id[s] for s in where]
    figure = go.Figure(
        [
            go.Scatter(x=edge_x, y=edge_y, mode="lines", line={"color": "#999"}, hoverinfo="skip"),
            go.Scatter(
                x=[where[s.id][0] for s in scenes],
                y=[-where[s.id][1] for s in scenes],
                mode="markers+text",
                text=[s.id for s in scenes],
                textposition="top center",
                hovertext=[f"{s.title} ({s.kind})" for s in scenes],
                hoverinfo="text",
                marker={"size": 16, "color": [kinds.get(s.kind, "#4c78a8") for s in scenes]},
            ),
        ]
    )
    figure.update_layout(
        title=f"{story.title}: {len(scenes)} scenes, {len(story.decisions)} decisions",
        showlegend=False,
        height=140 + 60 * max(rows.values(), default=1),
        xaxis={"visible": False},
        yaxis={"visible": False},
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    )
    return figure


class Player:
    """Walk the story with buttons: next, one button per option at a decision, back, restart."""

    def __init__(self, story: Story) -> None:
        self.story = story
        self.talk = Talk(story)
        self.slide = w.HTML()
        self.trail = w.HTML()
        self.buttons = w.HBox()
        self.root = w.VBox([self.trail, self.slide, self.buttons])
        self.render()

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.root)

    def actions(self) -> list[tuple[str, str]]:
        """(label, action) for every button shown now."""
        talk = self.talk
        buttons = [("◀ Back", "back")] if len(talk.path) > 1 else []
        if talk.choice is not None:
            buttons += [
                (f"{n}. {o.label}", f"pick:{n}") for n, o in enumerate(talk.choice.options, 1)
            ]
        elif talk.scene.next:
            buttons.append(("Next ▶", "next"))
        else:
            buttons.append(("↺ Start again", "restart"))
        return buttons

    def act(self, action: str) -> None:
        if action == "back":
            self.talk.back()
        elif action == "next":
            self.talk.next(online=False)
        elif action.startswith("pick:"):
            self.talk.pick(int(action[5:]))
        elif action == "restart":
            self.talk = Talk(self.story)
        self.render()

    def render(self) -> None:
        scene = self.talk.scene
        body = render.scene_html(self.story, scene)
        if scene.demo:
            name = html.escape(scene.demo)
            body += f"<p><i>Demo <b>{name}</b>: run it in the learn notebooks.</i></p>"
        if scene.choice is not None:
            body += f"<h3>{html.escape(scene.choice.question)}</h3>"
        self.slide.value = f'<div class="cyoa-explore">{body}</div>'
        self.trail.value = (
            "<small>" + " → ".join(html.escape(s) for s in self.talk.path) + "</small>"
        )
        buttons = []
        for label, action in self.actions():
            button = w.Button(description=label, layout=w.Layout(width="auto"))
            button.on_click(lambda _b, a=action: self.act(a))
            buttons.append(button)
        self.buttons.children = buttons
