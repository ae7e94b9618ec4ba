"""The presenter's API and the public results, as in docs/http.md (the HTTP contract)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, request

from cyoa.voteserver import bodies, keys
from cyoa.voteserver.auth import has_presenter_token, presenter_only
from cyoa.voteserver.extensions import get_store
from cyoa.voteserver.openapi import POLL_IN, STATE_IN, TALK_IN, openapi_document
from cyoa.voteserver.store import Option, StoreError

bp = Blueprint("api", __name__, url_prefix="/api")


def _talk() -> str:
    """The talk a request is about: ``?talk=`` where given, else the current talk."""
    talk = request.args.get("talk") or get_store().current_talk()
    if not keys.valid_id(talk):
        raise StoreError("unknown talk id", 404)
    return talk


def _poll_id(poll: str) -> str:
    if not keys.valid_id(poll):
        raise StoreError("no such poll", 404)
    return poll


def public_results(talk: str, poll: str, reveal: bool) -> dict[str, Any] | None:
    """Results as anyone may see them: counts hidden while a hide-results poll is open."""
    results = get_store().results(talk, poll)
    if results and results["hide_results"] and results["status"] == "open" and not reveal:
        for option in results["options"]:
            option["votes"] = None
        results["total"] = None
    return results


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document())


@bp.get("/polls/<poll>")
def get_poll(poll: str) -> Any:
    results = public_results(_talk(), _poll_id(poll), has_presenter_token())
    if results is None:
        return jsonify(error="no such poll"), 404
    return jsonify(results)


@bp.put("/polls/<poll>")
@presenter_only
def put_poll(poll: str) -> Any:
    body = bodies.parse(POLL_IN)  # checked and cut as openapi.POLL_IN says
    options = [
        Option(item["key"], item["label"], tuple(item.get("words", ()))) for item in body["options"]
    ]
    talk = _talk()
    outcome = get_store().define_poll(
        talk,
        _poll_id(poll),
        body["question"].strip(),
        options,
        body.get("hide_results", False),
        body.get("scene", ""),
        body.get("time_limit"),
    )
    return jsonify(get_store().results(talk, poll)), 201 if outcome == "created" else 200


@bp.post("/polls/<poll>/<action>")
@presenter_only
def poll_action(poll: str, action: str) -> Any:
    store, talk, poll = get_store(), _talk(), _poll_id(poll)
    actions = {"open": store.open_poll, "close": store.close_poll, "reset": store.reset_poll}
    if action not in actions:
        abort(404)
    actions[action](talk, poll)
    return jsonify(store.results(talk, poll))


@bp.get("/state")
@presenter_only
def get_state() -> Any:
    store = get_store()
    talk = _talk()
    state = store.get_state(talk).as_dict()
    state["audience"] = store.audience(talk)
    return jsonify(state)


@bp.put("/state")
@presenter_only
def put_state() -> Any:
    body = bodies.parse(STATE_IN)
    scene, path, story = body["scene"], body.get("path"), body.get("story")
    return jsonify(get_store().put_state(_talk(), scene, path, story).as_dict())


@bp.post("/clock")
@presenter_only
def restart_clock() -> Any:
    """Start the talk's clock again from now (the presenter view's "Restart clock")."""
    store = get_store()
    return jsonify(store.restart_clock(_talk()).as_dict())


@bp.get("/talks")
@presenter_only
def list_talks() -> Any:
    store = get_store()
    return jsonify(current=store.current_talk(), talks=store.list_talks())


@bp.post("/talks")
@presenter_only
def start_talk() -> Any:
    body = bodies.parse(TALK_IN, empty={})  # no body: a new talk (invalid JSON: 400)
    rehearsal = body.get("rehearsal", False)
    talk = get_store().start_talk(body.get("talk"), body.get("story", ""), rehearsal=rehearsal)
    return jsonify(get_store().get_state(talk).as_dict()), 201


@bp.get("/talks/<talk>/export.<fmt>")
@presenter_only
def export(talk: str, fmt: str) -> Any:
    if not keys.valid_id(talk):
        raise StoreError("unknown talk id", 404)
    store = get_store()
    if fmt == "json":
        return jsonify(store.export(talk))
    if fmt == "csv":
        return Response(
            store.export_csv(talk),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="cyoa-{talk}.csv"'},
        )
    abort(404)
