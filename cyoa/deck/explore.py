"""For learners after the talk: the story map, and a player where you choose every branch.

No vote server: the same :class:`~cyoa.deck.machine.Talk` the deck uses, driven by buttons,
so a learner can walk the paths the room did not choose.
"""

from __future__ import annotations

import html
from collections import deque
from typing import TYPE_CHECKING

import ipywidgets as w

from cyoa.deck import render
from cyoa.deck.machine import Talk
from cyoa.story import storymap
from cyoa.story.variants import scene_on_path

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


class StoryMap:
    """The story map as the export draws it: top to bottom, a box per scene with its title,
    the option keys on the branches. Shown as inline SVG (no script: it prints, and it reads
    the same in JupyterLab and in Voilà at any width)."""

    def __init__(self, story: Story) -> None:
        self.story = story
        self.nodes = storymap.layout(story).nodes

    def _repr_html_(self) -> str:
        story = self.story
        lead = (
            f"<p><b>{html.escape(story.title)}</b>: {len(story.scenes)} scenes, "
            f"{len(story.decisions)} decisions, {len(story.endings)} endings. Blue boxes are "
            "decisions (the numbers on their branches are the options), purple boxes endings; "
            "hover over a box for the whole title.</p>"
        )
        return f'<div class="cyoa-explore-map">{lead}{storymap.map_svg(story)}</div>'


def story_map(story: Story) -> StoryMap:
    """Every scene by its title, every way on as a line: see :class:`StoryMap`."""
    return StoryMap(story)


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
        scene = scene_on_path(self.story, self.talk.scene.id, self.talk.path)  # path's variant
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
