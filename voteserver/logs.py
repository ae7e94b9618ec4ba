"""The server's own log lines on stderr, throttled so that a flood cannot fill the disk.

``cyoa serve``'s WSGI server configures only its own loggers, so the ``voteserver`` logger
gets a stderr handler of its own (the ``cyoa:`` prefix of the server's other messages) and
does not propagate: an app that configures the root logger sees each line once.
A refusal that a script can trigger (an unsigned text, the voters-per-address cap) is
logged through :class:`Throttled`: one line per reason every few seconds, with the number
of lines held back since.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

EVERY = 5.0  # seconds between two lines of one reason, per server process


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def server_logger(name: str) -> logging.Logger:
    """``voteserver.<name>``, whose lines reach stderr whatever else configures logging."""
    base = logging.getLogger("voteserver")
    if not any(isinstance(h, _Stderr) for h in base.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("cyoa: %(message)s"))
        base.addHandler(handler)
        base.setLevel(logging.INFO)
        base.propagate = False
    return logging.getLogger(f"voteserver.{name}")


class Throttled:
    """At most one line per reason every ``every`` seconds; the next one counts the rest.

    Reasons are a small fixed set chosen by the caller (never an address or a number), so
    the memory stays constant however many requests arrive.
    """

    def __init__(
        self,
        logger: logging.Logger,
        every: float = EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.every = every
        self.clock = clock
        self._lock = threading.Lock()
        self._last: dict[str, tuple[float, int]] = {}  # reason -> (last line, held back)

    def warning(self, reason: str, message: str) -> bool:
        """Log ``message`` unless ``reason`` was logged less than ``every`` seconds ago."""
        with self._lock:
            now = self.clock()
            last, held = self._last.get(reason, (None, 0))
            if last is not None and now - last < self.every:
                self._last[reason] = (last, held + 1)
                return False
            self._last[reason] = (now, 0)
        if held:
            message += f" [{held} more like it in the last {now - last:.0f} s not logged]"
        self.logger.warning(message)
        return True
