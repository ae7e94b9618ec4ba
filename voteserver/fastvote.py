"""The hot path: the page's JSON votes, answered in plain WSGI before Flask.

At a talk's decision two hundred phones vote within seconds, and Flask's per-request work
(request and session objects, routing, after-request hooks) costs more CPU than the vote
itself (bench/README.md measured it). This middleware answers exactly one kind of request,
``POST /vote`` with ``Accept: application/json`` and a small form body, by the same rules
as the Flask view (:func:`voteserver.voting.cast_web_vote`); everything else goes to Flask.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import redis
from werkzeug.http import parse_cookie
from werkzeug.wsgi import get_host

from cyoa.voteserver import voters
from cyoa.voteserver.app import REDIS_DOWN
from cyoa.voteserver.voting import WebVote, cast_web_vote

if TYPE_CHECKING:
    from flask import Flask

HEADERS = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
]
STATUS_TEXT = {
    200: "200 OK",
    400: "400 BAD REQUEST",
    403: "403 FORBIDDEN",
    404: "404 NOT FOUND",
    409: "409 CONFLICT",
    429: "429 TOO MANY REQUESTS",
    503: "503 SERVICE UNAVAILABLE",
}


class FastVotePath:
    """WSGI middleware: JSON votes here, every other request on to ``wsgi_app`` (Flask)."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.config = app.config["CYOA"]
        self.store = app.extensions["cyoa.store"]

    def handles(self, environ: dict[str, Any]) -> bool:
        """Only the page's fetch: form-encoded, JSON wanted, small, with a length."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return False
        return (
            environ.get("PATH_INFO") == "/vote"
            and environ.get("REQUEST_METHOD") == "POST"
            and environ.get("HTTP_ACCEPT", "").strip() == "application/json"
            and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
            and 0 < length <= min(self.config.max_body, 4096)
        )

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if not self.handles(environ):
            return self.wsgi_app(environ, start_response)
        body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        form: dict[str, str] = {}
        for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
            form.setdefault(name, value)  # the first value wins, as in Flask's request.form
        vote = WebVote(
            cookie=parse_cookie(environ).get(voters.COOKIE_NAME),
            csrf=form.get("csrf") or environ.get("HTTP_X_CSRF_TOKEN"),
            poll=form.get("poll", ""),
            choice=form.get("choice", ""),
            host=get_host(environ),
            remote_addr=environ.get("REMOTE_ADDR") or "-",
            origin=environ.get("HTTP_ORIGIN"),
            fetch_site=environ.get("HTTP_SEC_FETCH_SITE", ""),
        )
        headers = list(HEADERS)
        try:
            answer = cast_web_vote(self.config, self.store, self.store.current_talk_cached(), vote)
        except redis.RedisError:
            headers.append(("Retry-After", "2"))
            return self._json(start_response, 503, {"error": REDIS_DOWN}, headers)
        if answer.status != 200:
            if answer.retry_after:
                headers.append(("Retry-After", str(answer.retry_after)))
            payload = {"error": answer.message, "code": answer.code}
            return self._json(start_response, answer.status, payload, headers)
        result = answer.result
        payload = {
            "ok": True,
            "outcome": result.outcome,
            "poll": result.poll,
            "choice": result.choice,
            "previous": result.previous,
        }
        return self._json(start_response, 200, payload, headers)

    @staticmethod
    def _json(
        start_response: Callable[..., Any],
        status: int,
        payload: dict[str, Any],
        headers: list[tuple[str, str]],
    ) -> list[bytes]:
        data = json.dumps(payload, separators=(",", ":")).encode()  # as Flask's jsonify
        start_response(STATUS_TEXT[status], [*headers, ("Content-Length", str(len(data)))])
        return [data]
