"""Acknowledged votes survive a kill -9 of the embedded Redis and of the vote server."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import redis
import requests
from conftest import PET_OPTIONS, PRESENTER_TOKEN

from cyoa.voteserver.embedded import EmbeddedRedis
from cyoa.voteserver.store import VoteStore


def _kill_embedded(state_dir: Path, embedded: EmbeddedRedis | None = None) -> None:
    """kill -9 the redis-server of a state directory and wait until it is gone."""
    pid = int((state_dir / "redis" / "redis.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    if embedded is not None and embedded.process is not None:
        embedded.process.wait()  # our own child: reap it, or it lingers as a zombie
        return
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


def test_votes_survive_kill_9_of_the_embedded_redis(tmp_path):
    embedded = EmbeddedRedis(tmp_path)
    store = VoteStore(redis.Redis.from_url(embedded.start()))
    store.define_poll("talk", "p", "Q?", PET_OPTIONS)
    store.open_poll("talk", "p")
    acknowledged = [
        store.cast_vote("talk", "p", f"w{i}", "12"[i % 3 == 0]).outcome for i in range(300)
    ]
    assert set(acknowledged) == {"counted"}

    _kill_embedded(tmp_path, embedded)
    assert not embedded.responding()
    store = VoteStore(redis.Redis.from_url(embedded.start()))
    try:
        results = store.results("talk", "p")
        assert results["total"] == 300
        assert [o["votes"] for o in results["options"]] == [200, 100]
    finally:
        embedded.stop()


def test_embedded_redis_is_restarted_by_its_watcher(tmp_path):
    embedded = EmbeddedRedis(tmp_path)
    embedded.start()
    embedded.watch(interval=0.1)
    try:
        os.kill(embedded.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while not embedded.responding() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert embedded.responding()
    finally:
        embedded.stop()
    assert not embedded.responding(), "stop() must leave no redis-server behind"


def test_votes_survive_kill_9_of_the_whole_vote_server(start_server, server_env, tmp_path):
    env = dict(server_env)
    env.pop("REDIS_URL", None)
    env["CYOA_STATE_DIR"] = str(tmp_path / "crash-state")
    Path(env["CYOA_STATE_DIR"]).mkdir()
    server = start_server(env)
    auth = {"Authorization": f"Bearer {PRESENTER_TOKEN}"}
    requests.post(server.url + "/api/talks", json={"talk": "crash"}, headers=auth, timeout=5)
    poll = {"question": "Q?", "options": [{"key": o.key, "label": o.label} for o in PET_OPTIONS]}
    requests.put(server.url + "/api/polls/p", json=poll, headers=auth, timeout=5)
    requests.post(server.url + "/api/polls/p/open", headers=auth, timeout=5)
    store = VoteStore(redis.Redis(unix_socket_path=env["CYOA_STATE_DIR"] + "/redis/redis.sock"))
    for i in range(50):
        assert store.cast_vote("crash", "p", f"w{i}", "2").outcome == "counted"

    server.stop(signal.SIGKILL)  # the server and its workers, no clean shutdown
    _kill_embedded(Path(env["CYOA_STATE_DIR"]))  # and its Redis with them

    again = start_server(env)
    results = requests.get(again.url + "/api/polls/p?talk=crash", timeout=5).json()
    assert results["total"] == 50 and results["status"] == "open"


def test_cyoa_serve_stops_its_embedded_redis_on_exit(start_server, server_env, tmp_path):
    env = dict(server_env)
    env.pop("REDIS_URL", None)
    env["CYOA_STATE_DIR"] = str(tmp_path / "clean-state")
    Path(env["CYOA_STATE_DIR"]).mkdir()
    server = start_server(env)
    pid = int((Path(env["CYOA_STATE_DIR"]) / "redis" / "redis.pid").read_text())
    server.stop(signal.SIGTERM)
    assert server.process.returncode is not None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the embedded redis-server was left running")
