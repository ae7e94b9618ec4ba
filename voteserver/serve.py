"""``cyoa serve``: the vote server under granian, behind a front that buffers requests.

The master process owns the embedded Redis (when no ``REDIS_URL`` is given): it starts it
before the workers fork, restarts it if it dies, and shuts it down cleanly on exit. Workers
are separate processes that each build the app (and their own Redis connections).

granian's HTTP layer is Rust, so a worker's Python time goes to the vote itself. It runs the
ASGI front of ``voteserver/front.py``: a request reaches the WSGI app (Flask) only once its
body is complete, so clients that stall cannot hold the app's threads (issue 8; measured in
``bench/README.md``). gunicorn was an option until then: its threads have the same stall.
"""

from __future__ import annotations

import functools
import socket
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from cyoa.voteserver.app import create_app, resolve_secrets
from cyoa.voteserver.front import BufferedFront
from cyoa.voteserver.settings import Config

# Threads per worker that run the WSGI app. A vote waits on Redis's fsync (appendfsync
# always) with the GIL released, so a few threads keep the CPU busy; more only add GIL
# contention. Slow clients never hold one: the front reads their requests on the event loop.
DEFAULT_THREADS = 2
# Connections one worker holds at once (granian's "backpressure"; it stops accepting above
# it). Each waiting client costs the event loop little, so a thousand phones on a bad
# network, or a slowloris, must not fill it before CYOA_CLIENT_TIMEOUT ends them. A phone
# holds one or two (its feed, its vote): at 4,096 a room of 7,000 phones queued in the
# accept backlog and the presenter's own calls with them (bench/README.md, "Rooms").
MAX_CONNECTIONS_PER_WORKER = 16384
FILES_KEPT = 256  # descriptors a worker keeps for itself: Redis, logs, the app's files

WSGIApp = Callable[..., Any]


def granian_options(config: Config) -> dict[str, Any]:
    """granian's settings for ``cyoa serve`` (HTTP/1.1, workers respawn on a crash).

    ASGINL: ASGI without lifespan events (the front needs none). Headers must arrive, and an
    idle keep-alive connection must send its next request, within ``client_timeout``.
    """
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    return {
        "address": config.host,
        "port": config.port,
        "interface": Interfaces.ASGINL,
        "workers": config.workers,
        "http": HTTPModes.http1,
        "http1_settings": HTTP1Settings(header_read_timeout=int(config.client_timeout * 1000)),
        "websockets": False,
        "backlog": 2048,
        "backpressure": connections_per_worker(),
        "respawn_failed_workers": True,
        "log_level": LogLevels.warning,
        "workers_kill_timeout": 10,
    }


def connections_per_worker() -> int:
    """As many connections as a worker can open files for, up to the maximum: past its
    open-files limit a worker would fail to accept (EMFILE) instead of queueing politely."""
    try:
        import resource
    except ImportError:
        return MAX_CONNECTIONS_PER_WORKER
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS_PER_WORKER
    return max(64, min(MAX_CONNECTIONS_PER_WORKER, soft - FILES_KEPT))


def raise_open_files_limit() -> None:
    """Every connection is a file descriptor: lift the soft limit (often 1024) to the hard.

    Where the hard limit is unlimited (macOS), ask for 65,536, then 10,240 (macOS refuses
    more than its per-process maximum); where neither is allowed, or there is no such limit
    (Windows), keep what there is.
    """
    try:
        import resource
    except ImportError:
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = [hard] if hard != resource.RLIM_INFINITY else [65536, 10240]
    for target in wanted:
        if target <= soft:
            return
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return
        except (ValueError, OSError):
            continue


def run_wsgi(loader: Callable[[], WSGIApp], config: Config, threads: int | None = None) -> None:
    """Serve the WSGI app ``loader`` builds (once per worker) until SIGINT or SIGTERM.

    ``loader`` must be picklable (a module-level function or a ``functools.partial`` of one)
    in case the platform spawns workers instead of forking them. The benchmark serves its
    naive comparison app through this same function, so both run under identical servers.
    """
    from granian.server import Server

    raise_open_files_limit()
    front = functools.partial(
        build_front, loader, threads or DEFAULT_THREADS, config.max_body, config.client_timeout
    )
    # The target string only names the app in granian's logs; each worker calls ``front``.
    Server("voteserver", **granian_options(config)).serve(target_loader=front, wrap_loader=False)


def build_front(
    loader: Callable[[], WSGIApp], threads: int, max_body: int, client_timeout: float
) -> BufferedFront:
    """In each worker: the WSGI app, behind the front that buffers whole requests.

    The SMS webhook keeps its larger limit (Twilio's longest texts), as the app does.
    """
    from cyoa.voteserver.sms import SMS_MAX_BODY

    larger = {"/sms": max(max_body, SMS_MAX_BODY)}
    return BufferedFront(loader(), threads, max_body, client_timeout, larger)


def announce(config: Config, embedded: bool) -> None:
    url = config.public_url or f"http://{config.host}:{config.port}/"
    where = "embedded Redis in " + config.state_dir if embedded else "Redis at REDIS_URL"
    lines = [
        f"cyoa vote server on http://{config.host}:{config.port}/ (granian, {where})",
        f"  audience URL: {url}",
    ]
    if config.twilio_number:
        lines.append(f"  SMS number:   {config.twilio_number}")
    print("\n".join(lines), file=sys.stderr, flush=True)


class CannotStart(Exception):
    """The vote server cannot start as configured; the message says why and what to do."""


def refuse_a_taken_port(host: str, port: int) -> None:
    """Say the port is taken in one line, before Redis starts, not in granian's traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as granian binds
        try:
            sock.bind((host, port))
        except OSError as error:
            raise CannotStart(
                f"cannot listen on {host}:{port}: {error.strerror or error}. Another program "
                "(another cyoa serve?) holds that port: stop it, or choose one with --port."
            ) from None


def refuse_a_cluster(url: str) -> None:
    """Redis Cluster is not supported: say so at start, not with a CROSSSLOT error mid-talk.

    ``start_talk`` and ``put_state`` write a talk's keys in one transaction, across hash
    slots. A Redis that cannot be reached is left to the app's own message.
    """
    import redis

    try:
        with redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2) as client:
            clustered = client.info("cluster").get("cluster_enabled") == 1
    except redis.RedisError:
        return
    if clustered:
        raise CannotStart(
            f"REDIS_URL ({url}) is a Redis Cluster node; cyoa needs one Redis (a talk's keys "
            "change together in one transaction). Use a single Redis, or a managed Redis "
            "with failover behind one address."
        )


def serve(config: Config, threads: int | None = None) -> None:
    """Run until interrupted; the embedded Redis (if any) is stopped on the way out."""
    embedded = None
    refuse_a_taken_port(config.host, config.port)
    if config.redis_url:
        refuse_a_cluster(config.redis_url)
    else:
        from cyoa.voteserver.embedded import EmbeddedRedis

        embedded = EmbeddedRedis(config.state_dir)
        config = replace(config, redis_url=embedded.start())
        embedded.watch()
    try:
        config = resolve_secrets(config)
        announce(config, embedded is not None)
        run_wsgi(functools.partial(create_app, config), config, threads)
    finally:
        if embedded is not None:
            embedded.stop()
