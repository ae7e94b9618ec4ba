"""The presenter's API and the public results, as in DESIGN.md's contract."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, request

from voteserver import keys
from voteserver.app import get_store
from voteserver.auth import has_presenter_token, presenter_only
from voteserver.openapi import openapi_document
from voteserver.store import Option, StoreError

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


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise StoreError("expected a JSON object in the request body")
    return body


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


def _parse_options(raw: Any) -> list[Option]:
    if not isinstance(raw, list):
        raise StoreError("options must be a list of {key, label}")
    options = []
    for item in raw:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("key"), str)
            or not isinstance(item.get("label"), str)
        ):
            raise StoreError("each option needs a string key and a string label")
        words = item.get("words") or []
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise StoreError("an option's words must be a list of strings")
        options.append(Option(item["key"], item["label"][:200], tuple(w[:40] for w in words[:10])))
    return options


@bp.put("/polls/<poll>")
@presenter_only
def put_poll(poll: str) -> Any:
    body = _json_body()
    question = body.get("question")
    if not isinstance(question, str) or not question.strip():
        raise StoreError("question must be a non-empty string")
    hide = body.get("hide_results", False)
    scene = body.get("scene", "")
    if not isinstance(hide, bool) or not isinstance(scene, str):
        raise StoreError("hide_results is a boolean and scene a string")
    talk = _talk()
    outcome = get_store().define_poll(
        talk,
        _poll_id(poll),
        question.strip()[:300],
        _parse_options(body.get("options")),
        hide,
        scene[:64],
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
    body = _json_body()
    scene, path, story = body.get("scene"), body.get("path"), body.get("story")
    if not isinstance(scene, str) or len(scene) > 200:
        raise StoreError("scene must be a string")
    if path is not None and (
        not isinstance(path, list) or len(path) > 1000 or not all(isinstance(s, str) for s in path)
    ):
        raise StoreError("path must be a list of scene ids")
    if story is not None and not isinstance(story, str):
        raise StoreError("story must be a string")
    return jsonify(get_store().put_state(_talk(), scene, path, story).as_dict())


@bp.get("/talks")
@presenter_only
def list_talks() -> Any:
    store = get_store()
    return jsonify(current=store.current_talk(), talks=store.list_talks())


@bp.post("/talks")
@presenter_only
def start_talk() -> Any:
    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        raise StoreError("expected a JSON object in the request body")
    talk, story = body.get("talk"), body.get("story", "")
    if (talk is not None and not isinstance(talk, str)) or not isinstance(story, str):
        raise StoreError("talk and story must be strings")
    talk = get_store().start_talk(talk or None, story[:200])
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
