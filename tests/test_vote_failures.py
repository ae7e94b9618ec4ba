"""Redis going away mid-talk: every route answers fast and clearly, then recovers."""

from __future__ import annotations

import pytest
from conftest import PET_OPTIONS

from cyoa.voteserver.app import create_app
from cyoa.voteserver.embedded import EmbeddedRedis


@pytest.fixture
def fragile(tmp_path, config):
    """An app on a Redis of its own that the test can stop and start again."""
    from dataclasses import replace

    redis_server = EmbeddedRedis(tmp_path / "fragile")
    app = create_app(replace(config, redis_url=redis_server.start()))
    yield app, redis_server
    app.extensions["cyoa.store"].redis.connection_pool.disconnect()  # no socket left to GC
    redis_server.stop()


def test_redis_down_means_fast_503s_then_recovery(fragile, auth, talk_id):
    app, redis_server = fragile
    store = app.extensions["cyoa.store"]
    store.start_talk(talk_id)
    store.define_poll(talk_id, "p", "Q?", PET_OPTIONS)
    client = app.test_client()
    redis_server.stop()

    # How fast these answer is measured by bench/faults.py, not asserted here.
    health = client.get("/healthz")
    api = client.get("/api/polls/p")
    presenter = client.post("/api/polls/p/open", headers=auth)
    page = client.get("/", headers={"Accept": "text/html"})
    assert health.status_code == 503 and "database" in health.get_json()["reason"]
    assert api.status_code == 503 and "recover" in api.get_json()["error"]
    assert presenter.status_code == 503
    assert page.status_code == 503 and b"Traceback" not in page.data

    redis_server.start()
    assert client.get("/healthz").status_code == 200
    assert client.post("/api/polls/p/open", headers=auth).status_code == 200
