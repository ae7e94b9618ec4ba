"""``/results/all``: the presenter's page comparing every talk of this server's story.

One story is given to many rooms; this page draws how each of them chose at each decision
(a Plotly Sankey, :mod:`story.compare`) and lists each talk's path. It needs the presenter
token: in the ``Authorization`` header, or typed once into the page's form, which leaves an
HttpOnly cookie scoped to ``/results`` (a browser cannot send a bearer header by itself).
plotly.js is served from the ``plotly`` package on this machine: no CDN.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from pathlib import Path

from flask import Blueprint, Response, redirect, render_template, request

from cyoa.story.compare import DRAW_SCRIPT, TalkPath, comparison_page, talk_path
from cyoa.story.model import Story
from cyoa.story.results import ResultsError, results_from_export
from cyoa.voteserver.auth import has_presenter_token
from cyoa.voteserver.extensions import get_config, get_store
from cyoa.voteserver.story_pages import loaded_story

bp = Blueprint("results", __name__)

COOKIE = "cyoa_presenter"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


def _cookie_value() -> str:
    """Proof of the token, not the token: a keyed hash that changes with either secret."""
    config = get_config()
    message = ("presenter:" + config.presenter_token).encode("utf-8", "surrogatepass")
    return hmac.new(config.secret_key.encode(), message, hashlib.sha256).hexdigest()


def _allowed() -> bool:
    if has_presenter_token():
        return True
    cookie = request.cookies.get(COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), _cookie_value().encode())


def story_talks(story: Story) -> list[TalkPath]:
    """Every talk of ``story`` on this server that got past its first scene, oldest first;
    rehearsals are left out (their votes never counted)."""
    store = get_store()
    talks = []
    for row in store.list_talks():
        state = store.get_state(row["talk"])
        if state.story != story.name or state.rehearsal or not state.path:
            continue
        try:
            results = results_from_export(store.export(row["talk"]), story)
        except ResultsError:
            continue
        if results.path:
            talks.append(talk_path(story, results))
    return talks


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _sign_in(status: int, error: str = "") -> Response:
    html = render_template("results_sign_in.html", error=error)
    return Response(html, status, {"WWW-Authenticate": 'Bearer realm="cyoa"'}, "text/html")


@bp.get("/results/all")
def every_talk() -> Response:
    if not _allowed():
        return _sign_in(401)
    story = loaded_story()
    if story is None:
        return Response("The story of this server (CYOA_STORY) does not load.", 503)
    html = comparison_page(
        story, story_talks(story), plotly_src="/results/plotly.js", script_src="/results/sankey.js"
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/results/all")
def sign_in() -> Response:
    """The token typed into the form: a cookie for this browser, then the page."""
    token = request.form.get("token", "")
    expected = get_config().presenter_token
    if not token or not hmac.compare_digest(
        token.strip().encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    ):
        return _sign_in(401, "That is not the presenter token.")
    response = redirect("/results/all", 303)
    response.set_cookie(
        COOKIE,
        _cookie_value(),
        max_age=12 * 3600,
        path="/results",
        httponly=True,
        samesite="Strict",
        secure=request.is_secure,
    )
    return response


@functools.cache
def _plotly_bytes() -> bytes:
    """The plotly package's own plotly.min.js, imported only when a presenter asks."""
    import plotly

    return (Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js").read_bytes()


@bp.get("/results/plotly.js")
def plotly_js() -> Response:
    try:
        data = _plotly_bytes()
    except ImportError:  # a server installed without the deck's extra: the table still shows
        return Response("plotly is not installed here: pip install 'cyoa[deck]'", 404)
    response = Response(data, mimetype="text/javascript")
    response.cache_control.public = True
    response.cache_control.max_age = 86400
    return response


@bp.get("/results/sankey.js")
def sankey_js() -> Response:
    return Response(DRAW_SCRIPT, mimetype="text/javascript")
