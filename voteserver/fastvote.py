"""The hot path: the page's JSON votes, answered in plain WSGI before Flask.

At a talk's decision two hundred phones vote within seconds, and Flask's per-request work
(request and session objects, routing, after-request hooks) costs more CPU than the vote
itself (bench/README.md measured it). This middleware answers exactly one kind of request,
``POST /vote`` with ``Accept: application/json`` and a small form body, with the same two
functions as the Flask view (:mod:`voteserver.vote_http`); everything else goes to Flask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from cyoa.voteserver.extensions import config_of, store_of
from cyoa.voteserver.vote_http import json_answer, vote_from_environ

if TYPE_CHECKING:
    from flask import Flask


class FastVotePath:
    """WSGI middleware: JSON votes here, every other request on to ``wsgi_app`` (Flask)."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.config = config_of(app)
        self.store = store_of(app)

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
        answer = json_answer(self.config, self.store, vote_from_environ(environ, form))
        start_response(answer.status_line, answer.headers)
        return [answer.body]
