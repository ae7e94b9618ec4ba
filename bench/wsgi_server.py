"""The vote server as ``cyoa serve`` ran it before issue 8: straight under granian's WSGI.

``bench/slowclients.py`` compares this (alone, with more threads, and behind nginx) with
today's ``cyoa serve``, whose ASGI front reads bodies before a thread sees them. The options
are the old ``granian_options``: granian hands a request to one of ``--threads`` blocking
threads as soon as its headers arrive, and the thread then waits for the body. It lives in
``bench/``, so production has one way to run. Redis comes from ``REDIS_URL``.

    REDIS_URL=unix:///path/redis.sock python -m bench.wsgi_server --port 8001
"""

from __future__ import annotations

import argparse
import functools

from cyoa.voteserver.app import create_app, resolve_secrets
from cyoa.voteserver.settings import load_config


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="blocking threads per worker")
    parser.add_argument(
        "--connections", type=int, default=None, help="granian's backpressure (per worker)"
    )
    args = parser.parse_args(argv)
    config = load_config({"host": args.host, "port": args.port, "workers": args.workers})
    if not config.redis_url:
        raise SystemExit("set REDIS_URL (the benchmark starts one Redis for every server)")
    config = resolve_secrets(config)

    from granian.constants import HTTPModes, Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    options = {
        "address": config.host,
        "port": config.port,
        "interface": Interfaces.WSGI,
        "workers": config.workers,
        "blocking_threads": args.threads,
        "http": HTTPModes.http1,
        "websockets": False,
        "respawn_failed_workers": True,
        "log_level": LogLevels.warning,
        "workers_kill_timeout": 10,
    }
    if args.connections:  # granian's default: 512 per worker (its backlog 1024 / 2 workers)
        options.update(backlog=2048, backpressure=args.connections)
    loader = functools.partial(create_app, config)
    Server("voteserver", **options).serve(target_loader=loader, wrap_loader=False)


if __name__ == "__main__":
    main()
