"""Every path from the start to an ending: what ``cyoa check`` lists and the export maps."""

from __future__ import annotations

from dataclasses import dataclass

from cyoa.story.model import Story

MAX_PATHS = 100_000
MAX_STEPS = 500_000
"""Steps of the walk that counts paths through loops: about a second on a slow laptop."""


class TooManyPaths(ValueError):
    """The loops of a story make its paths too many to count in reasonable time."""


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


def enumerate_paths(
    story: Story, limit: int = MAX_PATHS, budget: int = MAX_STEPS
) -> list[StoryPath]:
    """All paths that visit no scene twice, depth first in option order.

    Raises TooManyPaths past ``limit`` paths or ``budget`` steps, rather than running out of
    memory (or patience) on a huge graph or a tangle of loops.
    """
    found: list[StoryPath] = []
    if story.start not in story.by_id:
        return found
    stack: list[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]] = [
        (story.start, (story.start,), ())
    ]
    steps = 0
    while stack:
        steps += 1
        if steps > budget:
            raise TooManyPaths(f"more paths than {budget} steps can list")
        scene_id, scenes, picks = stack.pop()
        scene = story.by_id[scene_id]
        if scene.ending is not None:
            found.append(StoryPath(scenes, picks))
            if len(found) > limit:
                raise TooManyPaths(f"more than {limit} paths")
            continue
        for key, target in reversed(scene.edges):
            if target in story.by_id and target not in scenes:
                chosen = (*picks, (scene_id, key)) if key is not None else picks
                stack.append((target, (*scenes, target), chosen))
    return found


def count_paths(story: Story, budget: int = MAX_STEPS) -> int:
    """The number of paths from the start to an ending that visit no scene twice.

    Without loops this is one pass over the graph. Where loops are, the scenes that can
    reach one are walked path by path (a scene on the way is not entered again); the rest
    is counted once per scene. Raises TooManyPaths after ``budget`` steps of that walk.
    """
    if story.start not in story.by_id:
        return 0
    sources = {source for source, _ in loop_links(story)}
    loopy = _reaching(story, sources)
    tails = _tail_counts(story, loopy)
    if story.start not in loopy:
        return tails[story.start]
    total, steps = 0, 0
    stack: list[tuple[str, frozenset[str]]] = [(story.start, frozenset([story.start]))]
    while stack:
        steps += 1
        if steps > budget:
            raise TooManyPaths(f"more paths than {budget} steps can count")
        scene_id, on_path = stack.pop()
        if scene_id not in loopy:
            total += tails[scene_id]
            continue
        for target in story.by_id[scene_id].targets:
            if target in story.by_id and target not in on_path:
                stack.append((target, on_path | {target}))
    return total


def _tail_counts(story: Story, loopy: set[str]) -> dict[str, int]:
    """Paths to an ending from each scene that reaches no loop (so none is on the way twice)."""
    counts: dict[str, int] = {}
    for root in reachable_from(story, story.start) - loopy:
        if root in counts:
            continue
        stack = [(root, False)]
        while stack:  # post-order without recursion: a long story must not hit the limit
            scene_id, done = stack.pop()
            scene = story.by_id[scene_id]
            targets = [t for t in scene.targets if t in story.by_id]
            if done:
                own = 1 if scene.ending is not None else 0
                counts[scene_id] = own + sum(counts[t] for t in targets)
            elif scene_id not in counts:
                stack.append((scene_id, True))
                stack.extend((t, False) for t in targets if t not in counts)
    return counts


def loop_links(story: Story) -> list[tuple[str, str]]:
    """(scene, earlier scene) for every link that goes back to a scene already on the way.

    Found walking from the start in option order, so the answer is stable; every loop the
    talk can enter contains at least one of these links.
    """
    if story.start not in story.by_id:
        return []
    found: list[tuple[str, str]] = []
    state: dict[str, str] = {story.start: "open"}
    stack = [(story.start, iter(story.by_id[story.start].targets))]
    while stack:
        scene_id, targets = stack[-1]
        target = next(targets, None)
        if target is None:
            state[scene_id] = "done"
            stack.pop()
        elif target not in story.by_id:
            continue
        elif state.get(target) == "open":
            found.append((scene_id, target))
        elif target not in state:
            state[target] = "open"
            stack.append((target, iter(story.by_id[target].targets)))
    return found


def _reaching(story: Story, goals: set[str]) -> set[str]:
    """Every scene from which one of ``goals`` can be reached (the goals included)."""
    parents: dict[str, set[str]] = {}
    for scene in story.scenes:
        for target in scene.targets:
            parents.setdefault(target, set()).add(scene.id)
    found = set(goals)
    stack = list(goals)
    while stack:
        for parent in parents.get(stack.pop(), ()):
            if parent not in found:
                found.add(parent)
                stack.append(parent)
    return found


def reading_order(story: Story) -> list[str]:
    """Scenes in the order a reader meets them: each branch read to its end before the next.

    A topological order (a scene comes after every scene that leads to it, links that loop
    back aside) that always continues with the scene unlocked last; scenes the start cannot
    reach come at the end.
    """
    reachable = reachable_from(story, story.start)
    back = set(loop_links(story))
    waiting = dict.fromkeys(reachable, 0)
    for scene_id in reachable:
        for target in set(story.by_id[scene_id].targets) & reachable:
            if (scene_id, target) not in back:
                waiting[target] += 1
    order: list[str] = []
    stack = [story.start] if story.start in reachable else []
    while stack:
        scene_id = stack.pop()
        order.append(scene_id)
        for target in reversed(list(dict.fromkeys(story.by_id[scene_id].targets))):
            if target in reachable and (scene_id, target) not in back:
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
