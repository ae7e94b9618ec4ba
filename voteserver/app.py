"""The application factory: settings in, a Flask app with its blueprints out.

The top of the import graph: this module imports the blueprints, and none of them imports
it back; they reach the settings and the store through :mod:`voteserver.extensions`.
"""

from __future__ import annotations

import secrets
import sys
from dataclasses import replace
from typing import Any

import redis
from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from cyoa.voteserver import (
    api,
    audience,
    extensions,
    failfast,
    health,
    moderation,
    results_pages,
    sms,
    story_pages,
)
from cyoa.voteserver.embedded import EmbeddedRedis
from cyoa.voteserver.extensions import REDIS_DOWN, wants_json
from cyoa.voteserver.fastvote import FastVotePath
from cyoa.voteserver.settings import Config, load_config, persistent_secret
from cyoa.voteserver.store import StoreError, VoteStore

__all__ = ["REDIS_DOWN", "connect", "create_app", "resolve_secrets"]


def connect(url: str, timeout: float = 1.0) -> redis.Redis:
    """A Redis client that fails fast (the deck and phones must never hang on it): one
    wait of ``timeout`` at most per request, see :mod:`voteserver.failfast`."""
    return failfast.connect(url, timeout)


def resolve_secrets(config: Config, announce: bool = True) -> Config:
    """Fill in the secret key and presenter token when the environment gives none."""
    secret = config.secret_key or persistent_secret(config.state_dir, "secret_key")
    token = config.presenter_token
    if not token:
        token = secrets.token_urlsafe(18)
        if announce:
            print(
                f"cyoa: no CYOA_PRESENTER_TOKEN set; presenter token for this run: {token}",
                file=sys.stderr,
            )
    return replace(config, secret_key=secret, presenter_token=token)


def create_app(config: Config | dict[str, Any] | None = None) -> Flask:
    """Build the vote server. ``config`` may be a Config or overrides for the environment."""
    if not isinstance(config, Config):
        config = load_config(config)
    redis_url = config.redis_url
    embedded = None
    if not redis_url:
        embedded = EmbeddedRedis(config.state_dir)
        redis_url = embedded.start()
    config = resolve_secrets(config)

    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=config.max_body,
        MAX_FORM_MEMORY_SIZE=config.max_body,
    )
    store = VoteStore(connect(redis_url, config.redis_timeout), config.talk)
    extensions.install(app, config, store)
    app.extensions["cyoa.embedded"] = embedded
    app.wsgi_app = FastVotePath(app, app.wsgi_app)  # inside ProxyFix: sees the fixed environ
    if config.trust_proxy:
        n = config.trust_proxy
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)

    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(moderation.bp)
    app.register_blueprint(audience.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(story_pages.bp)  # /story/: the whole story at the end
    app.register_blueprint(results_pages.bp)  # /results/all: every audience compared
    _register_errors(app)
    return app


def _register_errors(app: Flask) -> None:
    """The app-wide answers to errors; a blueprint with its own (SMS) overrides them."""

    @app.errorhandler(redis.RedisError)
    def redis_down(error: redis.RedisError):
        if wants_json():
            return jsonify(error=REDIS_DOWN), 503, {"Retry-After": "2"}
        return render_template("unavailable.html", message=REDIS_DOWN), 503, {"Retry-After": "2"}

    @app.errorhandler(RecursionError)
    def too_deep(error: RecursionError):
        """A parser that recursed on a deeply nested body (``json`` does): the body's fault."""
        if not request.content_length:
            raise error
        return jsonify(error="the request body is nested too deeply"), 400

    @app.errorhandler(StoreError)
    def refused(error: StoreError):
        return jsonify(error=error.error), error.code

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if wants_json():
            return jsonify(error=error.description), error.code
        return error
