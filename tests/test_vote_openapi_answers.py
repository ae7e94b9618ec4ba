"""Answers schemathesis cannot reach, checked against the OpenAPI document all the same.

The fuzzer has no voter cookie, so it never sees a counted vote or a phone's live view with
its poll open. Here a real phone (cookie, CSRF token) gets them, and each answer must be as
the document says: a documented status, a documented content type, a body its schema takes.
"""

from __future__ import annotations

import pytest
from jsonschema import Draft7Validator
from test_audience import Phone

from cyoa.voteserver.bodies import json_schema
from cyoa.voteserver.openapi import openapi_document

FAST = {"Accept": "application/json"}  # the page's script: the fast path answers
FLASK = {"Accept": "application/json, text/plain;q=0.5"}  # the Flask view answers


def problems(method: str, path: str, response) -> list[str]:
    """Where ``response`` breaks the document's ``method path`` operation (empty: none)."""
    operation = openapi_document()["paths"][path][method.lower()]
    documented = operation["responses"].get(str(response.status_code))
    if documented is None:
        return [f"status {response.status_code} is not documented"]
    content = documented.get("content")
    if not content:
        return []
    media_type = response.mimetype
    if media_type not in content:
        return [f"content type {media_type} is not one of {sorted(content)}"]
    if media_type != "application/json":
        return []
    validator = Draft7Validator(json_schema(content[media_type]["schema"]))
    return [error.message for error in validator.iter_errors(response.get_json())]


@pytest.mark.parametrize("accept", [FAST, FLASK], ids=["fast path", "Flask view"])
def test_every_vote_answer_is_as_documented(client, open_poll, store, talk_id, accept):
    phone = Phone(client)
    phone.load()
    answers = {
        "counted": phone.vote("1", headers=accept),
        "changed": phone.vote("2", headers=accept),
        "unchanged": phone.vote("2", headers=accept),
        "bad choice": phone.vote("9", headers=accept),
        "unknown poll": phone.vote("1", poll="nope", headers=accept),
    }
    store.close_poll(talk_id, open_poll)
    answers["closed"] = phone.vote("1", headers=accept)
    expected = {
        "counted": 200,
        "changed": 200,
        "unchanged": 200,
        "bad choice": 400,
        "unknown poll": 404,
        "closed": 409,
    }
    for name, response in answers.items():
        assert response.status_code == expected[name], name
        assert problems("POST", "/vote", response) == [], name


def test_the_live_view_and_presenter_answers_are_as_documented(client, auth, open_poll):
    phone = Phone(client)
    phone.load()
    assert phone.vote("1", headers=FAST).status_code == 200
    answers = [
        ("GET", "/api/live", client.get("/api/live")),
        ("GET", "/healthz", client.get("/healthz")),
        ("GET", "/api/talks", client.get("/api/talks", headers=auth)),
        ("GET", "/api/polls/{poll}", client.get(f"/api/polls/{open_poll}")),
        ("GET", "/api/state", client.get("/api/state", headers=auth)),
        ("GET", "/", client.get("/")),
        ("GET", "/qr.svg", client.get("/qr.svg")),
    ]
    talk = answers[2][2].get_json()["current"]
    export = client.get(f"/api/talks/{talk}/export.json", headers=auth)
    answers.append(("GET", "/api/talks/{talk}/export.json", export))
    for method, path, response in answers:
        assert response.status_code == 200, path
        assert problems(method, path, response) == [], path
    live = answers[0][2].get_json()
    assert live["status"] == "open" and live["poll"]["id"] == open_poll
    assert [poll["poll"] for poll in export.get_json()["polls"]] == [open_poll]


def test_the_checker_notices_an_undocumented_answer(client, open_poll):
    """The check above can fail: a body that breaks the schema is reported."""
    phone = Phone(client)
    phone.load()
    response = phone.vote("1", headers=FAST)
    response.set_data(b'{"ok": true}')
    assert problems("POST", "/vote", response) != []
    response.status_code = 418
    assert problems("POST", "/vote", response) == ["status 418 is not documented"]
