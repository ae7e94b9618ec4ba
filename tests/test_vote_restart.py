"""`cyoa serve` after a kill -9: the embedded Redis that outlived it is replaced, then watched.

redis-server runs in its own session, so a kill -9 of the server's process group leaves it
running. The next `cyoa serve` on that state directory must not merely use it: nobody would
restart it when it dies, nor stop it on exit. These tests kill real processes with SIGKILL
and wait for each event with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
import requests
from conftest import PRESENTER_TOKEN, ServerProcess
from waiting import wait_until

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {PRESENTER_TOKEN}"}
POLL = {
    "question": "Which way?",
    "options": [{"key": "1", "label": "L"}, {"key": "2", "label": "R"}],
}


@pytest.fixture
def embedded_env(server_env: dict[str, str], tmp_path: Path) -> Iterator[dict[str, str]]:
    """`cyoa serve` on its own embedded Redis, whatever REDIS_URL the suite runs with."""
    env = {k: v for k, v in server_env.items() if k != "REDIS_URL"}
    env["CYOA_STATE_DIR"] = str(tmp_path / "restart-state")
    Path(env["CYOA_STATE_DIR"]).mkdir()
    yield env
    for leftover in redis_servers(env):  # only if a test failed half-way
        leftover.kill()


def wait_for(what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
    wait_until(check, what, timeout)


def redis_pid(env: dict[str, str]) -> int:
    return int((Path(env["CYOA_STATE_DIR"]) / "redis" / "redis.pid").read_text())


def redis_servers(env: dict[str, str]) -> list[psutil.Process]:
    """Live redis-server processes of this state directory."""
    found = []
    for process in psutil.process_iter(["cmdline", "status"]):
        command = " ".join(process.info["cmdline"] or [])
        ours = "redis-server" in command and env["CYOA_STATE_DIR"] in command
        if ours and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process)
    return found


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def healthy(server: ServerProcess) -> bool:
    try:
        return requests.get(server.url + "/healthz", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def open_poll(server: ServerProcess) -> None:
    for method, path, body in (
        ("POST", "/api/talks", {"talk": "restart"}),
        ("PUT", "/api/polls/p", POLL),
        ("POST", "/api/polls/p/open", None),
    ):
        response = requests.request(method, server.url + path, json=body, headers=AUTH, timeout=5)
        assert response.ok, response.text


def vote(server: ServerProcess, phones: int) -> None:
    """``phones`` phones load the page and vote over HTTP; each is counted."""
    for _ in range(phones):
        phone = requests.Session()
        page = phone.get(server.url + "/", timeout=5).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        answer = phone.post(
            server.url + "/vote",
            data={"poll": "p", "choice": "2", "csrf": csrf},
            headers={"Accept": "application/json"},
            timeout=5,
        )
        assert answer.json()["outcome"] == "counted", answer.text


def total(server: ServerProcess) -> int:
    return requests.get(server.url + "/api/polls/p?talk=restart", timeout=5).json()["total"]


def survives_a_redis_kill_then_stops_clean(server: ServerProcess, env: dict[str, str]) -> None:
    """kill -9 the Redis the server runs on: it heals, keeps the votes, and exits clean."""
    victim = redis_pid(env)
    assert psutil.Process(victim).ppid() == server.process.pid, "the server must watch it"
    os.kill(victim, signal.SIGKILL)
    wait_for("the killed redis-server to go", lambda: gone(victim))
    wait_for("/healthz to answer 200 again", lambda: healthy(server))
    assert redis_pid(env) != victim
    assert total(server) == 3

    server.stop(signal.SIGTERM)
    assert server.process.returncode is not None
    wait_for("no redis-server of the state dir", lambda: not redis_servers(env))


@pytest.mark.parametrize("frozen", [False, True], ids=["orphan", "frozen-orphan"])
def test_a_restart_after_kill_9_replaces_the_orphaned_redis_and_watches_it(
    start_server, embedded_env, frozen
):
    first = start_server(embedded_env)
    open_poll(first)
    vote(first, 2)
    orphan = redis_pid(embedded_env)
    first.stop(signal.SIGKILL)  # the server's whole process group; Redis has its own session
    assert not gone(orphan), "redis-server outlives a kill -9 of the vote server"
    if frozen:  # it answers nothing, yet it still holds the append-only file
        os.kill(orphan, signal.SIGSTOP)

    second = start_server(embedded_env)
    assert gone(orphan), "the orphan is shut down and replaced by a child of the new server"
    assert [p.pid for p in redis_servers(embedded_env)] == [redis_pid(embedded_env)]
    vote(second, 1)
    survives_a_redis_kill_then_stops_clean(second, embedded_env)


def test_a_plain_start_watches_its_redis_and_stops_it(start_server, embedded_env):
    server = start_server(embedded_env)
    open_poll(server)
    vote(server, 3)
    survives_a_redis_kill_then_stops_clean(server, embedded_env)


def test_a_second_server_shares_the_owners_redis_and_takes_over_when_it_dies(
    start_server, embedded_env
):
    owner = start_server(embedded_env)
    guest = start_server(embedded_env)  # same state directory, another port
    shared = redis_pid(embedded_env)
    assert psutil.Process(shared).ppid() == owner.process.pid, "the guest must not replace it"
    open_poll(guest)
    vote(guest, 2)

    owner.stop(signal.SIGKILL)
    wait_for("the guest to replace the orphan", lambda: gone(shared) and healthy(guest))
    wait_for("the guest's own Redis", lambda: len(redis_servers(embedded_env)) == 1)
    vote(guest, 1)
    survives_a_redis_kill_then_stops_clean(guest, embedded_env)


def test_a_second_instance_uses_the_owners_redis_and_leaves_it_running(tmp_path):
    """As `cyoa results` does next to a running `cyoa serve`: it must not stop that Redis."""
    from cyoa.voteserver.embedded import EmbeddedRedis

    owner = EmbeddedRedis(tmp_path)
    url = owner.start()
    try:
        guest = EmbeddedRedis(tmp_path)
        assert guest.start() == url
        assert owner.owner and not guest.owner
        assert guest.owner_pid() == os.getpid()
        guest.stop()
        assert owner.responding()
        assert not lockable(owner.dir / "owner.lock"), "the owner still holds the lock"
    finally:
        owner.stop()
    assert not owner.responding()


def lockable(path: Path) -> bool:
    """Can another process take the lock on ``path``?"""
    probe = (
        "import fcntl, os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "try:\n    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "except OSError:\n    sys.exit(1)\n"
    )
    return subprocess.run([sys.executable, "-c", probe, str(path)], check=False).returncode == 0
