"""``cyoa serve``: the vote server under a production WSGI server (gunicorn).

The master process owns the embedded Redis (when no ``REDIS_URL`` is given): it starts it
before the workers fork, restarts it if it dies, and shuts it down cleanly on exit.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

from gunicorn.app.base import BaseApplication

from voteserver.app import create_app, resolve_secrets
from voteserver.settings import Config


class VoteServerApplication(BaseApplication):
    """gunicorn, configured from our settings instead of its command line."""

    def __init__(self, config: Config, options: dict[str, Any]) -> None:
        self.config_ = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return create_app(self.config_)


def gunicorn_options(config: Config, threads: int = 4) -> dict[str, Any]:
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


def announce(config: Config, embedded: bool) -> None:
    url = config.public_url or f"http://{config.host}:{config.port}/"
    where = "embedded Redis in " + config.state_dir if embedded else "Redis at REDIS_URL"
    lines = [
        f"cyoa vote server on http://{config.host}:{config.port}/ ({where})",
        f"  audience URL: {url}",
    ]
    if config.twilio_number:
        lines.append(f"  SMS number:   {config.twilio_number}")
    print("\n".join(lines), file=sys.stderr, flush=True)


def serve(config: Config, threads: int = 4) -> None:
    """Run until interrupted; the embedded Redis (if any) is stopped on the way out."""
    embedded = None
    if not config.redis_url:
        from voteserver.embedded import EmbeddedRedis

        embedded = EmbeddedRedis(config.state_dir)
        config = replace(config, redis_url=embedded.start())
        embedded.watch()
    config = resolve_secrets(config)
    announce(config, embedded is not None)
    try:
        VoteServerApplication(config, gunicorn_options(config, threads)).run()
    finally:
        if embedded is not None:
            embedded.stop()
