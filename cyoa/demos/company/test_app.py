"""The app's own tests, which CI runs before every deploy."""

from __future__ import annotations

import os
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
    from company import PRODUCTS

    name = PRODUCTS[os.environ.get("PRODUCT", "dachshund")]["name"]
    assert name.encode() in client.get("/").data


def test_what_a_customer_does_is_stored(client) -> None:
    from company import PRODUCTS

    product = PRODUCTS[os.environ.get("PRODUCT", "dachshund")]
    table, form = product["table"], dict(zip(product["fields"], product["example"], strict=True))
    assert client.post(f"/{table}", data=form).status_code == 201
    assert client.get(f"/{table}").json[0]["customer"] == "you@example.com"
