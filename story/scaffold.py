"""``cyoa new``: write a small story that checks and presents at once, for an author to change.

The files live in ``story/starter/`` (package data, so they ship in the wheel). Files ending
in ``.j2`` are Jinja templates that get the talk's name and title; the rest are copied.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from jinja2 import Environment, StrictUndefined

STARTER = Path(__file__).resolve().parent / "starter"
TEMPLATE_SUFFIX = ".j2"


class ScaffoldError(Exception):
    """Why ``cyoa new`` will not write into a folder, worded for the author."""


def starter_files() -> list[Path]:
    """The starter story's files, relative to its folder, in a stable order."""
    return sorted(
        path.relative_to(STARTER)
        for path in STARTER.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    )


def talk_name(folder: Path) -> str:
    """A story name from the folder's name: lowercase letters, digits and dashes."""
    name = re.sub(r"[^a-z0-9]+", "-", folder.resolve().name.lower()).strip("-")
    return name or "my-talk"


def write_starter(folder: Path, title: str | None = None) -> list[Path]:
    """Write the starter story into ``folder`` (new or empty); the files written, in order."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ScaffoldError(f"{folder} is a file: cyoa new writes a story into a folder")
    if folder.is_dir() and any(folder.iterdir()):
        raise ScaffoldError(
            f"{folder} is not empty: cyoa new writes only into a new or empty folder, "
            "so that it never overwrites your files"
        )
    name = talk_name(folder)
    title = (title or "").strip() or name.replace("-", " ").capitalize()
    values = {"name": name, "title": json.dumps(title, ensure_ascii=False)}
    jinja = Environment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)  # noqa: S701 (YAML and Markdown, not HTML)
    written = []
    for relative in starter_files():
        source = STARTER / relative
        target = folder / relative
        if target.name.endswith(TEMPLATE_SUFFIX):
            target = target.with_name(target.name.removesuffix(TEMPLATE_SUFFIX))
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.name.endswith(TEMPLATE_SUFFIX):
            text = source.read_text(encoding="utf-8")
            target.write_text(jinja.from_string(text).render(values), encoding="utf-8")
        else:
            target.write_bytes(source.read_bytes())
        written.append(target)
    return written
