"""Ballot stuffing: honest phones and one scripted attacker on one loopback, real ``cyoa serve``.

Every honest phone has an address of its own (Linux routes all of 127.0.0.0/8 to loopback,
so a socket bound to 127.0.1.7 before it connects reaches the server from 127.0.1.7), loads
the page once at a random moment while the poll is open and votes once, 60/40 for option 1.
The attacker, from 127.0.200.1, loops "GET / without cookies, then POST /vote for option
2" from a few threads as fast as it can while the poll is open. Each cookie-less page load
is a new voter, so without a cap every loop is one more vote. The bench runs this with
``CYOA_VOTERS_PER_ADDRESS=0`` (no cap: the behaviour before the cap) and with the server's
default, and prints the attacker's share of the counted votes. See ``bench/README.md``.

    .venv/bin/python bench/stuffing.py                 # 200 phones, 5 s per setting
    .venv/bin/python bench/stuffing.py --tiny          # a smoke test (CI)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.votes import forget_talk  # noqa: E402 - after the path fix, for `python bench/...`
from cyoa.voteserver import keys  # noqa: E402
from cyoa.voteserver.settings import SETTINGS  # noqa: E402

TOKEN = "stuffing-bench-presenter-token"
POLL = "stuffing"
OPTIONS = [{"key": "1", "label": "Left"}, {"key": "2", "label": "Right"}]
ATTACKER = "127.0.200.1"
CSRF = re.compile(r'<meta name="csrf" content="([^"]+)"')
DEFAULT_CAP = next(s.default for s in SETTINGS if s.env == "CYOA_VOTERS_PER_ADDRESS")


def phone_address(i: int) -> str:
    """The ``i``-th honest phone's own address: 127.0.1.1 ... 127.0.1.250, 127.0.2.1 ..."""
    return f"127.0.{1 + i // 250}.{1 + i % 250}"


class Browser:
    """One HTTP/1.1 connection from a fixed source address, with a cookie jar."""

    def __init__(self, port: int, address: str) -> None:
        self.port, self.address = port, address
        self.cookies: dict[str, str] = {}
        self.connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: str = "") -> tuple[int, bytes]:
        headers = {"Accept": "application/json"} if method == "POST" else {}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (1, 2):  # a kept-alive connection the server closed: once more
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=30, source_address=(self.address, 0)
                )
            try:
                self.connection.request(method, path, body=body or None, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.HTTPException, OSError):
                self.close()
                if attempt == 2:
                    raise
                continue
            for header in response.headers.get_all("Set-Cookie") or []:
                jar: SimpleCookie = SimpleCookie()
                jar.load(header)
                self.cookies.update({k: m.value for k, m in jar.items()})
            return response.status, data
        raise AssertionError("unreachable")

    def vote(self, choice: str) -> str:
        """Load the page (a new voter when the jar is empty), vote; the outcome or code."""
        status, html = self.request("GET", "/")
        match = CSRF.search(html.decode(errors="replace"))
        if status != 200 or not match:
            return f"page {status}"
        body = urlencode({"poll": POLL, "choice": choice, "csrf": match.group(1)})
        status, data = self.request("POST", "/vote", body)
        try:
            answer = json.loads(data)
        except ValueError:
            return f"vote {status}"
        return answer.get("outcome") or answer.get("code") or f"vote {status}"

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


@dataclass
class Run:
    """One setting's outcome."""

    cap_setting: str  # "0" or "default"
    cap: int = 0
    honest: int = 0
    honest_counted: int = 0
    honest_refused: dict = field(default_factory=dict)
    attacker_tries: int = 0
    attacker_counted: int = 0
    attacker_refused: dict = field(default_factory=dict)
    total: int = 0
    attacker_share: float = 0.0
    winner: str | None = None
    alerts: list = field(default_factory=list)
    consistent: bool = False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def presenter(base: str, method: str, path: str, body: dict | None = None) -> dict:
    response = requests.request(
        method, base + path, json=body, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
    )
    response.raise_for_status()
    return response.json()


