"""One way for a test to wait for something that happens in another process or thread.

A test never sleeps to synchronise: it names the event it waits for and checks it until it
holds. The deadline is only a guard for a broken build on a loaded machine, never a
measurement (speed lives in bench/).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

GUARD = 120.0  # seconds
T = TypeVar("T")


def wait_until(check: Callable[[], T], what: str, timeout: float = GUARD) -> T:
    """``check()``'s first true answer; an AssertionError naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while not (answer := check()):
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)  # the polling interval of the check, not a synchronising sleep
    return answer
