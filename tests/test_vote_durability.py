"""Acknowledged votes survive a kill -9 of the embedded Redis and of the vote server."""

from __future__ import annotations

import os
import re
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import requests
from conftest import PET_OPTIONS, PRESENTER_TOKEN, SECRET_KEY, ServerProcess, free_port
from waiting import GUARD, wait_until

from cyoa.voteserver.embedded import EmbeddedRedis
from cyoa.voteserver.store import VoteStore
from cyoa.voteserver.voters import COOKIE_NAME, read_voter


def _kill_embedded(state_dir: Path, embedded: EmbeddedRedis | None = None) -> None:
    """kill -9 the redis-server of a state directory and wait until it is gone."""
    pid = int((state_dir / "redis" / "redis.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    if embedded is not None and embedded.process is not None:
        embedded.process.wait()  # our own child: reap it, or it lingers as a zombie
        return
    wait_until(lambda: not alive(pid), f"redis-server {pid} to die")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


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
        killed = embedded.process.pid
        os.kill(killed, signal.SIGKILL)
        wait_until(
            lambda: embedded.process.pid != killed and embedded.responding(),
            "the watcher to start another redis-server",
        )
    finally:
        embedded.stop()
    assert not embedded.responding(), "stop() must leave no redis-server behind"


@pytest.fixture
def start_patiently() -> Iterator[Callable[[dict[str, str]], ServerProcess]]:
    """``cyoa serve`` processes, each waited for up to the suite's guard (a loaded machine
    can take longer than conftest's 20 s to start one); all stopped after the test."""
    started: list[ServerProcess] = []

    def start(env: dict[str, str]) -> ServerProcess:
        started.append(ServerProcess(env, free_port()))
        return started[-1].wait_ready(timeout=GUARD)

    yield start
    for server in started:
        server.stop()
    for server in started:  # a server that had to be killed leaves its Redis: never leak one
        pidfile = Path(server.env["CYOA_STATE_DIR"]) / "redis" / "redis.pid"
        if pidfile.is_file() and alive(pid := int(pidfile.read_text())):
            os.kill(pid, signal.SIGKILL)


def phones_on(url: str, count: int) -> list[tuple[requests.Session, str]]:
    """``count`` phones that loaded the page: each with its cookie and its CSRF token."""
    phones = []
    for _ in range(count):
        session = requests.Session()
        page = session.get(url + "/", timeout=30).text
        phones.append((session, re.search(r'name="csrf" value="([^"]+)"', page).group(1)))
    return phones


def test_votes_survive_kill_9_of_the_whole_vote_server(start_patiently, server_env, tmp_path):
    """Phones vote through the real server while it is killed (-9) mid-stream, its Redis
    with it: after a restart, every vote the server acknowledged is there, as cast."""
    env = dict(server_env)
    env.pop("REDIS_URL", None)
    env["CYOA_STATE_DIR"] = str(tmp_path / "crash-state")
    Path(env["CYOA_STATE_DIR"]).mkdir()
    server = start_patiently(env)
    auth = {"Authorization": f"Bearer {PRESENTER_TOKEN}"}
    poll = {"question": "Q?", "options": [{"key": o.key, "label": o.label} for o in PET_OPTIONS]}
    for method, path, body in (
        ("POST", "/api/talks", {"talk": "crash"}),
        ("PUT", "/api/polls/p", poll),
        ("POST", "/api/polls/p/open", None),
    ):
        assert requests.request(method, server.url + path, json=body, headers=auth, timeout=10).ok
    phones = phones_on(server.url, 80)
    acknowledged: dict[str, str] = {}  # voter cookie -> the choice the server said it counted
    killed = threading.Event()

    def vote(index: int) -> None:
        session, csrf = phones[index]
        if killed.is_set():
            return  # sent after the kill: nothing to acknowledge
        choice = "12"[index % 3 == 0]
        try:
            answer = session.post(
                server.url + "/vote",
                data={"poll": "p", "choice": choice, "csrf": csrf},
                headers={"Accept": "application/json"},
                timeout=30,
            )
        except requests.RequestException:
            return  # in flight at the kill: never acknowledged, may or may not count
        if answer.status_code == 200 and answer.json()["outcome"] == "counted":
            acknowledged[session.cookies[COOKIE_NAME]] = choice

    with ThreadPoolExecutor(4) as pool:
        pending = [pool.submit(vote, i) for i in range(len(phones))]
        wait_until(lambda: len(acknowledged) >= 30, "30 votes acknowledged by the server")
        server.stop(signal.SIGKILL)  # the server and its workers, no clean shutdown
        killed.set()
        _kill_embedded(Path(env["CYOA_STATE_DIR"]))  # and its Redis with them
        for future in pending:
            future.result()

    again = start_patiently(env)
    results = requests.get(again.url + "/api/polls/p?talk=crash", timeout=10).json()
    assert results["status"] == "open"
    assert len(acknowledged) <= results["total"] <= len(phones)
    store = VoteStore(redis.Redis(unix_socket_path=env["CYOA_STATE_DIR"] + "/redis/redis.sock"))
    try:
        ballots = {
            cookie: store.ballot("crash", "p", read_voter(SECRET_KEY, cookie))
            for cookie in acknowledged
        }
    finally:
        store.redis.close()
    assert ballots == acknowledged  # every acknowledged vote, for the option it was cast for


def test_cyoa_serve_stops_its_embedded_redis_on_exit(start_server, server_env, tmp_path):
    env = dict(server_env)
    env.pop("REDIS_URL", None)
    env["CYOA_STATE_DIR"] = str(tmp_path / "clean-state")
    Path(env["CYOA_STATE_DIR"]).mkdir()
    server = start_server(env)
    pid = int((Path(env["CYOA_STATE_DIR"]) / "redis" / "redis.pid").read_text())
    server.stop(signal.SIGTERM)
    assert server.process.returncode is not None
    wait_until(lambda: not alive(pid), "cyoa serve's embedded redis-server to stop")
