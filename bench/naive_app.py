"""The benchmark's yardstick: a naive vote endpoint that does one HINCRBY and nothing else.

``bench/votes.py`` serves it next to the real vote server, under the same server (granian,
the same front, workers and threads, through :func:`voteserver.serve.run_wsgi`) and on the
same Redis, so the ratio between the two isolates what the real vote path costs: the signed cookie,
the CSRF token, the poll and choice checks, rate limits and the one-ballot-per-voter script.
It lives in ``bench/``, not in ``voteserver/``, so production never has this route.

    python -m bench.naive_app --port 8001 --redis-url unix:///path/redis.sock
"""

from __future__ import annotations

import argparse
import functools

from flask import Flask, jsonify, request

from cyoa.voteserver.app import connect
from cyoa.voteserver.serve import run_wsgi
from cyoa.voteserver.settings import load_config


def create_naive_app(redis_url: str, prefix: str) -> Flask:
    """``POST /vote`` adds one to the choice in hash ``prefix:<poll>``; ``GET /healthz``.

    The poll names the hash only so the warm-up and the measured votes stay apart.
    """
    app = Flask(__name__)
    client = connect(redis_url)  # the vote server's own client settings

    @app.post("/vote")
    def vote():
        form = request.form
        client.hincrby(f"{prefix}:{form.get('poll', '')}", form.get("choice", "1"), 1)
        return jsonify(ok=True, outcome="counted")

    @app.get("/healthz")
    def healthz():
        client.ping()
        return jsonify(status="ok")

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--prefix", default="cyoa-bench:naive", help="Redis key prefix")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    config = load_config({"port": args.port, "workers": args.workers}, environ={})
    loader = functools.partial(create_naive_app, args.redis_url, args.prefix)
    run_wsgi(loader, config, args.threads)


if __name__ == "__main__":
    main()
