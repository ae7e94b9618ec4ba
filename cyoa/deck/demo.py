"""A scene's demo inside the slide: its recorded output first, a live run on demand.

The demos (``cyoa.demos``) print what they do. On stage the deck shows the recording the
story ships (``story/adventures/<name>/recordings/``) at once, and pressing D runs the real
demo in a background thread, its printed lines streamed into the slide. A demo that does
not exist yet shows its name and "no demo yet".
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


def recorded_output(story_root: Path | None, name: str) -> str:
    if story_root is None:
        return ""
    try:
        from cyoa.story.demos import demo_recording

        recording = demo_recording(story_root, name)
    except Exception:
        return ""
    return recording.output if recording else ""


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

    def __init__(self, story_root: Path | None, changed: Callable[[], None]) -> None:
        self.story_root = story_root
        self.changed = changed
        self.outputs: dict[str, str] = {}
        self.states: dict[str, str] = {}
        self._available: set[str] | None = None
        self._recorded: dict[str, str] = {}
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
        if name not in self._recorded:
            self._recorded[name] = recorded_output(self.story_root, name)
        recorded = self._recorded[name]
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
        try:
            with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
                run_demo(name)
        except Exception as error:  # shown in the slide, never raised into the kernel
            stream.write(f"\n✘ {type(error).__name__}: {error}\n")
        with self._lock:
            self.outputs[name] = stream.getvalue()
            self.states[name] = "done"
            del self._streams[name]
        self.changed()
