"""``cyoa present`` in a child process, as a presenter runs it: for the end-to-end test and bench.

It waits for the run's ``present.json`` (written once the deck is served), stops it the way
Ctrl-C does, and says what, if anything, was left running or listening.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from cyoa.deck.processes import marked_pids
from cyoa.present import port_free


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class Presenting:
    """One ``cyoa present --no-browser`` run with its own state directory and ports."""

    def __init__(
        self,
        state_dir: Path,
        port: int,
        deck_port: int,
        env: dict[str, str],
        *args: str,
        sigint_ignored: bool = False,
    ) -> None:
        self.state_dir, self.port, self.deck_port = Path(state_dir), port, deck_port
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.state_dir / "present.out"
        argv = [sys.executable, "-m", "cyoa", "present", "--no-browser", "--port", str(port)]
        argv += ["--deck-port", str(deck_port), "--state-dir", str(self.state_dir), *args]
        self.started = time.monotonic()
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                argv,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # as a shell's background job starts it: SIGINT ignored
                preexec_fn=_ignore_sigint if sigint_ignored else None,
            )
        self.info: dict[str, Any] = {}

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 240.0) -> dict[str, Any]:
        """The run's URLs and pids, once it printed them (``Press Ctrl-C``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"cyoa present exited:\n{self.report()}")
            if "Press Ctrl-C" in self.output():
                self.info = json.loads((self.state_dir / "present.json").read_text())
                return self.info
            time.sleep(0.1)
        raise RuntimeError(f"cyoa present not ready in {timeout} s:\n{self.report()}")

    def report(self) -> str:
        """Its output and the end of each child's log: what a failed start needs explained."""
        parts = [self.output()]
        for log in sorted((self.state_dir / "logs").glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-25:]
            parts.append(f"--- {log.name} (last lines)\n" + "\n".join(tail))
        return "\n".join(parts)

    @property
    def vote_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def child_group(self, name: str, sig: int) -> None:
        """Signal one child's process group (SIGSTOP freezes the vote server, SIGCONT thaws)."""
        os.killpg(self.info["children"][name], sig)

    def stop(self, timeout: float = 60.0) -> int:
        """Ctrl-C, as the presenter would; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode

    def leftovers(self) -> list[str]:
        """Processes of this run still alive and its ports still taken: empty when clean."""
        left = [f"pid {pid}" for pid in marked_pids(self.info.get("marker", "-"))]
        for name, pid in self.info.get("children", {}).items():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 0)
                left.append(f"{name} (pid {pid})")
        left += [f"port {p}" for p in (self.port, self.deck_port) if not port_free(p)]
        return left

    def kill(self) -> None:
        """Last resort for a failed test: end whatever of this run is left."""
        self.stop(timeout=20)
        for pid in marked_pids(self.info.get("marker", "-")):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
