"""The audience's page: ``GET /``, ``POST /vote`` and the page's live feed ``GET /api/live``.

One URL serves a phone for the whole talk. The page works as plain HTML forms with a
self-refresh (JavaScript off); ``static/audience.js`` upgrades it to live updates and votes
by ``fetch``. Both paths share one view of the talk (:func:`live_view`), so they never
disagree about what a phone should see.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)

from cyoa.voteserver import keys, qr, voters
from cyoa.voteserver import live as live_feed
from cyoa.voteserver.extensions import get_config, get_store, wants_json
from cyoa.voteserver.story_pages import end_view
from cyoa.voteserver.vote_http import PAGE_HEADERS, json_answer, vote_from_environ
from cyoa.voteserver.voting import MESSAGES, cast_web_vote

bp = Blueprint("audience", __name__)
bp.register_blueprint(qr.bp)

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = ("audience.css", "audience.js")
LAST_POLL_COOKIE = "cyoa_poll"  # the poll this phone last saw open: shown as "closed" after
SEEN_EVERY = 20.0  # seconds between audience-presence marks from one polling phone


def _cache() -> dict[str, Any]:
    """Per-app, per-process memory: when each phone was last marked present."""
    return current_app.extensions.setdefault("cyoa.audience", {"seen": {}})


def current_talk() -> str:
    """The current talk, remembered for a second per process (every poll asks for it)."""
    return get_store().current_talk_cached()


def _mark_seen(talk: str, voter: str, throttle: bool) -> None:
    """Count this phone as present; a polling page only re-marks every few seconds."""
    seen: dict[str, float] = _cache()["seen"]
    now = time.monotonic()
    if throttle and now - seen.get(voter, -SEEN_EVERY) < SEEN_EVERY:
        return
    if len(seen) > 20_000:
        seen.clear()
    seen[voter] = now
    get_store().mark_seen(talk, voter)


def live_view(talk: str, voter: str | None) -> dict[str, Any]:
    """What this phone should show: the open poll, its choice, and results when allowed."""
    store = get_store()
    state = store.get_state(talk)
    end = end_view(state)  # the deck is on an ending: the link to the whole story
    if end is not None:
        return {"status": "end", "poll": None, "choice": "", "results": None, "end": end}
    poll_id = state.open_poll
    if not poll_id:
        last = request.cookies.get(LAST_POLL_COOKIE, "")
        poll_id = last if keys.valid_id(last) else ""
    results = store.results(talk, poll_id) if poll_id else None
    if results is None or results["status"] == "draft":
        return {"status": "waiting", "poll": None, "choice": "", "results": None}
    status = results["status"]
    choice = store.ballot(talk, poll_id, voter) if voter else ""
    hidden = results["hide_results"] and status == "open"
    show = status == "closed" or (bool(choice) and not hidden)
    return {
        "status": status,
        "poll": {
            "id": poll_id,
            "question": results["question"],
            "options": [{"key": o["key"], "label": o["label"]} for o in results["options"]],
            "hide_results": results["hide_results"],
            "closes_in": results["closes_in"],  # seconds left of a time limit, while open
        },
        "choice": choice,
        "results": {
            "votes": {o["key"]: o["votes"] for o in results["options"]},
            "total": results["total"],
            "winner": results["winner"],
        }
        if show
        else None,
    }


def _remember_poll(response: Response, view: dict[str, Any]) -> None:
    """Remember the open poll, so this phone can show its final result once it closes."""
    poll = view["poll"]
    if view["status"] == "open" and request.cookies.get(LAST_POLL_COOKIE) != poll["id"]:
        response.set_cookie(
            LAST_POLL_COOKIE,
            poll["id"],
            max_age=24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )


# The line of audience.js that receives the page's templates (see _asset).
DRAWN_SLOT = b'var DRAWN = "";'


def _asset(name: str) -> tuple[bytes, str]:
    """An asset's bytes and content hash, made once per app: they never change while it runs.

    audience.js gets the page's blank templates, rendered by audience.html (``draw_only``)
    from the page's own macros, in its ``DRAWN`` slot: the script draws an opening or a close
    from the feed with them (issue 12), and a phone loads them with the script it caches.
    """
    assets: dict[str, tuple[bytes, str]] = _cache().setdefault("assets", {})
    if name not in assets:
        data = (STATIC / name).read_bytes()
        if name == "audience.js":
            drawn = render_template(
                "audience.html", draw_only=True, sms_number=get_config().twilio_number
            )
            filled = b"var DRAWN = " + json.dumps(drawn.strip()).encode() + b";"
            data = data.replace(DRAWN_SLOT, filled, 1)
        assets[name] = (data, hashlib.sha256(data).hexdigest()[:12])
    return assets[name]


def asset_url(name: str) -> str:
    """A URL that changes with the file's content, so phones may cache it for a year."""
    return url_for("audience.asset", name=name, v=_asset(name)[1])


