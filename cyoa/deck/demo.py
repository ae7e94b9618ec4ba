"""A scene's demo inside the slide: its recorded output first, a live run on demand.

The demos (``cyoa.demos``) print what they do. On stage the deck shows the recording the
story ships (``story/adventures/<name>/recordings/``) at once, and pressing D runs the real
demo in a background thread, its printed lines streamed into the slide. A demo that does
not exist yet shows its name and "no demo yet".

The talk's path picks the branch's own run: a recording variant named after a scene on
the path (``recordings/app.pets.json`` once the room chose the ``pets`` scene), and, live,
the product of that path (``run_demo(name, product="pets")``).
"""

from __future__ import annotations

import contextlib
import io
import threading
import time
from collections.abc import Callable
from pathlib import Path


def available_demos() -> set[str]:
    """Names of the demos this install can run (none if the demos package is missing)."""
    try:
        from cyoa.demos import demo_names
    except Exception:  # a half-installed demos package must not take the deck down
        return set()
    return set(demo_names())


def recorded_output(story_root: Path | None, name: str, path: list[str] | None = None) -> str:
    """The recording of demo ``name`` for a talk that took ``path`` (its variant, if any)."""
    if story_root is None:
        return ""
    try:
        from cyoa.story.demos import demo_recording, recording_variant

        variant = recording_variant(story_root, name, path or [])
        recording = demo_recording(story_root, name, variant)
    except Exception:
        return ""
    return recording.output if recording else ""


def product_for(path: list[str]) -> str | None:
    """The product a talk that took ``path`` chose: the latest scene named after one of
    cyoa's products (the ``pets`` scene), else None (the demos' default product)."""
    try:
        from cyoa.demos.runner import PRODUCTS
    except Exception:
        return None
    return next((scene for scene in reversed(path) if scene in PRODUCTS), None)


class _Stream(io.StringIO):
    """Collects printed text and tells the deck, at most every ``every`` seconds."""

    def __init__(self, changed: Callable[[], None], every: float = 0.3) -> None:
        super().__init__()
        self.changed, self.every, self.last = changed, every, 0.0

    def write(self, text: str) -> int:
        count = super().write(text)
        if time.monotonic() - self.last > self.every:
            self.last = time.monotonic()
            self.changed()
        return count


class DemoPanel:
    """The state of each demo in this deck: recorded, running, done (with its output)."""

    def __init__(
        self,
        story_root: Path | None,
        changed: Callable[[], None],
        path: Callable[[], list[str]] | None = None,
    ) -> None:
        self.story_root = story_root
        self.changed = changed
        self.path = path or list  # the talk's path so far (scene ids): picks the branch's run
        self.outputs: dict[str, str] = {}
        self.states: dict[str, str] = {}
        self._available: set[str] | None = None
        self._recorded: dict[tuple[str, tuple[str, ...]], str] = {}
        self._streams: dict[str, _Stream] = {}
        self._lock = threading.Lock()

    def forget_recordings(self) -> None:
        """Read each recording again when next shown (the story was edited: --watch)."""
        self._recorded.clear()

    def exists(self, name: str) -> bool:
        if self._available is None:
            self._available = available_demos()
        return name in self._available

    def view(self, name: str) -> tuple[str, str]:
        """(state, output) to show for demo ``name``."""
        if name in self._streams:
            return "running", self._streams[name].getvalue()
        if name in self.states:
            return self.states[name], self.outputs.get(name, "")
        path = tuple(self.path())
        if (name, path) not in self._recorded:
            self._recorded[name, path] = recorded_output(self.story_root, name, list(path))
        recorded = self._recorded[name, path]
        if not self.exists(name):
            return ("recorded" if recorded else "missing"), recorded
        return ("recorded" if recorded else "ready"), recorded

    def run(self, name: str) -> bool:
        """Start demo ``name`` in the background; False if it is unknown or already running."""
        with self._lock:
            if name in self._streams or not self.exists(name):
                return False
            self._streams[name] = _Stream(self.changed)
        threading.Thread(target=self._run, args=(name,), daemon=True).start()
        self.changed()
        return True

    def _run(self, name: str) -> None:
        from cyoa.demos import run_demo

        stream = self._streams[name]
        product = product_for(list(self.path()))
        options = {"product": product} if product else {}
        try:
            with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
                run_demo(name, **options)
        except Exception as error:  # shown in the slide, never raised into the kernel
            stream.write(f"\n✘ {type(error).__name__}: {error}\n")
        with self._lock:
            self.outputs[name] = stream.getvalue()
            self.states[name] = "done"
            del self._streams[name]
        self.changed()
