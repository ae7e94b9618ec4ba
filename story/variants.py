"""Per-branch variants of a shared scene: the one place a scene's text is chosen for a path.

A scene that several branches share can carry blocks that only some paths show:

    ::: on pets
    The pets' photos go in /srv/app/media/.
    :::

A block shows when every scene it names is on the path taken so far. The deck shows the
text for the talk's path; the export and the handout, which serve every path at once, show
every block, each marked with the scenes it needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from cyoa.story.model import Scene, Story

_OPEN = re.compile(r"^:::[ \t]*on[ \t]+(?P<ids>\S.*?)[ \t]*$")
_CLOSE = re.compile(r"^:::[ \t]*$")
_FENCE = re.compile(r"^:::")


class VariantError(ValueError):
    """A variant block that does not open or close properly; ``line`` counts from 1."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Block:
    """A run of lines: shared (``when`` empty) or shown only on paths through ``when``."""

    text: str
    when: tuple[str, ...] = ()


def parse_blocks(text: str) -> list[Block]:
    """Split Markdown into shared text and ``::: on ID …`` blocks; VariantError if malformed."""
    blocks: list[Block] = []
    lines: list[str] = []
    when: tuple[str, ...] = ()
    opened = 0
    for number, line in enumerate(text.splitlines(), 1):
        opening = _OPEN.match(line)
        if opening and not when:
            blocks.append(Block("\n".join(lines)))
            lines, when, opened = [], tuple(opening["ids"].split()), number
        elif opening:
            raise VariantError(f"'{line.strip()}' inside another variant block", number)
        elif _CLOSE.match(line) and when:
            blocks.append(Block("\n".join(lines), when))
            lines, when = [], ()
        elif _FENCE.match(line):
            raise VariantError(
                f"'{line.strip()}' is not a variant line: open with '::: on <scene id>', "
                "close with ':::'",
                number,
            )
        else:
            lines.append(line)
    if when:
        raise VariantError(
            f"variant block '::: on {' '.join(when)}' never closes: add ':::'", opened
        )
    blocks.append(Block("\n".join(lines)))
    return [block for block in blocks if block.text.strip() or block.when]


def variant_ids(scene: Scene) -> set[str]:
    """Every scene id the variant blocks of ``scene`` name."""
    return {
        scene_id
        for text in (scene.body, scene.notes)
        for block in parse_blocks(text)
        for scene_id in block.when
    }


def text_on_path(text: str, path: Iterable[str] | None, name: Callable[[str], str] = str) -> str:
    """``text`` as a path shows it; with no path (``None``), every block, each marked with
    the ``name`` of the scenes it needs."""
    on_path = None if path is None else set(path)
    parts = []
    for block in parse_blocks(text):
        if not block.when:
            parts.append(block.text)
        elif on_path is None:
            needs = " and ".join(name(scene_id) for scene_id in block.when)
            parts.append(f"*On paths through {needs}:*\n\n{block.text.strip(chr(10))}")
        elif on_path.issuperset(block.when):
            parts.append(block.text)
    return "\n\n".join(part.strip("\n") for part in parts if part.strip()).strip()


def scene_on_path(story: Story, scene_id: str, path: Iterable[str] | None) -> Scene:
    """Scene ``scene_id`` with its slide and notes as the path so far shows them.

    ``path``: the scene ids taken so far (the scene itself may be last); ``None`` for a
    reader of every path at once (the export), who sees every variant, marked.
    """
    scene = story.scene(scene_id)
    if "\n:::" not in f"\n{scene.body}\n{scene.notes}":
        return scene
    path = None if path is None else list(path)

    def title(scene_id: str) -> str:
        return f"“{story.by_id[scene_id].title}”" if scene_id in story.by_id else scene_id

    return replace(
        scene,
        body=text_on_path(scene.body, path, title),
        notes=text_on_path(scene.notes, path, title),
    )
