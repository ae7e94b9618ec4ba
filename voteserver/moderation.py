"""The presenter's answer to ballot stuffing: see each poll's sources, lift the cap, discard.

``GET /api/polls/<poll>/sources`` shows where the votes come from (by a keyed digest of the
address, never the address), what the voters-per-address cap refused, and what stands out
(:mod:`voteserver.watch`). ``POST .../cap`` sets this poll's cap (0 lifts it: the room
shares one connection). ``POST .../discard`` takes back every ballot one source cast in the
poll and blocks it there. All three need the presenter token.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from cyoa.voteserver import bodies, keys
from cyoa.voteserver.auth import presenter_only
from cyoa.voteserver.extensions import get_config, get_store
from cyoa.voteserver.logs import server_logger
from cyoa.voteserver.sources import SMS, SOURCE_ID, local_ids
from cyoa.voteserver.store import StoreError
from cyoa.voteserver.watch import report

bp = Blueprint("moderation", __name__, url_prefix="/api/polls")
MAX_CAP = 10_000
LOG = server_logger("moderation")
# The bodies, as published in /api/openapi.json and checked by voteserver.bodies.
CAP_IN = {
    "type": "object",
    "required": ["voters_per_address"],
    "additionalProperties": False,
    "properties": {
        "voters_per_address": {"type": "integer", "minimum": 0, "maximum": MAX_CAP},
        "scope": {"type": "string", "enum": ["poll", "talk"]},
    },
}
DISCARD_IN = {
    "type": "object",
    "required": ["source"],
    "additionalProperties": False,
    "properties": {
        "source": {
            "type": "string",
            "pattern": SOURCE_ID.pattern,
            "description": "a source id from .../sources; sms is refused (one voter per phone)",
        }
    },
}


def _talk() -> str:
    talk = request.args.get("talk") or get_store().current_talk()
    if not keys.valid_id(talk):
        raise StoreError("unknown talk id", 404)
    return talk


def _poll(poll: str) -> str:
    if not keys.valid_id(poll):
        raise StoreError("no such poll", 404)
    return poll


def sources_report(talk: str, poll: str) -> dict[str, Any]:
    counts = get_store().poll_sources(talk, poll)
    if counts is None:
        raise StoreError("no such poll", 404)
    config = get_config()
    return report(counts, config.voters_per_address, local_ids(config.secret_key))


@bp.get("/<poll>/sources")
@presenter_only
def sources(poll: str) -> Any:
    return jsonify(sources_report(_talk(), _poll(poll)))


@bp.post("/<poll>/cap")
@presenter_only
def cap(poll: str) -> Any:
    """``{"voters_per_address": n, "scope": "poll" | "talk"}``: 0 lifts the cap."""
    talk, poll = _talk(), _poll(poll)
    body = bodies.parse(CAP_IN)
    value, scope = body["voters_per_address"], body.get("scope", "poll")
    get_store().set_cap(talk, poll, value, whole_talk=scope == "talk")
    LOG.warning(f"the presenter set the voters-per-address cap of poll {poll} to {value}")
    return jsonify(sources_report(talk, poll))


@bp.post("/<poll>/discard")
@presenter_only
def discard(poll: str) -> Any:
    """``{"source": id}``: take back its ballots in this poll and refuse its later votes."""
    talk, poll = _talk(), _poll(poll)
    source = bodies.parse(DISCARD_IN)["source"]
    if not SOURCE_ID.fullmatch(source):  # a schema's "$" also matches before a final "\n"
        raise StoreError("source: not an id from GET /api/polls/<poll>/sources")
    if source == SMS:
        raise StoreError(
            "signed texts are one voter per phone number, not one source: they cannot be "
            "discarded together"
        )
    store = get_store()
    removed = store.discard_source(talk, poll, source)
    LOG.warning(f"the presenter discarded {removed} ballots of source {source} on poll {poll}")
    results = store.results(talk, poll) or {}
    return jsonify({**results, "discarded": removed, "source": source})


def openapi_paths() -> dict[str, Any]:
    """This blueprint's part of ``/api/openapi.json`` (merged in by :mod:`voteserver.openapi`)."""
    poll_id = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"}
    params = [
        {"name": "poll", "in": "path", "required": True, "schema": poll_id, "example": "p"},
        {"name": "talk", "in": "query", "required": False, "schema": poll_id},
    ]
    error = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
    source = {
        "type": "object",
        "required": ["source", "kind", "voters", "refused", "blocked"],
        "properties": {
            "source": {"type": "string", "description": "keyed digest of the address, or sms"},
            "kind": {"type": "string", "enum": ["address", "local", "sms"]},
            "voters": {"type": "integer", "description": "ballots standing from it"},
            "refused": {"type": "integer", "description": "votes refused by the cap or a block"},
            "blocked": {"type": "boolean"},
        },
    }
    sources = {
        "type": "object",
        "required": ["poll", "cap", "cap_from", "ballots", "refused", "sources", "alerts"],
        "properties": {
            "poll": {"type": "string"},
            "status": {"type": "string", "enum": ["draft", "open", "closed"]},
            "cap": {"type": "integer", "description": "voters per address; 0: no cap"},
            "cap_from": {"type": "string", "enum": ["poll", "setting"]},
            "ballots": {"type": "integer"},
            "discarded": {"type": "integer"},
            "refused": {"type": "integer"},
            "sources": {"type": "array", "items": source, "maxItems": 50},
            "more_sources": {"type": "integer"},
            "busiest_second": {
                "type": "object",
                "nullable": True,
                "properties": {"at": {"type": "integer"}, "votes": {"type": "integer"}},
            },
            "alerts": {"type": "array", "items": {"type": "string"}},
        },
    }

    def answer(schema: dict[str, Any], text: str) -> dict[str, Any]:
        return {"description": text, "content": {"application/json": {"schema": schema}}}

    def errors(*codes: int) -> dict[str, Any]:
        return {str(code): answer(error, "Refused") for code in codes}

    def body(schema: dict[str, Any]) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    secured = [{"presenter": []}]
    return {
        "/api/polls/{poll}/sources": {
            "get": {
                "summary": "Where the poll's votes come from, what the cap refused, alerts",
                "security": secured,
                "parameters": params,
                "responses": {"200": answer(sources, "Sources"), **errors(401, 404, 503)},
            }
        },
        "/api/polls/{poll}/cap": {
            "post": {
                "summary": "Set this poll's voters-per-address cap (0 lifts it)",
                "security": secured,
                "parameters": params,
                "requestBody": body(CAP_IN),
                "responses": {"200": answer(sources, "Sources"), **errors(400, 401, 404, 503)},
            }
        },
        "/api/polls/{poll}/discard": {
            "post": {
                "summary": "Take back one source's ballots in this poll and block it there",
                "security": secured,
                "parameters": params,
                "requestBody": body(DISCARD_IN),
                "responses": {
                    "200": {"description": "The poll's results, with discarded: n"},
                    **errors(400, 401, 404, 503),
                },
            }
        },
    }
