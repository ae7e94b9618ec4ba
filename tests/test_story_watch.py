"""``cyoa check --watch``: every save gets a new verdict, and Ctrl-C stops it cleanly.

A real ``cyoa check --watch`` process; the test waits for each line it expects (never a
sleep), so it holds on a busy machine.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from story_helpers import write_story

WAIT = 60.0  # seconds: a generous bound for a verdict on a loaded 2-core machine


def ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Watching:
    """``cyoa check --watch`` in a child process, its merged output read line by line."""

    def __init__(self, root: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cyoa", "check", "--watch", "--quiet", str(root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            # started as a background job would be, with SIGINT ignored: Ctrl-C must stop it
            # all the same, whatever the shell or CI runner that launched the tests left
            preexec_fn=ignore_sigint,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, fragment: str) -> list[str]:
        """The lines up to and including the first one holding ``fragment``."""
        deadline = time.monotonic() + WAIT
        start = len(self.seen)
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {fragment!r} in:\n" + "\n".join(self.seen)) from None
            if line is None:
                raise AssertionError(f"exited before {fragment!r}:\n" + "\n".join(self.seen))
            self.seen.append(line)
            if fragment in line:
                return self.seen[start:]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            self.reader.join(timeout=WAIT)  # the rest of the output, up to the end of the pipe
            assert self.process.stdout is not None
            self.process.stdout.close()


def save(path: Path, data: bytes, draft: Path) -> None:
    """Save as an editor does: the whole new file at once (a rename), never a half-written one.

    ``draft`` lies outside the watched folder, on the same disk.
    """
    draft.write_bytes(data)
    os.replace(draft, path)


def test_each_save_gets_a_new_verdict_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    root = write_story(tmp_path / "story")
    left, draft = root / "scenes" / "03-left.md", tmp_path / "draft"
    watching = Watching(root)
    try:
        first = watching.wait_for("Watching")
        assert "OK: no errors, 0 warnings." in first

        save(left, b"---\nid: left\ntitle: Left\nnext: nowhere\n---\n", draft)
        broken = watching.wait_for("Error: 1 error; fix them first")
        assert any("changed: scenes/03-left.md" in line for line in broken)
        assert any("03-left.md:4: error: scene 'left': broken link" in line for line in broken)

        save(left, b"---\nid: left\ntitle: Left\nending: L\n---\n", draft)
        watching.wait_for("OK: no errors, 0 warnings.")

        save(root / "story.yaml", b"name: tiny\ntitle: Caf\xe9\nstart: start\n", draft)
        latin = watching.wait_for("fix them first")
        assert any("story.yaml:2: error: not UTF-8" in line for line in latin)
    finally:
        code = watching.stop()
    output = "\n".join(watching.seen)
    assert code == 0, output
    rest = []
    while (line := watching.lines.get(timeout=WAIT)) is not None:
        rest.append(line)
    assert rest[-1:] == ["Stopped watching."], output + "\n".join(rest)
    assert "Traceback" not in output + "\n".join(rest)
