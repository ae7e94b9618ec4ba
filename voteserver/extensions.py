"""What every blueprint shares, read through ``current_app``: the leaf of the import graph.

Flask's own pattern: :mod:`voteserver.app` builds the app and puts the settings and the
store on it; blueprints reach them here, through the app handling the request, and never
import :mod:`voteserver.app` back (docs/architecture.md, "Modules").
"""

from __future__ import annotations

from flask import Flask, current_app, request

from cyoa.voteserver.settings import Config
from cyoa.voteserver.store import VoteStore

REDIS_DOWN = "The vote server cannot reach its database right now; it will recover by itself."
CONFIG_KEY = "CYOA"  # app.config[CONFIG_KEY]: the server's Config
STORE_KEY = "cyoa.store"  # app.extensions[STORE_KEY]: its VoteStore


def install(app: Flask, config: Config, store: VoteStore) -> None:
    """Put the settings and the store on ``app``, where the accessors below find them."""
    app.config[CONFIG_KEY] = config
    app.extensions[STORE_KEY] = store


def config_of(app: Flask) -> Config:
    return app.config[CONFIG_KEY]


def store_of(app: Flask) -> VoteStore:
    return app.extensions[STORE_KEY]


def get_config() -> Config:
    """The settings of the app handling this request."""
    return config_of(current_app)


def get_store() -> VoteStore:
    """The vote store of the app handling this request."""
    return store_of(current_app)


def wants_json() -> bool:
    """API paths, and clients that ask for JSON, get JSON errors instead of pages."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"
