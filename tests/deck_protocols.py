"""What a deck module uses of its deck, read from its source, against the Protocol it names:
each part of the deck can then be read and tested alone (issue 10)."""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType


def protocol_members(protocol: type) -> set[str]:
    """The attributes and public methods a Protocol declares."""
    methods = {name for name, value in vars(protocol).items() if callable(value)}
    return set(protocol.__annotations__) | {name for name in methods if not name.startswith("_")}


def deck_members_used(module: ModuleType) -> set[str]:
    """Every ``deck.X`` and ``self.deck.X`` the module reads, writes or calls."""
    used = set()
    for node in ast.walk(ast.parse(Path(module.__file__).read_text())):
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value
        if (isinstance(owner, ast.Name) and owner.id == "deck") or (
            isinstance(owner, ast.Attribute)
            and owner.attr == "deck"
            and isinstance(owner.value, ast.Name)
            and owner.value.id == "self"
        ):
            used.add(node.attr)
    return used