@bp.get("/assets/<name>")
def asset(name: str) -> Response:
    if name not in ASSETS:
        abort(404)
    data, version = _asset(name)
    mimetype = "text/css" if name.endswith(".css") else "text/javascript"
    response = Response(data, mimetype=mimetype)
    if request.args.get("v") == version:
        response.cache_control.public = True
        response.cache_control.max_age = 31_536_000
        response.cache_control.immutable = True
    else:
        response.cache_control.no_cache = True
    response.set_etag(version)
    return response.make_conditional(request)


@bp.after_request
def _page_headers(response: Response) -> Response:
    for name, value in PAGE_HEADERS:  # CSP and friends, as vote_http's answers carry
        response.headers.setdefault(name, value)
    return response


@bp.get("/")
def index() -> Response:
    config = get_config()
    talk = current_talk()
    voter = voters.read_voter(config.secret_key, request.cookies.get(voters.COOKIE_NAME))
    new_voter = voter is None
    if voter is None:
        voter = voters.new_voter_id()
    else:  # a phone counts as present once it comes back with its cookie (the page's feed
        # or refresh does within seconds), so a script that drops cookies adds no one; a
        # reload at every poll opening re-marks at most every SEEN_EVERY s (a Redis write
        # per phone per opening queued votes behind it: bench/room.py)
        _mark_seen(talk, voter, throttle=True)
    view = live_view(talk, None if new_voter else voter)
    code = request.args.get("m", "")
    kind, text = MESSAGES.get(code, ("", ""))
    html = render_template(
        "audience.html",
        live=view,
        flash={"kind": kind, "text": text} if text else None,
        csrf=voters.csrf_token(config.secret_key, voter),
        sms_number=config.twilio_number,
        asset_url=asset_url,
    )
    response = Response(html, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    if new_voter:
        response.set_cookie(
            voters.COOKIE_NAME,
            voters.sign_voter(config.secret_key, voter),
            max_age=voters.COOKIE_MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
        )
    _remember_poll(response, view)
    return response


@bp.get("/api/live")
def live() -> Response:
    """The page's feed: cheap to answer every two seconds, and 304 when nothing changed."""
    config = get_config()
    talk = current_talk()
    voter = voters.read_voter(config.secret_key, request.cookies.get(voters.COOKIE_NAME))
    if voter:
        _mark_seen(talk, voter, throttle=True)
    # The same answer for every phone (its own choice stays on the phone): ``cyoa serve``
    # gives it from a shared snapshot before Flask (voteserver/live.py); this view answers
    # a phone's first poll in each worker (marking it present) and other servers.
    try:
        last = live_feed.remembered_poll(
            request.query_string.decode("latin-1"), request.cookies.get(LAST_POLL_COOKIE, "")
        )
    except live_feed.BadPoll as error:
        return Response(
            json.dumps({"error": str(error)}), 400, mimetype="application/json",
            headers={"Cache-Control": "no-store"},
        )  # fmt: skip
    view = live_feed.shared_view(get_store(), talk, last)
    body, etag = live_feed.encode(view)
    response = Response(body, mimetype="application/json")
    response.headers["Cache-Control"] = "no-cache"
    response.vary.add("Cookie")
    response.set_etag(etag.strip('"'))
    return response.make_conditional(request)


@bp.post("/vote")
def vote() -> Any:
    """Count, change or refuse this phone's vote (docs/http.md, "A web vote").

    The page's script posts JSON votes that :mod:`voteserver.fastvote` answers before Flask;
    this view serves plain forms (JavaScript off) and any other client, by the same rules.
    """
    vote = vote_from_environ(request.environ, request.form)
    if wants_json():  # the same answer as the fast path's, from the same function
        answer = json_answer(get_config(), get_store(), vote)
        return Response(answer.body, answer.status, answer.headers)
    verdict = cast_web_vote(get_config(), get_store(), current_talk(), vote)
    if verdict.code == "forbidden":  # not this page's post: nothing to go back to
        return Response(verdict.message, status=403, mimetype="text/plain")
    return redirect(url_for("audience.index", m=verdict.code), 303)
