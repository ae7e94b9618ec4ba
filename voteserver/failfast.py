"""The vote server's Redis client: a frozen Redis costs one ``CYOA_REDIS_TIMEOUT``, then 503.

redis-py's usual settings multiply that wait. A timed-out command is retried on a new
connection, whose handshake waits again; a health-check PING goes before the first command
on an idle connection; every new connection sends CLIENT SETINFO. With a 1 s timeout a
frozen Redis cost 2 s per request, 3-4 s after 30 s idle (``bench/faults.py``). Here:

- Only a broken connection is retried, once: after a Redis restart the first command on a
  pooled socket fails at once (ConnectionError) and a fresh connection succeeds. A timeout
  is never retried: Redis is there but not answering, and asking again only waits again.
- No health check: the pool already finds a socket the server closed when it hands it out
  (it reads EOF), and the retry above covers the rest, so the PING only added a wait.
- No CLIENT SETINFO: a new connection sends nothing before the command but the AUTH and
  SELECT its URL asks for.
- A breaker: after a timeout, this process refuses Redis work at once for as long again as
  the timeout, so a queue of requests (a room of phones polling) does not wait in turn.
"""

from __future__ import annotations

import time
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


class RedisStalled(redis.RedisError):
    """Refused without asking Redis: it did not answer in time a moment ago."""


class Breaker:
    """Open for ``hold`` seconds after a timeout; shared by one client's connections."""

    def __init__(self, timeout: float, hold: float) -> None:
        self.timeout, self.hold = timeout, hold
        self.until = 0.0

    def check(self) -> None:
        if time.monotonic() < self.until:
            raise RedisStalled(
                f"Redis did not answer within {self.timeout:g} s; "
                f"not asking again for up to {self.hold:g} s"
            )

    def trip(self) -> None:
        self.until = time.monotonic() + self.hold


class _FailFast:
    """Mixed into redis-py's connection class: every way to Redis passes the breaker."""

    breaker: Breaker

    def connect(self, *args: Any, **kwargs: Any) -> None:
        self.breaker.check()
        try:
            super().connect(*args, **kwargs)  # type: ignore[misc]
        except redis.TimeoutError:
            self.breaker.trip()
            raise

    def send_packed_command(self, *args: Any, **kwargs: Any) -> None:
        self.breaker.check()
        try:
            super().send_packed_command(*args, **kwargs)  # type: ignore[misc]
        except redis.TimeoutError:
            self.breaker.trip()
            raise

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().read_response(*args, **kwargs)  # type: ignore[misc]
        except redis.TimeoutError:
            self.breaker.trip()
            raise


def _no_client_setinfo() -> dict[str, None]:
    """redis-py >= 7 spells it ``driver_info=None``; older ones ``lib_name=None``."""
    try:
        import redis.driver_info  # noqa: F401
    except ImportError:
        return {"lib_name": None, "lib_version": None}
    return {"driver_info": None}


def connect(url: str, timeout: float = 1.0, hold: float | None = None) -> redis.Redis:
    """A client for ``url`` that waits at most ``timeout`` per request (see above).

    ``hold``: how long the breaker refuses after a timeout (default: ``timeout``).
    """
    pool = redis.ConnectionPool.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
        health_check_interval=0,
        **_no_client_setinfo(),
    )
    base = pool.connection_class
    breaker = {"breaker": Breaker(timeout, timeout if hold is None else hold)}
    pool.connection_class = type(f"FailFast{base.__name__}", (_FailFast, base), breaker)
    return redis.Redis(connection_pool=pool)
