"""The app's own tests, which CI runs before every deploy."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'test.db'}")
    from company import create_app
    from storage import Database

    Database().init()
    return create_app().test_client()


def test_home_page_names_the_product(client) -> None:
    assert b"Dachshund Doc Send" in client.get("/").data


def test_a_delivery_is_stored(client) -> None:
    form = {"sender": "a@example.com", "recipient": "b@example.com", "document": "x.pdf"}
    assert client.post("/deliveries", data=form).status_code == 201
    assert client.get("/deliveries").json[0]["sender"] == "a@example.com"
