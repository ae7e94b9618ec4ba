"""``cyoa present`` that gives up at start leaves nothing running, and says why.

Each test runs a real ``cyoa present`` (the vote server with its embedded Redis, Voilà)
and makes its start fail in a way a presenter meets: a port already taken, a typo in
``--from``, a Ctrl-C (SIGTERM) while the vote server is still coming up. The test follows
the run's process tree while it lives; once ``cyoa present`` has returned, none of those
processes may be running, and no process on this machine may still point at the run's
state directory (the embedded redis-server runs in a session of its own and rewrites its
environment, so only its arguments name the directory).
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from conftest import free_port, present_env
from waiting import wait_until

pytestmark = pytest.mark.slow


class Run:
    """One ``cyoa present`` in the background, and every process it was seen to start."""

    def __init__(self, state_dir: Path, port: int, deck_port: int, *args: str) -> None:
        self.state_dir = state_dir
        self.log = open(state_dir.parent / "present.log", "w+b")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cyoa", "present", "--no-browser", "--state-dir",
             str(state_dir), "--port", str(port), "--deck-port", str(deck_port), *args],
            env=present_env(),
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.seen: dict[int, psutil.Process] = {}
        self.commands: set[str] = set()  # the command lines seen, for what was started

    def follow(self) -> list[psutil.Process]:
        """Remember the run's descendants now (they may be orphaned later); the list."""
        with contextlib.suppress(psutil.Error):
            for child in psutil.Process(self.process.pid).children(recursive=True):
                self.seen.setdefault(child.pid, child)
                with contextlib.suppress(psutil.Error):
                    self.commands.add(" ".join(child.cmdline()))
        return list(self.seen.values())

    def started(self, word: str) -> bool:
        return any(word in command for command in self.commands)

    def wait(self) -> int:
        """Follow the tree until ``cyoa present`` exits; its exit status."""
        wait_until(lambda: self.follow() is not None and self.process.poll() is not None,
                   "cyoa present to give up")  # fmt: skip
        return self.process.returncode

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def pointing_at_state_dir(self) -> list[psutil.Process]:
        """Any process whose arguments, working directory or environment name the state dir."""
        where = str(self.state_dir)
        found = []
        for process in psutil.process_iter(["cmdline", "cwd", "environ"]):
            info = process.info
            words = [*(info["cmdline"] or []), info["cwd"] or "", *(info["environ"] or {}).values()]
            if process.pid != self.process.pid and any(where in word for word in words):
                found.append(process)
        return found

    def leftovers(self) -> list[str]:
        """The run's processes still running: empty when it cleaned up after itself."""
        alive = {p.pid: p for p in self.seen.values() if p.is_running()}
        alive |= {p.pid: p for p in self.pointing_at_state_dir()}
        return [f"{p.pid} {' '.join(p.cmdline())}" for p in alive.values() if p.is_running()]

    def kill(self) -> None:
        """After a failed test: end what the run left behind (only its own processes)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait()
        for process in [*self.seen.values(), *self.pointing_at_state_dir()]:
            with contextlib.suppress(psutil.Error):
                process.kill()
        self.log.close()


@pytest.fixture
def runs(tmp_path: Path) -> Iterator[list[Run]]:
    started: list[Run] = []
    yield started
    for run in started:
        run.kill()


def present(runs: list[Run], tmp_path: Path, port: int, deck_port: int, *args: str) -> Run:
    state_dir = tmp_path / "state"
    state_dir.mkdir(exist_ok=True)
    run = Run(state_dir, port, deck_port, *args)
    runs.append(run)
    return run


@contextlib.contextmanager
def held(host: str = "127.0.0.1") -> Iterator[int]:
    """A port this test keeps listening on, as another program would."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_taken_deck_port_stops_the_run_before_it_starts_anything(runs, tmp_path) -> None:
    with held() as deck_port:
        run = present(runs, tmp_path, free_port(), deck_port)
        status = run.wait()
    output = run.output()
    assert status == 1, output
    assert f"port {deck_port} (the deck" in output and "--deck-port" in output, output
    assert "Traceback" not in output
    assert run.leftovers() == []


def test_a_taken_vote_port_stops_the_run_before_it_starts_anything(runs, tmp_path) -> None:
    with held("0.0.0.0") as port:  # noqa: S104 (where the vote server listens)
        run = present(runs, tmp_path, port, free_port())
        status = run.wait()
    output = run.output()
    assert status == 1, output
    assert f"port {port} (the vote server" in output and "--port" in output, output
    assert "Traceback" not in output
    assert run.leftovers() == []


def test_a_failure_once_the_vote_server_runs_stops_it_and_its_redis(runs, tmp_path) -> None:
    """A typo in --from is found once the vote server answers: its Redis is running then."""
    run = present(runs, tmp_path, free_port(), free_port(), "--from", "no-such-scene")
    status = run.wait()
    output = run.output()
    assert status == 1, output
    assert "no scene 'no-such-scene'" in output and "Traceback" not in output, output
    assert run.started(str(run.state_dir / "redis" / "redis.sock"))  # it had its Redis
    assert run.leftovers() == []


def test_ctrl_c_while_the_vote_server_starts_leaves_no_redis_behind(runs, tmp_path) -> None:
    """SIGTERM as soon as the embedded Redis is up, while ``cyoa serve`` is still starting."""
    run = present(runs, tmp_path, free_port(), free_port())
    socket_path = str(run.state_dir / "redis" / "redis.sock")

    def redis_up() -> bool:
        run.follow()
        assert run.process.poll() is None, run.output()
        return run.started(socket_path)

    wait_until(redis_up, "the vote server's embedded Redis")
    run.process.send_signal(signal.SIGTERM)
    status = run.wait()
    assert status == 0, run.output()  # stopped as asked, not failed
    assert "stopping" in run.output()
    assert run.leftovers() == []


def test_voila_dying_at_start_stops_the_vote_server_and_its_redis(runs, tmp_path) -> None:
    """Voilà that exits before it answers (a crash, a port taken meanwhile) ends the run."""
    run = present(runs, tmp_path, free_port(), free_port())

    def voila() -> psutil.Process | None:
        assert run.process.poll() is None, run.output()
        found = [p for p in run.follow() if "voila" in _command(p).split()]
        return found[0] if found else None

    wait_until(voila, "Voilà to start").kill()
    status = run.wait()
    output = run.output()
    assert status == 1, output
    assert "Error: Voilà exited with -9" in output and "Traceback" not in output, output
    assert run.started(str(run.state_dir / "redis" / "redis.sock"))
    assert run.leftovers() == []


def _command(process: psutil.Process) -> str:
    with contextlib.suppress(psutil.Error):
        return " ".join(process.cmdline())
    return ""
