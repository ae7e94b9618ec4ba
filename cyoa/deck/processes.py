"""The processes ``cyoa present`` starts: each in its own session, all found and stopped.

Every child gets a marker in its environment (``CYOA_PRESENT_ID``), so stopping can find
and end even the processes its children started (kernels). The marker alone is not enough:
redis-server writes its process title over its environment, and runs in a session of its
own, so a vote server stopped while it is still starting (before it can stop its Redis)
would leave that Redis behind. So the run also remembers every descendant it sees (psutil,
checked while it waits for the children and at each heal) and ends the ones still running
after their parents have stopped.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psutil  # imported where used: the deck extra brings it (pyproject.toml)

MARKER = "CYOA_PRESENT_ID"
REMEMBER_EVERY = 5.0  # seconds between looks during a talk (start-up looks at every turn)


def marked_pids(marker: str) -> list[int]:
    """Processes of this user whose environment carries ``CYOA_PRESENT_ID=marker``."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
    return found


class Children:
    """The processes this run started, each in its own session, stopped in reverse order."""

    def __init__(self, logs: Path, marker: str) -> None:
        self.logs, self.marker = logs, marker
        self.started: list[tuple[str, subprocess.Popen]] = []
        self.commands: dict[str, tuple[list[str], dict[str, str]]] = {}
        self.descendants: dict[int, psutil.Process] = {}  # psutil tells a reused pid apart
        self.remembered = 0.0  # when remember() last looked
        logs.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        self.commands[name] = (argv, env)
        process = self._spawn(name)
        self.started.append((name, process))
        return process

    def _spawn(self, name: str) -> subprocess.Popen:
        argv, env = self.commands[name]
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (the child owns it)
        with log:
            process = subprocess.Popen(
                argv,
                env={**env, MARKER: self.marker},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return process

    def remember(self) -> None:
        """Note every process the children have started so far, in any session.

        Only below the children: a browser ``webbrowser.open`` started is the presenter's.
        ~2 ms of CPU per child (a pass over the process table).
        """
        import psutil

        self.remembered = time.monotonic()
        for _name, child in self.started:
            with contextlib.suppress(psutil.Error):
                for process in psutil.Process(child.pid).children(recursive=True):
                    self.descendants.setdefault(process.pid, process)

    def heal(self) -> list[str]:
        """Restart any child that exited (a crashed vote server must not end the talk)."""
        if time.monotonic() - self.remembered > REMEMBER_EVERY:
            self.remember()
        restarted = []
        for index, (name, process) in enumerate(list(self.started)):
            if process.poll() is not None:
                self.started[index] = (name, self._spawn(name))
                restarted.append(name)
        return restarted

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM each process group (it stops its kernels, Redis); then end stragglers."""
        self.remember()
        for _name, process in reversed(self.started):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
        self._end_orphans(grace)
        deadline = time.monotonic() + grace
        while (left := marked_pids(self.marker)) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in marked_pids(self.marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        del left

    def _end_orphans(self, grace: float) -> None:
        """SIGTERM the remembered descendants still running (a Redis saves and exits on
        it), then SIGKILL whichever has not gone within ``grace``."""
        import psutil

        alive = []
        for process in self.descendants.values():
            with contextlib.suppress(psutil.Error):
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    process.terminate()
                    alive.append(process)
        _gone, stuck = psutil.wait_procs(alive, timeout=grace)
        for process in stuck:
            with contextlib.suppress(psutil.Error):
                process.kill()
        psutil.wait_procs(stuck, timeout=grace)
