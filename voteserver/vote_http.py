"""A web vote over HTTP: read from the WSGI environ, answered as status, headers and body.

The page's JSON votes are answered before Flask (:mod:`voteserver.fastvote`); other clients
reach the Flask view (:mod:`voteserver.audience`). Both read the vote with
:func:`vote_from_environ` and answer a JSON client with :func:`json_answer`, so the two
paths cannot drift apart: same checks, same headers, same bytes (docs/http.md, "A web vote").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import redis
from werkzeug.http import parse_cookie
from werkzeug.wsgi import get_host

from cyoa.voteserver import voters
from cyoa.voteserver.extensions import REDIS_DOWN
from cyoa.voteserver.settings import Config
from cyoa.voteserver.store import VoteStore
from cyoa.voteserver.voting import VoteAnswer, WebVote, cast_web_vote

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# On every answer of the audience's side (its page, feed and votes).
PAGE_HEADERS = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
)
RETRY_WHEN_DOWN = 2  # seconds: Redis reconnects on the next request after a failure


@dataclass(frozen=True)
class HttpAnswer:
    """One response, as plain data: either path sends it as it is."""

    status: HTTPStatus
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def status_line(self) -> str:
        return f"{self.status.value} {self.status.phrase}"


def vote_from_environ(environ: dict[str, Any], form: Mapping[str, str]) -> WebVote:
    """The vote a request carries: its form fields, cookie and the headers the checks read.

    ``form`` is the parsed body (first value per name); the rest comes from ``environ``.
    """
    return WebVote(
        cookie=parse_cookie(environ).get(voters.COOKIE_NAME),
        csrf=form.get("csrf") or environ.get("HTTP_X_CSRF_TOKEN"),
        poll=form.get("poll", ""),
        choice=form.get("choice", ""),
        host=get_host(environ),
        remote_addr=environ.get("REMOTE_ADDR") or "-",
        origin=environ.get("HTTP_ORIGIN"),
        fetch_site=environ.get("HTTP_SEC_FETCH_SITE", ""),
    )


def json_answer(config: Config, store: VoteStore, vote: WebVote) -> HttpAnswer:
    """Cast ``vote`` and answer a JSON client: the result, the refusal, or 503 (Redis down)."""
    try:
        answer = cast_web_vote(config, store, store.current_talk_cached(), vote)
    except redis.RedisError:
        return _json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": REDIS_DOWN}, RETRY_WHEN_DOWN)
    return answer_of(answer)


def answer_of(answer: VoteAnswer) -> HttpAnswer:
    """A cast vote's verdict as JSON: the outcome, or the refusal's message and code."""
    if answer.status != 200:
        payload = {"error": answer.message, "code": answer.code}
        return _json(HTTPStatus(answer.status), payload, answer.retry_after)
    result = answer.result
    assert result is not None  # a 200 always carries the store's result
    payload = {
        "ok": True,
        "outcome": result.outcome,
        "poll": result.poll,
        "choice": result.choice,
        "previous": result.previous,
    }
    return _json(HTTPStatus.OK, payload, None)


def _json(status: HTTPStatus, payload: dict[str, Any], retry_after: int | None) -> HttpAnswer:
    body = (json.dumps(payload, separators=(",", ":")) + "\n").encode()  # as Flask's jsonify
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        *PAGE_HEADERS,
    ]
    if retry_after:
        headers.append(("Retry-After", str(retry_after)))
    return HttpAnswer(status, headers, body)
