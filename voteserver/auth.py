"""The presenter's bearer token: every action that changes the talk needs it."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from typing import Any

from flask import jsonify, request

from cyoa.voteserver.extensions import get_config


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def has_presenter_token() -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    expected = get_config().presenter_token
    return (
        scheme.lower() == "bearer"
        and bool(token)
        and bool(expected)
        # bytes: compare_digest raises on a non-ASCII str; surrogatepass: encode never raises
        and hmac.compare_digest(_bytes(token.strip()), _bytes(expected))
    )


def presenter_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse with 401 (and change nothing) unless the request carries the token."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not has_presenter_token():
            return (
                jsonify(error="presenter token missing or wrong"),
                401,
                {"WWW-Authenticate": 'Bearer realm="cyoa"'},
            )
        return view(*args, **kwargs)

    return wrapped
