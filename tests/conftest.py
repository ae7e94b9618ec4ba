"""Shared fixtures: a real Redis (REDIS_URL or the embedded one), the app, real servers.

Every test gets a talk of its own, so tests never see each other's polls, even on a shared
Redis.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from waiting import GUARD

from cyoa.voteserver.app import create_app
from cyoa.voteserver.embedded import EmbeddedRedis
from cyoa.voteserver.settings import load_config
from cyoa.voteserver.store import Option, VoteStore

ROOT = Path(__file__).resolve().parent.parent
PRESENTER_TOKEN = "presenter-test-token"
SECRET_KEY = "secret-for-tests-only"
TWILIO_TOKEN = "twilio-test-auth-token"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def steady_window(margin: float = 600.0) -> int:
    """A rate window (seconds) whose current slot has ``margin`` seconds or more to run.

    Votes are counted per window slot (``now // window``): a test that casts a few votes and
    expects the limit to bite must not see a new slot start halfway. An hour-long window
    still ends somewhere; of the windows from 3,600 s up, this takes the first whose slot
    ends later than ``margin`` from now, so the test's votes all fall in one slot.
    """
    now = time.time()
    return next(w for w in range(3600, 7200) if w - now % w > margin)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL where it is set (it must answer), else an embedded Redis for the session."""
    url = os.environ.get("REDIS_URL")
    if url:
        redis.Redis.from_url(url).ping()  # a Redis that cannot be reached fails the run
        yield url
        return
    embedded = EmbeddedRedis(tmp_path_factory.mktemp("redis-state"))
    yield embedded.start()
    embedded.stop()


@pytest.fixture
def redis_client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


@pytest.fixture
def talk_id() -> str:
    return "t-" + uuid.uuid4().hex[:12]


@pytest.fixture
def config(redis_url: str, talk_id: str, tmp_path: Path):
    return load_config(
        {
            "redis_url": redis_url,
            "state_dir": str(tmp_path / "state"),
            "presenter_token": PRESENTER_TOKEN,
            "secret_key": SECRET_KEY,
            "twilio_auth_token": TWILIO_TOKEN,
            "twilio_number": "+15005550006",
            "public_url": "",
            "talk": talk_id,
        },
        environ={},
    )


@pytest.fixture
def app(config, talk_id: str):
    app = create_app(config)
    app.config["TESTING"] = True
    app.extensions["cyoa.store"].start_talk(talk_id, story="test-story")
    yield app
    # Closed here, not left to the garbage collector: a socket it finds unclosed at the end
    # of the session is a ResourceWarning, which this suite turns into an error.
    app.extensions["cyoa.store"].redis.connection_pool.disconnect()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def store(app) -> VoteStore:
    return app.extensions["cyoa.store"]


@pytest.fixture
def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {PRESENTER_TOKEN}"}


PET_OPTIONS = [
    Option("1", "Tinder for Pets", ("tinder", "pets")),
    Option("2", "Dachshund Doc Send", ("dachshund", "doc")),
]


@pytest.fixture
def open_poll(store: VoteStore, talk_id: str) -> str:
    """A poll "product" with two options, open for votes."""
    store.define_poll(talk_id, "product", "What did you build?", PET_OPTIONS)
    store.open_poll(talk_id, "product")
    return "product"


PORTS = random.SystemRandom()  # not the test's seeded random: each pick is a new one


def free_port() -> int:
    """A port free on every address, below Linux's ephemeral range (32768-60999).

    A port from that range (``bind(0)``) can be taken by any outgoing connection of a busy
    machine between this pick and the server's own bind, making a free port look taken.
    """
    while True:
        port = PORTS.randint(20000, 32767)
        with socket.socket() as sock:
            try:
                sock.bind(("0.0.0.0", port))  # noqa: S104 (where a vote server may listen)
            except OSError:
                continue
        return port


class ServerProcess:
    """A real ``cyoa serve`` in a child process, as a presenter would start it."""

    def __init__(self, env: dict[str, str], port: int, args: list[str] | None = None) -> None:
        self.port = port
        self.env = env
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(Path(env["CYOA_STATE_DIR"]) / f"serve-{port}.log", "w+b")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cyoa", "serve", "--port", str(port), *(args or [])],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = GUARD) -> ServerProcess:
        """Once /healthz answers; the timeout is only a guard for a broken build."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"cyoa serve exited: {self.output()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"cyoa serve not ready in {timeout} s: {self.output()}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def stop(self, sig: int = 15) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()
        self.log.close()


def present_env() -> dict[str, str]:
    """The environment of a test's ``cyoa present``: its own token and SMS signing key, the
    embedded Redis (never the session's REDIS_URL), nothing of the caller's cyoa settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CYOA_", "TWILIO_"))}
    env.pop("REDIS_URL", None)
    env.update(
        CYOA_PRESENTER_TOKEN=PRESENTER_TOKEN,
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        TWILIO_NUMBER="+15005550006",
    )
    return env


@pytest.fixture
def server_env(config, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CYOA_", "TWILIO_"))}
    env.pop("REDIS_URL", None)
    env.update(config.as_env())
    env["CYOA_STATE_DIR"] = str(tmp_path / "state")
    env["PYTHONPATH"] = str(ROOT)
    Path(env["CYOA_STATE_DIR"]).mkdir(parents=True, exist_ok=True)
    return env


@pytest.fixture
def start_server(server_env: dict[str, str]):
    """Start real ``cyoa serve`` processes; every one is stopped after the test."""
    started: list[ServerProcess] = []

    def start(env: dict[str, str] | None = None, args: list[str] | None = None) -> ServerProcess:
        server = ServerProcess(env or server_env, free_port(), args)
        started.append(server)
        return server.wait_ready()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def server(start_server, talk_id: str) -> ServerProcess:
    """A real vote server on a talk of this test's own (the Redis is shared by the session)."""
    server = start_server()
    started = requests.post(
        server.url + "/api/talks",
        json={"talk": talk_id},
        headers={"Authorization": f"Bearer {PRESENTER_TOKEN}"},
        timeout=10,
    )
    assert started.status_code == 201
    return server


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    """A phone-sized browser page (iPhone-ish viewport, touch)."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        has_touch=True,
        is_mobile=True,
        device_scale_factor=2,
    )
    page = context.new_page()
    yield page
    context.close()
