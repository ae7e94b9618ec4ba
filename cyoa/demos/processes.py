"""Start real servers on free loopback ports, wait until they answer, always stop them.

Every process runs in its own process group, so stopping it also stops its workers (nginx,
gunicorn, PostgreSQL and RQ all fork). Three nets make sure nothing is left running: the
context manager's ``finally`` (which also runs on KeyboardInterrupt, i.e. an interrupted
kernel), an ``atexit`` hook plus a SIGTERM handler (a kernel shut down or restarted), and
the Linux parent-death signal (a kernel killed outright). A daemon that detached itself
(gunicorn ``--daemon`` started by the Ansible playbook) escapes all three if its kernel is
killed mid-demo; the next demo run finds it by its owner mark and stops it.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import requests

_LIVE: dict[int, Service] = {}

#: Every process a demo starts carries this variable (its children inherit it), so a test
#: can find any process a demo left behind, however deep in the process tree.
OWNER_VAR = "CYOA_DEMO_OWNER"
#: Orphans are reaped only within one scope (empty by default): a lab, or a test suite,
#: that sets its own never stops another one's processes, nor has its own stopped by it.
SCOPE_VAR = "CYOA_DEMO_SCOPE"


def owner() -> str:
    """The owner mark given to started processes: inherited, or this process's id (@scope)."""
    if inherited := os.environ.get(OWNER_VAR):
        return inherited
    scope = os.environ.get(SCOPE_VAR, "")
    return f"pid-{os.getpid()}" + (f"@{scope}" if scope else "")


_PR_SET_PDEATHSIG = 1


def reap_orphans() -> list[int]:
    """Stop demo processes of this scope whose owner (``pid-N``) is gone: a killed kernel's."""
    import psutil

    scope = os.environ.get(SCOPE_VAR, "")
    orphans = []
    for proc in psutil.process_iter():
        with contextlib.suppress(psutil.Error, OSError):
            mark = proc.environ().get(OWNER_VAR, "")
            pid, _, its_scope = mark.removeprefix("pid-").partition("@")
            if (
                mark.startswith("pid-")
                and its_scope == scope
                and pid.isdigit()
                and not psutil.pid_exists(int(pid))
            ):
                orphans.append(proc)
    terminate(orphans)
    return [proc.pid for proc in orphans]


def terminate(procs: list, timeout: float = 3.0) -> None:
    """SIGTERM each (``psutil.Process``), then SIGKILL those still alive after ``timeout``."""
    import psutil

    for proc in procs:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts connections on ``host:port``."""
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def unprivileged(argv: Sequence[str], user: str = "nobody") -> list[str]:
    """``argv`` run as ``user`` when we are root (initdb and postgres refuse to run as root)."""
    if os.geteuid() != 0:
        return list(argv)
    group = "nogroup" if user == "nobody" else user
    return ["setpriv", f"--reuid={user}", f"--regid={group}", "--clear-groups", "--", *argv]


@dataclass
class Service:
    """A running process group we started, with its log file."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int | None = None
    stop_signal: int = signal.SIGINT

    @property
    def pid(self) -> int:
        return self.popen.pid

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def log_tail(self, lines: int = 8) -> str:
        """The last lines the process wrote, to show what it said."""
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the main process only (e.g. SIGHUP to reload)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the whole process group: polite signal, then SIGKILL after ``timeout``."""
        _LIVE.pop(self.pid, None)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, self.stop_signal)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout)
        # Children that outlive the leader are still in its group: make sure they go too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(2)


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGTERM it if the kernel that started it dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def start(
    name: str,
    argv: Sequence[str],
    *,
    log: Path,
    port: int | None = None,
    ready: Callable[[], bool] | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 15.0,
    stop_signal: int = signal.SIGINT,
) -> Service:
    """Start ``argv`` and wait until ``ready()`` (default: ``port`` accepts connections)."""
    _install_safety_nets()
    with log.open("ab") as out:
        popen = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env={**os.environ, OWNER_VAR: owner(), **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
    service = Service(name, popen, log, port, stop_signal)
    _LIVE[popen.pid] = service
    check = ready or (lambda: port is None or port_open(port))
    deadline = time.monotonic() + timeout
    try:
        while not check():
            if popen.poll() is not None:
                raise RuntimeError(f"{name} exited with {popen.returncode}:\n{service.log_tail()}")
            if time.monotonic() > deadline:
                tail = service.log_tail()
                raise TimeoutError(f"{name} did not answer in {timeout:.0f} s:\n{tail}")
            time.sleep(0.05)
    except BaseException:
        service.stop()
        raise
    return service


@contextlib.contextmanager
def running(name: str, argv: Sequence[str], **kwargs: object) -> Iterator[Service]:
    """:func:`start` as a context manager: the service is stopped however the block ends."""
    service = start(name, argv, **kwargs)  # type: ignore[arg-type]
    try:
        yield service
    finally:
        service.stop()


def http_ready(url: str) -> Callable[[], bool]:
    """A readiness check: ``url`` answers with any HTTP status."""

    def check() -> bool:
        try:
            requests.get(url, timeout=0.5)
        except requests.RequestException:
            return False
        return True

    return check


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll ``check`` until it is true; TimeoutError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"still waiting after {timeout:.0f} s")
        time.sleep(0.05)


def live() -> list[Service]:
    """The services started by the demos that are still running."""
    return list(_LIVE.values())


def stop_all() -> None:
    """Stop every service the demos started (atexit, SIGTERM, or by hand)."""
    for service in list(_LIVE.values()):
        service.stop(timeout=2)


_installed = False


def _install_safety_nets() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    if stopped := reap_orphans():
        print(f"  ⏹ stopped {len(stopped)} process(es) an earlier, killed kernel left", flush=True)
    atexit.register(stop_all)
    if threading.current_thread() is threading.main_thread():
        previous = signal.getsignal(signal.SIGTERM)
        if previous in (signal.SIG_DFL, None):

            def on_sigterm(signum: int, frame: object) -> None:
                stop_all()
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.kill(os.getpid(), signal.SIGTERM)

            signal.signal(signal.SIGTERM, on_sigterm)
