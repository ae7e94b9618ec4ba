"""``cyoa check --watch`` and ``cyoa present --watch``: act again on every save.

Watches the story folder and its notebooks folder (which may lie outside it) with
``watchfiles``, which uses the system's file events rather than polling. The first check runs
once the watcher is live, so a save made while it runs is never missed. ``cyoa check`` checks
until Ctrl-C; the deck's kernel reloads its story until told to stop (cyoa/deck/reload.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import watchfiles

from cyoa.story.loader import load_story

READY_MS = 200
"""How soon an idle watcher reports that it is live, in milliseconds."""
IGNORED_DIRS = (*watchfiles.DefaultFilter.ignore_dirs, ".ipynb_checkpoints")


def watched_paths(root: Path) -> tuple[Path, ...]:
    """The story folder, and its notebooks folder when story.yaml names one that exists."""
    paths = [Path(root).resolve()]
    try:
        notebooks = load_story(root).notebooks_path
    except Exception:  # StoryError or a bug: the check reports it; keep watching the folder
        notebooks = None
    if notebooks is not None and notebooks.is_dir() and not notebooks.is_relative_to(paths[0]):
        paths.append(notebooks)
    return tuple(paths)


def watch_story(
    root: Path,
    check: Callable[[], object],
    echo: Callable[[str], None],
    stop: threading.Event | None = None,
) -> None:
    """Run ``check`` now and after every change under ``root``; return quietly on Ctrl-C,
    or once ``stop`` is set."""
    try:
        while stop is None or not stop.is_set():
            paths = watched_paths(root)
            for changes in _changes(paths, stop):
                if changes is None:  # the watcher is live: the first check of these paths
                    check()
                    echo(f"Watching {', '.join(map(str, paths))} (Ctrl-C to stop)")
                elif changes:
                    echo(f"\n[{time.strftime('%H:%M:%S')}] changed: {', '.join(changes)}")
                    check()
                    if watched_paths(root) != paths:  # story.yaml moved its notebooks
                        break
    except KeyboardInterrupt:
        echo("Stopped watching.")


def _changes(
    paths: tuple[Path, ...], stop: threading.Event | None = None
) -> Iterator[list[str] | None]:
    """None once the watcher is live, then the names changed by each save (empty: idle)."""
    live = False
    watch_filter = watchfiles.DefaultFilter(ignore_dirs=IGNORED_DIRS)
    for raw in watchfiles.watch(
        *paths,
        watch_filter=watch_filter,
        rust_timeout=READY_MS,
        yield_on_timeout=True,
        stop_event=stop,
    ):
        if not live:
            live = True
            yield None
        added = {name for change, name in raw if change == watchfiles.Change.added}
        kept = {name for _, name in raw if Path(name).exists() or name not in added}
        yield sorted({_shown(Path(name), paths) for name in kept})  # not an editor's temp file


def _shown(path: Path, roots: tuple[Path, ...]) -> str:
    for root in roots:
        if path.is_relative_to(root):
            return str(path.relative_to(root))
    return str(path)
