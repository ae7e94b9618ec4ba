"""``cyoa serve``: the vote server under a production WSGI server (granian or gunicorn).

The master process owns the embedded Redis (when no ``REDIS_URL`` is given): it starts it
before the workers fork, restarts it if it dies, and shuts it down cleanly on exit. Workers
are separate processes that each build the app (and their own Redis connections).

granian is the default: its HTTP layer is Rust, so a worker's Python time goes to the vote
itself; on this project's 2-core benchmark it served about twice gunicorn's votes per second
(see ``bench/README.md``). gunicorn stays available (``--server gunicorn``).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from voteserver.app import create_app, resolve_secrets
from voteserver.settings import Config

SERVERS = ("granian", "gunicorn")
DEFAULT_SERVER = "granian"
# Threads per worker. A vote waits on Redis's fsync (appendfsync always) with the GIL
# released, so a few threads keep the CPU busy; more only add GIL contention.
DEFAULT_THREADS = {"granian": 2, "gunicorn": 4}

WSGIApp = Callable[..., Any]


def gunicorn_options(config: Config, threads: int = 4) -> dict[str, Any]:
    """gunicorn's settings for ``cyoa serve --server gunicorn`` (gthread workers)."""
    return {
        "bind": f"{config.host}:{config.port}",
        "workers": config.workers,
        "worker_class": "gthread",
        "threads": threads,
        "keepalive": 5,
        "timeout": 30,
        "graceful_timeout": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "limit_request_line": 4094,
        "limit_request_fields": 100,
    }


def granian_options(config: Config, threads: int = 2) -> dict[str, Any]:
    """granian's settings for ``cyoa serve`` (WSGI, HTTP/1.1, workers respawn on a crash)."""
    from granian.constants import HTTPModes, Interfaces
    from granian.log import LogLevels

    return {
        "address": config.host,
        "port": config.port,
        "interface": Interfaces.WSGI,
        "workers": config.workers,
        "blocking_threads": threads,
        "http": HTTPModes.http1,
        "websockets": False,
        "respawn_failed_workers": True,
        "log_level": LogLevels.warning,
        "workers_kill_timeout": 10,
    }


def _run_gunicorn(loader: Callable[[], WSGIApp], options: dict[str, Any]) -> None:
    from gunicorn.app.base import BaseApplication

    class Application(BaseApplication):
        """gunicorn, configured from our settings instead of its command line."""

        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> WSGIApp:
            return loader()  # in each worker, after the fork

    Application().run()


def _run_granian(loader: Callable[[], WSGIApp], options: dict[str, Any]) -> None:
    from granian.server import Server

    # The target string only names the app in granian's logs; each worker calls ``loader``.
    Server("voteserver", **options).serve(target_loader=loader, wrap_loader=False)


def run_wsgi(
    loader: Callable[[], WSGIApp], config: Config, threads: int | None = None, server: str = ""
) -> None:
    """Serve the app ``loader`` builds (once per worker) until SIGINT or SIGTERM.

    ``loader`` must be picklable (a module-level function or a ``functools.partial`` of one)
    in case the platform spawns workers instead of forking them. The benchmark serves its
    naive comparison app through this same function, so both run under identical servers.
    """
    server = server or DEFAULT_SERVER
    if server not in SERVERS:
        raise ValueError(f"unknown WSGI server {server!r}; choose one of {', '.join(SERVERS)}")
    threads = threads or DEFAULT_THREADS[server]
    if server == "gunicorn":
        _run_gunicorn(loader, gunicorn_options(config, threads))
    else:
        _run_granian(loader, granian_options(config, threads))


def announce(config: Config, embedded: bool, server: str = DEFAULT_SERVER) -> None:
    url = config.public_url or f"http://{config.host}:{config.port}/"
    where = "embedded Redis in " + config.state_dir if embedded else "Redis at REDIS_URL"
    lines = [
        f"cyoa vote server on http://{config.host}:{config.port}/ ({server}, {where})",
        f"  audience URL: {url}",
    ]
    if config.twilio_number:
        lines.append(f"  SMS number:   {config.twilio_number}")
    print("\n".join(lines), file=sys.stderr, flush=True)


def serve(config: Config, threads: int | None = None, server: str = "") -> None:
    """Run until interrupted; the embedded Redis (if any) is stopped on the way out."""
    server = server or DEFAULT_SERVER
    embedded = None
    if not config.redis_url:
        from voteserver.embedded import EmbeddedRedis

        embedded = EmbeddedRedis(config.state_dir)
        config = replace(config, redis_url=embedded.start())
        embedded.watch()
    try:
        config = resolve_secrets(config)
        announce(config, embedded is not None, server)
        run_wsgi(functools.partial(create_app, config), config, threads, server)
    finally:
        if embedded is not None:
            embedded.stop()
