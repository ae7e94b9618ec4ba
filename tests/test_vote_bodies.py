"""Bad presenter bodies get 400 and a message, and change nothing.

Every presenter body is checked against the OpenAPI document's own schema
(``voteserver/bodies.py``), so these also pin the document and the checks together.
"""

from __future__ import annotations

import pytest
from jsonschema import Draft7Validator

from cyoa.story.loader import default_story_path, load_story
from cyoa.voteserver import bodies
from cyoa.voteserver.openapi import POLL_IN, TALK_IN, openapi_document

POLL = {
    "question": "Which way?",
    "options": [{"key": "1", "label": "Left"}, {"key": "2", "label": "Right", "words": ["r"]}],
}
DEEP = b"[" * 3000 + b"]" * 3000
JSON = {"Content-Type": "application/json"}


def snapshot(client, auth) -> tuple:
    """What a bad body must not change: the current talk, its state and its poll."""
    talks = client.get("/api/talks", headers=auth).get_json()
    state = client.get("/api/state", headers=auth).get_json()
    poll = client.get("/api/polls/p").get_json()
    state.pop("audience", None)
    return talks, state, poll


@pytest.mark.parametrize("payload", [DEEP, b'{"question": ' + DEEP + b"}"])
@pytest.mark.parametrize(
    ("method", "path"), [("PUT", "/api/polls/p"), ("PUT", "/api/state"), ("POST", "/api/talks")]
)
def test_deeply_nested_json_is_a_400_not_a_500(client, auth, method, path, payload):
    client.put("/api/polls/p", json=POLL, headers=auth)
    before = snapshot(client, auth)
    response = client.open(path, method=method, data=payload, headers={**auth, **JSON})
    assert response.status_code == 400, response.data[:300]
    assert "nested too deeply" in response.get_json()["error"]
    assert snapshot(client, auth) == before


def test_nesting_the_parser_takes_gets_a_short_message(client, auth):
    deep = b"[" * 900 + b"]" * 900
    data = b'{"options": [{"key": "1", "label": "a"}], "question": ' + deep + b"}"
    response = client.put("/api/polls/p", data=data, headers={**auth, **JSON})
    assert response.status_code == 400
    assert response.get_json()["error"] == "question: breaks 'type': 'string'"


@pytest.mark.parametrize(
    ("data", "headers"),
    [
        (b'{"talk": "x"', JSON),  # cut short
        (b"not json", JSON),
        (b"\xff\xfe{}", JSON),  # not UTF-8
        (b'["a list"]', JSON),
        (b"null", JSON),
        (b'{"talk": "x"}', {"Content-Type": "text/plain"}),
        (b"talk=x", {"Content-Type": "application/x-www-form-urlencoded"}),
        (b'{"talk": 7}', JSON),
        (b'{"talk": "bad id"}', JSON),
        (b'{"story": 7}', JSON),
        (b'{"rehearsal": "yes"}', JSON),
    ],
)
def test_a_bad_talk_body_does_not_start_a_talk(client, auth, data, headers):
    before = snapshot(client, auth)
    response = client.post("/api/talks", data=data, headers={**auth, **headers})
    assert response.status_code == 400, response.data
    assert response.get_json()["error"]
    assert snapshot(client, auth) == before


def test_an_empty_body_still_starts_a_new_talk(client, auth, talk_id):
    started = client.post("/api/talks", headers=auth)
    assert started.status_code == 201
    assert started.get_json()["talk"] != talk_id
    assert (
        client.get("/api/talks", headers=auth).get_json()["current"] == started.get_json()["talk"]
    )


def test_the_decks_talk_body_is_accepted(client, auth, talk_id):
    """The deck sends ``talk: null`` for a new talk, and ``rehearsal``."""
    body = {"talk": None, "story": "wsgi", "rehearsal": True}
    started = client.post("/api/talks", json=body, headers=auth)
    assert started.status_code == 201, started.data
    resumed = client.post("/api/talks", json={"talk": talk_id, "rehearsal": False}, headers=auth)
    assert resumed.status_code == 201 and resumed.get_json()["talk"] == talk_id


@pytest.mark.parametrize(
    "body",
    [
        {**POLL, "question": "   "},
        {**POLL, "hide_results": "yes"},
        {**POLL, "scene": 7},
        {**POLL, "options": [{"key": "1", "label": "a"}, {"key": "2", "label": 2}]},
        {**POLL, "options": [{"key": "1", "label": "a"}, {"key": "2", "label": "b", "words": "b"}]},
        {**POLL, "options": [{"key": "1", "label": "a"}, {"key": "2", "label": "b", "words": [1]}]},
        {**POLL, "options": [{"key": "1", "label": "a"}] * 10},
    ],
)
def test_a_body_its_schema_refuses_changes_nothing(client, auth, body):
    client.put("/api/polls/p", json=POLL, headers=auth)
    before = snapshot(client, auth)
    response = client.put("/api/polls/p", json=body, headers=auth)
    assert response.status_code == 400
    assert response.get_json()["error"]
    assert snapshot(client, auth) == before


@pytest.mark.parametrize(
    "body",
    [{"scene": 7}, {"scene": "x" * 201}, {"scene": "s", "path": "a"}, {"scene": "s", "path": [1]}],
)
def test_a_bad_state_body_changes_nothing(client, auth, body):
    before = snapshot(client, auth)
    assert client.put("/api/state", json=body, headers=auth).status_code == 400
    assert snapshot(client, auth) == before


def test_long_text_from_a_story_is_cut_as_the_document_says(client, auth):
    long = {
        "question": "Q" * 400,
        "scene": "s" * 100,
        "options": [
            {"key": "1", "label": "L" * 300, "words": [f"w{i}" + "x" * 50 for i in range(12)]},
            {"key": "2", "label": "R"},
        ],
    }
    assert client.put("/api/polls/p", json=long, headers=auth).status_code == 201
    results = client.get("/api/polls/p").get_json()
    assert len(results["question"]) == POLL_IN["properties"]["question"]["x-cut-to"] == 300
    assert len(results["scene"]) == 64
    assert len(results["options"][0]["label"]) == 200
    started = client.post("/api/talks", json={"story": "s" * 500}, headers=auth)
    assert len(started.get_json()["story"]) == TALK_IN["properties"]["story"]["x-cut-to"]


def test_every_documented_request_body_is_a_valid_schema():
    for path, methods in openapi_document()["paths"].items():
        for method, operation in methods.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                schema = content["application/json"]["schema"]
                Draft7Validator.check_schema(bodies.json_schema(schema))  # raises if invalid
                assert schema.get("type") == "object", f"{method} {path}"


def test_the_shipped_storys_polls_fit_the_schema_as_the_deck_sends_them():
    from cyoa.deck.machine import poll_id

    story = load_story(default_story_path())
    assert story.decisions
    for scene in story.decisions:
        options = [
            {"key": o.key, "label": o.label, "words": list(o.sms)} for o in scene.choice.options
        ]
        body = {"question": scene.choice.question, "options": options, "scene": scene.id}
        assert bodies.problem(POLL_IN, body) is None, poll_id(scene.id)
