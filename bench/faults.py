"""How fast does each route answer while Redis is frozen? Compare with CYOA_REDIS_TIMEOUT.

Starts the real server (``python -m cyoa serve``, one worker, its embedded Redis), sets up
a talk with an open poll and a phone, then for every route: warms it up, freezes the
redis-server with SIGSTOP, times one request, and thaws it again (SIGCONT). "After idle"
does the same after the route's Redis connection has sat unused for ``--idle`` seconds
(longer than the 30 s health-check interval the client once had). Last, ``--queue``
concurrent requests arrive while Redis is frozen, as a room of polling phones would.

    .venv/bin/python bench/faults.py                 # about 7 minutes (mostly idling)
    .venv/bin/python bench/faults.py --idle 0        # frozen while warm only, ~1 minute

Timings are printed, never asserted: tests check the answers (503 and a reason, never 500).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.votes import Server, free_port  # noqa: E402 - after the path fix
from cyoa.voteserver.rehearse import send_sms  # noqa: E402

TOKEN = "bench-presenter-token"
POLL = {"question": "Which way?", "options": [{"key": k, "label": k} for k in "12"]}
CLIENT_TIMEOUT = 30.0


@dataclass
class Answer:
    """One timed request: its status, how long it took, and the first words of its reason."""

    status: int
    seconds: float
    reason: str

    def cell(self) -> str:
        return f"{self.status}  {self.seconds:5.2f} s"


class Bench:
    """The server under test, a phone's cookie and CSRF token, and every route's request."""

    def __init__(self, server: Server, state: Path, twilio_token: str) -> None:
        self.server, self.state, self.twilio_token = server, state, twilio_token
        self.presenter = {"Authorization": f"Bearer {TOKEN}"}
        self.http, self.phone = requests.Session(), requests.Session()
        page = self.phone.get(server.url + "/", timeout=CLIENT_TIMEOUT).text
        self.csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    def redis_pid(self) -> int:
        return int((self.state / "redis" / "redis.pid").read_text())

    def routes(self) -> dict[str, Callable[[], requests.Response | Answer]]:
        url, http, phone = self.server.url, self.http, self.phone
        vote = {"poll": "p", "choice": "1", "csrf": self.csrf}
        get, html = {"timeout": CLIENT_TIMEOUT}, {"Accept": "text/html"}
        return {
            "GET /healthz": lambda: http.get(url + "/healthz", **get),
            "GET / (page)": lambda: phone.get(url + "/", **get),
            "GET /api/live": lambda: phone.get(url + "/api/live", **get),
            "GET /api/polls/p": lambda: http.get(url + "/api/polls/p", **get),
            "POST /vote (JSON fast path)": lambda: phone.post(
                url + "/vote", data=vote, headers={"Accept": "application/json"}, **get
            ),
            "POST /vote (form)": lambda: phone.post(
                url + "/vote", data=vote, headers=html, allow_redirects=False, **get
            ),
            "GET /api/state (presenter)": lambda: http.get(
                url + "/api/state", headers=self.presenter, **get
            ),
            "PUT /api/state (presenter)": lambda: http.put(
                url + "/api/state", json={"scene": "s"}, headers=self.presenter, **get
            ),
            "POST /sms": self._sms,
        }

    def _sms(self) -> Answer:
        started = time.monotonic()
        reply = send_sms(self.server.url, "1", token=self.twilio_token)
        return Answer(reply.status, time.monotonic() - started, reply.outcome or reply.text[:40])

    def timed(self, send: Callable[[], requests.Response | Answer]) -> Answer:
        started = time.monotonic()
        response = send()
        if isinstance(response, Answer):
            return response
        seconds = time.monotonic() - started
        try:
            body = response.json()
            reason = str(body.get("error") or body.get("reason") or body.get("status") or "")
        except ValueError:  # a page: its alert, or where it redirects
            alert = re.search(r'role="alert">([^<]*)<', response.text)
            reason = alert.group(1) if alert else response.headers.get("Location", "")
        return Answer(response.status_code, seconds, " ".join(reason.split())[:60])

    def freeze(self) -> None:
        os.kill(self.redis_pid(), signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.redis_pid(), signal.SIGCONT)

    def healthy(self, timeout: float = 30.0) -> None:
        """Wait until /healthz answers 200 again (a breaker may hold it at 503 a moment)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if requests.get(self.server.url + "/healthz", timeout=CLIENT_TIMEOUT).ok:
                return
            time.sleep(0.1)
        raise SystemExit("the server did not recover after SIGCONT")

    def frozen(self, send: Callable[[], requests.Response | Answer], idle: float) -> Answer:
        """Warm the route up, leave it idle, freeze Redis, time one request, thaw."""
        self.healthy()
        for _ in range(2):
            send()
        time.sleep(idle)
        self.freeze()
        try:
            return self.timed(send)
        finally:
            self.thaw()

    def queue(self, count: int) -> list[Answer]:
        """``count`` phones polling /api/live at once while Redis is frozen."""
        self.healthy()
        live = self.routes()["GET /api/live"]
        self.freeze()
        try:
            with ThreadPoolExecutor(max_workers=count) as pool:
                return list(pool.map(lambda _: self.timed(live), range(count)))
        finally:
            self.thaw()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time every route while Redis is frozen.")
    parser.add_argument("--timeout", type=float, default=1.0, help="CYOA_REDIS_TIMEOUT")
    parser.add_argument("--idle", type=float, default=31.0, help="seconds idle; 0: skip")
    parser.add_argument("--queue", type=int, default=20, help="concurrent requests; 0: skip")
    parser.add_argument("--threads", type=int, default=2, help="threads of the one worker")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="cyoa-faults-"))
    try:
        return run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> int:
    port, twilio_token, state = free_port(), secrets.token_urlsafe(16), work / "state"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CYOA_", "TWILIO_"))}
    env.pop("REDIS_URL", None)  # its own embedded Redis: the one this bench freezes
    env.update(
        PYTHONPATH=str(ROOT),
        CYOA_PRESENTER_TOKEN=TOKEN,
        CYOA_REDIS_TIMEOUT=str(args.timeout),
        TWILIO_AUTH_TOKEN=twilio_token,
        CYOA_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    argv = [sys.executable, "-m", "cyoa", "serve", "--port", str(port), "--state-dir",
            str(state), "--workers", "1", "--threads", str(args.threads)]  # fmt: skip
    server = Server("cyoa serve", argv, env, work / "serve.log")
    try:
        server.wait_ready()
        presenter = {"Authorization": f"Bearer {TOKEN}"}
        for method, path, body in (
            ("POST", "/api/talks", {"talk": "faults"}),
            ("PUT", "/api/polls/p", POLL),
            ("POST", "/api/polls/p/open", None),
        ):
            requests.request(
                method, server.url + path, json=body, headers=presenter, timeout=10
            ).raise_for_status()
        bench = Bench(server, state, twilio_token)
        report: dict = {"timeout": args.timeout, "idle": args.idle, "routes": {}}
        print_header(args)
        for name, send in bench.routes().items():
            warm = bench.frozen(send, 0)
            idle = bench.frozen(send, args.idle) if args.idle else None
            report["routes"][name] = {"warm": vars(warm), "idle": vars(idle) if idle else None}
            print_row(name, warm, idle)
        if args.queue:
            answers = bench.queue(args.queue)
            report["queue"] = [vars(a) for a in answers]
            statuses = Counter(a.status for a in answers)
            slowest = max(a.seconds for a in answers)
            print(
                f"{args.queue} concurrent GET /api/live while frozen: slowest {slowest:.2f} s, "
                f"statuses {dict(statuses)}",
                flush=True,
            )
        bench.http.close()
        bench.phone.close()
    finally:
        if (state / "redis" / "redis.pid").exists():  # never leave a Redis frozen
            os.kill(int((state / "redis" / "redis.pid").read_text()), signal.SIGCONT)
        server.stop()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


def print_header(args: argparse.Namespace) -> None:
    after = f"after {args.idle:.0f} s idle" if args.idle else ""
    print(f"CYOA_REDIS_TIMEOUT={args.timeout} s, Redis frozen (SIGSTOP), 1 worker x {args.threads}")
    print(f"{'route':<30} {'frozen, warm':<16} {after:<16} reason (warm)", flush=True)


def print_row(name: str, warm: Answer, idle: Answer | None) -> None:
    later = idle.cell() if idle else ""
    print(f"{name:<30} {warm.cell():<16} {later:<16} {warm.reason}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
