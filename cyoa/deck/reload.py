"""``cyoa present --watch``: the deck's kernel reloads the story on every save.

Each deck kernel (the projector's, the presenter's, and the pre-heated ones waiting in
Voilà's pool) watches the story folder itself with ``story.watch`` (the watcher of ``cyoa
check --watch``), so both windows follow an edit without a message between processes. A
save that checks replaces the deck's story and keeps the talk where it is; a save that
does not check leaves the last good story in place and puts the checker's messages on the
slide until the next good save. Nothing here may raise into the kernel: a deck that dies
on a typo would cost a rehearsal its place.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from cyoa.story.model import Scene, Story
from cyoa.story.verdict import checked

if TYPE_CHECKING:
    from cyoa.deck.deck import Deck

PLACEHOLDER = "story-does-not-check"
"""The one scene of the stand-in a kernel shows when the story does not load at its start."""
RETRY = 1.0  # seconds before watching again after the watcher itself failed


def placeholder(root: Path) -> Story:
    """A one-scene story to stand in while the real one fails: the deck still draws, and
    shows why, instead of a dead kernel."""
    scene = Scene(id=PLACEHOLDER, title="The story does not check")
    return Story(name="", title="", start=PLACEHOLDER, scenes=(scene,), root=Path(root))


class Reloader:
    """Watches one story folder on a daemon thread and hands each verdict to the deck."""

    def __init__(self, deck: Deck, root: Path) -> None:
        self.deck = deck
        self.root = Path(root)
        self.stop = threading.Event()
        self.reloads = 0  # verdicts handed to the deck (tests wait on it)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cyoa-deck-watch", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reload(self) -> None:
        """Check the story now; give the deck the new story, or the checker's messages."""
        story, problems = checked(self.root)
        try:
            if story is not None and not problems:
                self.deck.use_story(story)
            else:
                self.deck.show_problems(problems)
        except Exception as error:  # the watcher must outlive any surprise
            self.deck.note_error(error)
        self.reloads += 1

    def _run(self) -> None:
        from cyoa.story.watch import watch_story

        while not self.stop.is_set():
            try:
                watch_story(self.root, self.reload, _log, stop=self.stop)
            except Exception as error:  # a folder renamed away: say so, and try again
                _log(f"[{time.strftime('%H:%M:%S')}] {type(error).__name__}: {error}")
                self.stop.wait(RETRY)


def _log(line: str) -> None:
    """To the kernel's own stderr (Voilà's log), never into the page's output."""
    print(f"cyoa present --watch: {line.strip()}", file=sys.__stderr__, flush=True)