def start_server(args: argparse.Namespace, cap: str, state: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CYOA_", "TWILIO_"))}
    env.pop("REDIS_URL", None)
    env.update(CYOA_STATE_DIR=str(state), CYOA_PRESENTER_TOKEN=TOKEN, PYTHONPATH=str(ROOT))
    if cap != "default":
        env["CYOA_VOTERS_PER_ADDRESS"] = cap
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    state.mkdir(parents=True, exist_ok=True)
    log = (state / "serve.log").open("wb")
    argv = [sys.executable, "-m", "cyoa", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*argv, "--workers", str(args.workers)],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"cyoa serve exited:\n{(state / 'serve.log').read_text()}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.1)
    stop(process)
    raise SystemExit(f"cyoa serve not ready:\n{(state / 'serve.log').read_text()}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


COUNTING = threading.Lock()


def attack(port: int, until: threading.Event, tries: Counter, outcomes: Counter) -> None:
    """One attacker thread: a fresh cookie jar for every vote, as fast as the server answers."""
    browser = Browser(port, ATTACKER)
    try:
        while not until.is_set():
            browser.cookies.clear()  # a new voter every time
            outcome = browser.vote("2")
            with COUNTING:
                tries["tries"] += 1
                outcomes[outcome] += 1
    finally:
        browser.close()


def honest_phone(port: int, i: int, choice: str, at: float) -> str:
    """One person: looks at the question, taps once."""
    time.sleep(max(0.0, at - time.monotonic()))  # pacing: people vote across the window
    browser = Browser(port, phone_address(i))
    try:
        return browser.vote(choice)
    except (http.client.HTTPException, OSError) as error:
        return type(error).__name__
    finally:
        browser.close()


def run_setting(args: argparse.Namespace, cap: str, work: Path) -> Run:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    talk = f"stuffing-{secrets.token_hex(4)}"
    process = start_server(args, cap, work / f"state-{cap}", port)
    client = redis.Redis.from_url(args.redis_url) if args.redis_url else None
    previous = client.get(keys.current_talk()) if client else None
    try:
        # Before any audience request reaches a worker: no worker has cached another talk.
        presenter(base, "POST", "/api/talks", {"talk": talk, "story": "stuffing-bench"})
        presenter(base, "PUT", f"/api/polls/{POLL}", {"question": "Which way?", "options": OPTIONS})
        presenter(base, "POST", f"/api/polls/{POLL}/open")
        run = Run(cap, honest=args.honest)
        rng = random.Random(args.seed)
        choices = [("1" if rng.random() < 0.6 else "2") for _ in range(args.honest)]
        stop_attack = threading.Event()
        tries, attacker = Counter(), Counter()
        threads = [
            threading.Thread(target=attack, args=(port, stop_attack, tries, attacker))
            for _ in range(args.attacker_threads)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        window = args.duration * 0.8
        moments = [started + rng.random() * window for _ in range(args.honest)]
        with ThreadPoolExecutor(max_workers=min(32, max(1, args.honest))) as pool:
            honest = list(
                pool.map(
                    honest_phone,
                    [port] * args.honest,
                    range(args.honest),
                    choices,
                    sorted(moments),
                )
            )
        while time.monotonic() - started < args.duration or tries["tries"] < args.min_tries:
            if not any(t.is_alive() for t in threads):
                break
            time.sleep(0.05)  # pacing the attack's length, not waiting on a result
        stop_attack.set()
        for thread in threads:
            thread.join()
        presenter(base, "POST", f"/api/polls/{POLL}/close")
        results = presenter(base, "GET", f"/api/polls/{POLL}")
        report = presenter(base, "GET", f"/api/polls/{POLL}/sources")
        run.cap = report["cap"]
        outcomes = Counter(honest)
        run.honest_counted = outcomes.pop("counted", 0)
        run.honest_refused = dict(outcomes)
        run.attacker_tries = tries["tries"]
        run.attacker_counted = attacker.pop("counted", 0)
        run.attacker_refused = dict(attacker)
        run.total = results["total"]
        run.attacker_share = run.attacker_counted / run.total if run.total else 0.0
        run.winner = results["winner"]
        run.alerts = report["alerts"]
        run.consistent = run.total == run.honest_counted + run.attacker_counted
        return run
    finally:
        stop(process)
        if client is not None:
            forget_talk(client, talk, previous)


def print_report(args: argparse.Namespace, runs: list[Run]) -> None:
    redis_kind = "Redis at --redis-url" if args.redis_url else "embedded Redis"
    print(
        f"ballot stuffing: {args.honest} honest phones (each its own 127.0.x.y, 60/40 for "
        f"option 1), 1 attacker ({ATTACKER}, {args.attacker_threads} threads, option 2), "
        f"poll open {args.duration:g} s, cyoa serve {args.workers} workers, {redis_kind}\n"
    )
    print(
        "| voters per address | honest counted | attacker tries | attacker counted "
        "| attacker share | winner |"
    )
    print("|---|---|---|---|---|---|")
    for run in runs:
        label = "0 (no cap)" if run.cap == 0 else f"{run.cap} (default)"
        winner = {"1": "1 Left (honest)", "2": "2 Right (attacker)"}.get(run.winner or "", "tie")
        print(
            f"| {label} | {run.honest_counted}/{run.honest} | {run.attacker_tries:,} "
            f"| {run.attacker_counted:,} | **{100 * run.attacker_share:.1f} %** | {winner} |"
        )
    for run in runs:
        refused = ", ".join(f"{k} x{v}" for k, v in Counter(run.attacker_refused).most_common())
        print(f"\ncap {run.cap}: attacker refused: {refused or 'none'}")
        if run.honest_refused:
            print(f"  honest phones not counted: {run.honest_refused}")
        for alert in run.alerts:
            print(f"  alert: {alert}")
        print(f"  tally check: total {run.total} = honest + attacker: {run.consistent}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="One attacker against a room, with the cap.")
    parser.add_argument("--honest", type=int, default=200, help="honest phones")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds the poll is open")
    parser.add_argument("--attacker-threads", type=int, default=4)
    parser.add_argument("--min-tries", type=int, default=0, help="attack at least this long")
    parser.add_argument("--workers", type=int, default=2, help="cyoa serve worker processes")
    parser.add_argument("--redis-url", default="", help="a Redis server instead of embedded")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--tiny", action="store_true", help="20 phones, 1 s, 40 attacker tries: a smoke test"
    )
    args = parser.parse_args(argv)
    if args.tiny:
        args.honest, args.duration, args.attacker_threads = 20, 1.0, 2
        args.min_tries = max(args.min_tries, 40)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="cyoa-stuffing-"))
    try:
        runs = [run_setting(args, cap, work) for cap in ("0", "default")]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_report(args, runs)
    if args.json:
        report = {
            "honest": args.honest,
            "duration": args.duration,
            "attacker_threads": args.attacker_threads,
            "workers": args.workers,
            "redis": "url" if args.redis_url else "embedded",
            "default_cap": DEFAULT_CAP,
            "runs": [asdict(run) for run in runs],
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    honest_ok = all(run.honest_counted == run.honest for run in runs)
    return 0 if honest_ok and all(run.consistent for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
