"""Every path from the start to an ending: what ``cyoa check`` lists and the export maps."""

from __future__ import annotations

from dataclasses import dataclass

from story.model import Story

MAX_PATHS = 100_000


@dataclass(frozen=True)
class StoryPath:
    """One way through the story: the scenes in order and the option picked at each choice."""

    scenes: tuple[str, ...]
    picks: tuple[tuple[str, str], ...]  # (decision scene id, option key)

    @property
    def ending(self) -> str:
        return self.scenes[-1]

    def labels(self, story: Story) -> list[str]:
        """The option labels picked along the way, as the audience saw them."""
        labels = []
        for scene_id, key in self.picks:
            choice = story.scene(scene_id).choice
            option = choice.option(key) if choice else None
            labels.append(option.label if option else key)
        return labels


def enumerate_paths(story: Story, limit: int = MAX_PATHS) -> list[StoryPath]:
    """All paths that visit no scene twice, depth first in option order.

    Raises ValueError past ``limit`` paths rather than running out of memory on a huge graph.
    """
    found: list[StoryPath] = []
    if story.start not in story.by_id:
        return found
    stack: list[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]] = [
        (story.start, (story.start,), ())
    ]
    while stack:
        scene_id, scenes, picks = stack.pop()
        scene = story.by_id[scene_id]
        if scene.ending is not None:
            found.append(StoryPath(scenes, picks))
            if len(found) > limit:
                raise ValueError(f"more than {limit} paths")
            continue
        for key, target in reversed(scene.edges):
            if target in story.by_id and target not in scenes:
                chosen = (*picks, (scene_id, key)) if key is not None else picks
                stack.append((target, (*scenes, target), chosen))
    return found


def count_paths(story: Story) -> int:
    """The number of paths, counted without listing them (the story must have no loop)."""
    memo: dict[str, int] = {}

    def count(scene_id: str) -> int:
        if scene_id not in memo:
            scene = story.by_id[scene_id]
            if scene.ending is not None:
                memo[scene_id] = 1
            else:
                memo[scene_id] = sum(count(t) for t in scene.targets if t in story.by_id)
        return memo[scene_id]

    return count(story.start) if story.start in story.by_id else 0


def reading_order(story: Story) -> list[str]:
    """Scenes in the order a reader meets them: each branch read to its end before the next.

    A topological order (a scene comes after every scene that leads to it) that always
    continues with the scene unlocked last; scenes the start cannot reach come at the end.
    """
    reachable = reachable_from(story, story.start)
    waiting = dict.fromkeys(reachable, 0)
    for scene_id in reachable:
        for target in set(story.by_id[scene_id].targets) & reachable:
            waiting[target] += 1
    order: list[str] = []
    stack = [story.start] if story.start in reachable else []
    while stack:
        scene_id = stack.pop()
        order.append(scene_id)
        for target in reversed(list(dict.fromkeys(story.by_id[scene_id].targets))):
            if target in reachable:
                waiting[target] -= 1
                if waiting[target] == 0:
                    stack.append(target)
    order.extend(scene.id for scene in story.scenes if scene.id not in order)
    return list(dict.fromkeys(order))


def reachable_from(story: Story, start: str) -> set[str]:
    """Every scene id that can be reached from ``start`` by following links."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        scene_id = stack.pop()
        if scene_id in seen or scene_id not in story.by_id:
            continue
        seen.add(scene_id)
        stack.extend(story.by_id[scene_id].targets)
    return seen
