"""The presenter's API and the public results, through the real app on a real Redis."""

from __future__ import annotations

import pytest

POLL = {
    "question": "What did you build?",
    "options": [
        {"key": "1", "label": "Tinder for Pets"},
        {"key": "2", "label": "Dachshund Doc Send", "words": ["dachshund"]},
    ],
    "scene": "product",
}


def test_presenter_creates_opens_and_closes_a_poll(client, auth, store, talk_id):
    created = client.put("/api/polls/product", json=POLL, headers=auth)
    assert created.status_code == 201
    assert created.get_json()["status"] == "draft"
    assert client.put("/api/polls/product", json=POLL, headers=auth).status_code == 200
    assert client.post("/api/polls/product/open", headers=auth).get_json()["status"] == "open"
    store.cast_vote(talk_id, "product", "w1", "2")
    closed = client.post("/api/polls/product/close", headers=auth).get_json()
    assert (closed["status"], closed["winner"], closed["total"]) == ("closed", "2", 1)


def test_results_are_public_and_shaped_as_the_contract(client, auth):
    client.put("/api/polls/product", json=POLL, headers=auth)
    body = client.get("/api/polls/product").get_json()
    assert set(body) >= {"poll", "question", "status", "options", "total", "winner"}
    assert body["options"][1] == {"key": "2", "label": "Dachshund Doc Send", "votes": 0}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic cHJlc2VudGVy"},
        {"Authorization": "Bearer"},
    ],
)
def test_presenter_actions_need_the_token_and_change_nothing(client, auth, headers):
    client.put("/api/polls/product", json=POLL, headers=auth)
    attempts = [
        client.put("/api/polls/product", json={**POLL, "question": "Hacked?"}, headers=headers),
        client.post("/api/polls/product/open", headers=headers),
        client.put("/api/state", json={"scene": "hacked"}, headers=headers),
        client.get("/api/state", headers=headers),
        client.post("/api/talks", json={}, headers=headers),
    ]
    assert [r.status_code for r in attempts] == [401] * len(attempts)
    body = client.get("/api/polls/product").get_json()
    assert (body["question"], body["status"]) == ("What did you build?", "draft")


def test_state_round_trips_so_a_reloaded_deck_resumes(client, auth):
    put = client.put(
        "/api/state", json={"scene": "nginx", "path": ["intro", "product", "nginx"]}, headers=auth
    )
    assert put.status_code == 200
    state = client.get("/api/state", headers=auth).get_json()
    assert (state["scene"], state["path"]) == ("nginx", ["intro", "product", "nginx"])


@pytest.mark.parametrize(
    "body",
    [
        {"question": "", "options": POLL["options"]},
        {"question": "Q", "options": [{"key": "1", "label": "only one"}]},
        {"question": "Q", "options": [{"key": "1", "label": "a"}, {"key": "1", "label": "b"}]},
        {"question": "Q", "options": [{"key": "a b", "label": "a"}, {"key": "c", "label": "b"}]},
        {"question": "Q", "options": "nope"},
        ["not", "an", "object"],
    ],
)
def test_bad_poll_definitions_get_a_clear_400(client, auth, body):
    response = client.put("/api/polls/product", json=body, headers=auth)
    assert response.status_code == 400
    assert response.get_json()["error"]


def test_unknown_poll_is_404_everywhere(client, auth):
    assert client.get("/api/polls/nope").status_code == 404
    assert client.post("/api/polls/nope/open", headers=auth).status_code == 404
    assert client.get("/api/polls/bad%20id").status_code == 404


def test_hidden_results_stay_hidden_from_the_public_until_closed(client, auth, store, talk_id):
    client.put("/api/polls/product", json={**POLL, "hide_results": True}, headers=auth)
    client.post("/api/polls/product/open", headers=auth)
    store.cast_vote(talk_id, "product", "w1", "2")
    public = client.get("/api/polls/product").get_json()
    assert public["total"] is None and {o["votes"] for o in public["options"]} == {None}
    assert client.get("/api/polls/product", headers=auth).get_json()["total"] == 1
    client.post("/api/polls/product/close", headers=auth)
    assert client.get("/api/polls/product").get_json()["total"] == 1


def test_a_new_talk_starts_empty_and_keeps_the_old_ones(client, auth, store, talk_id):
    client.put("/api/polls/product", json=POLL, headers=auth)
    started = client.post(
        "/api/talks", json={"talk": talk_id + "-2", "story": "wsgi"}, headers=auth
    )
    assert started.status_code == 201
    assert client.get("/api/polls/product").status_code == 404
    assert client.get(f"/api/polls/product?talk={talk_id}").status_code == 200
    talks = client.get("/api/talks", headers=auth).get_json()
    assert talks["current"] == talk_id + "-2"
    assert {talk_id, talk_id + "-2"} <= {t["talk"] for t in talks["talks"]}


def test_export_json_and_csv_after_the_talk(client, auth, store, talk_id):
    client.put("/api/polls/product", json=POLL, headers=auth)
    client.post("/api/polls/product/open", headers=auth)
    store.cast_vote(talk_id, "product", "w1", "2")
    client.post("/api/polls/product/close", headers=auth)
    client.put("/api/state", json={"scene": "deploy", "path": ["intro", "deploy"]}, headers=auth)
    data = client.get(f"/api/talks/{talk_id}/export.json", headers=auth).get_json()
    assert data["path"] == ["intro", "deploy"] and data["polls"][0]["winner"] == "2"
    csv_response = client.get(f"/api/talks/{talk_id}/export.csv", headers=auth)
    assert csv_response.mimetype == "text/csv"
    assert "product,product,What did you build?,closed,2,Dachshund Doc Send,1,1,2" in (
        csv_response.get_data(as_text=True)
    )


def test_oversized_bodies_are_refused(client, auth):
    huge = {**POLL, "question": "x" * 100_000}
    assert client.put("/api/polls/product", json=huge, headers=auth).status_code == 413


def test_openapi_documents_every_api_route(app, client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(("/static", "/assets")):  # files, not API
            continue
        documented = rule.rule.replace("<", "{").replace(">", "}")
        documented = documented.replace("{action}", "open")
        documented = documented.replace("export.{fmt}", "export.json")
        assert documented in paths, f"{rule.rule} is not in the OpenAPI document"


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
