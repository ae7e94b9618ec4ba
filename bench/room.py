"""Measure rooms, not requests: how many phones ``cyoa serve`` keeps live on this machine.

Each simulated phone does what the audience page does (``voteserver/static/audience.js``):
it loads the page (its cookie and CSRF token), keeps one keep-alive connection and polls
``GET /api/live`` at the page's own cadence, jitter included (read from audience.js), sends
``If-None-Match``, and when the feed says a poll opened or closed it does what that script
does: draws it from the feed's answer (naming the poll it saw open, ``?poll=``), or, with an
older script (``--tree``), fetches the page again (the page swap). When a poll opens, each
phone votes once after a few seconds of thought, about 20 % change their minds, and about
10 % text a Twilio-signed SMS instead.

The room grows (``--phones``) until a size fails; a size is *sustained* when the poll's
opening and closing reach 95 % of the phones within 2 s, vote answers have p99 < 100 ms,
no request failed and no vote was lost (the poll's tally equals the phones' last
acknowledged votes). See ``bench/README.md``, "Rooms".

The phones are coroutines on raw asyncio protocols (one socket per phone, a few dozen
microseconds of client CPU per request, where aiohttp costs several times that), in
``--procs`` processes, on the same cores as the server: the figures are for one laptop
that runs both.

    .venv/bin/python bench/room.py                        # ramps 1,000 -> 20,000 phones
    .venv/bin/python bench/room.py --phones 2000,4000 --redis-url redis://127.0.0.1:6379/15
    .venv/bin/python bench/room.py --tiny --json out.json   # a smoke test (CI)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.votes import (  # noqa: E402 - after the path fix, for `python bench/...`
    TOKEN,
    Server,
    cpu_ticks,
    forget_talk,
    free_port,
    machine_busy,
)
from cyoa.voteserver import keys  # noqa: E402

OPTIONS = [{"key": "1", "label": "Left"}, {"key": "2", "label": "Right"}]
TARGET = {"reach_p95_s": 2.0, "vote_p99_ms": 100.0}  # --reach changes the first
DEFAULT_RAMP = "1000,2000,4000,6000,8000,10000,12000,15000,20000"
BURST_SECONDS = 10.0  # the decision's first seconds, whose CPU is reported on its own
TIMEOUT = 10.0  # seconds a phone waits for an answer before it counts as failed


# -- what the page's script does ----------------------------------------------------------
@dataclass(frozen=True)
class Cadence:
    """The page's polling delays in ms, read from audience.js so the bench follows it."""

    fast: float
    slow: float
    calm: float | None  # while an open poll hides its results (if the script has it)
    draws: bool = False  # draws an opening or close from the feed (else: loads the page)

    @classmethod
    def from_script(cls, path: Path) -> Cadence:
        text = path.read_text()

        def constant(name: str) -> float | None:
            match = re.search(rf"\b{name}\s*=\s*(\d+)", text)
            return float(match.group(1)) if match else None

        fast, slow = constant("FAST"), constant("SLOW")
        if fast is None or slow is None:
            raise SystemExit(f"no FAST/SLOW cadence found in {path}")
        # The script that draws from the feed has draw(); an older one swaps the page.
        draws = re.search(r"\bfunction draw\(", text) is not None
        return cls(fast, slow, constant("CALM"), draws)

    def delay(self, view: dict | None, failures: int, rng: random.Random) -> float:
        """Seconds to the next poll: as ``schedule()`` in audience.js (page visible)."""
        base = self.fast
        poll = (view or {}).get("poll") or {}
        if self.calm and (view or {}).get("status") == "open" and poll.get("hide_results"):
            base = self.calm
        base = min(self.slow, base * 2**failures)
        return base * (0.8 + 0.4 * rng.random()) / 1000


# -- a tiny HTTP/1.1 keep-alive client ------------------------------------------------------
class Closed(Exception):
    """The server closed the connection before the whole answer arrived."""


class ClosedReused(Closed):
    """The same, on a keep-alive socket that had answered before: a browser resends the
    request once on a new connection (Chromium does for any method when no byte of the
    answer came), so a phone does too, and the error counts only if that fails."""


class Http(asyncio.Protocol):
    """One keep-alive connection, one request at a time (a phone's, as a browser's)."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future | None = None
        self.closed = False
        self.answered = 0  # answers read on this socket: > 0 means a reused keep-alive

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter and not self.waiter.done():
            reused = self.answered > 0 and not self.buffer
            self.waiter.set_exception(ClosedReused() if reused else Closed())

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter and not self.waiter.done():
            answer = self.parse()
            if answer is not None:
                self.answered += 1
                self.waiter.set_result(answer)

    def parse(self) -> tuple[int, dict[str, str], bytes] | None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            value = value.strip()
            headers[name] = f"{headers[name]}\n{value}" if name in headers else value
        length = int(headers.get("content-length", "0"))
        if "chunked" in headers.get("transfer-encoding", ""):
            return self.parse_chunked(end + 4, status, headers)
        if len(self.buffer) < end + 4 + length:
            return None
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        return status, headers, body

    def parse_chunked(
        self, start: int, status: int, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes] | None:
        body, at = bytearray(), start
        while True:
            line_end = self.buffer.find(b"\r\n", at)
            if line_end < 0:
                return None
            size = int(bytes(self.buffer[at:line_end]).split(b";")[0], 16)
            if len(self.buffer) < line_end + 2 + size + 2:
                return None
            body += self.buffer[line_end + 2 : line_end + 2 + size]
            at = line_end + 2 + size + 2
            if size == 0:
                del self.buffer[:at]
                return status, headers, bytes(body)

    async def request(self, data: bytes) -> tuple[int, dict[str, str], bytes]:
        loop = asyncio.get_running_loop()
        self.waiter = loop.create_future()
        assert self.transport is not None
        self.transport.write(data)
        return await self.waiter


class Connection:
    """A phone's socket to the server, reopened when the server closes it.

    From the phone's own address (``source``, in 127.0.0.0/8, all loopback): one address
    has only ~28,000 ports to a server's port, and a room of 25,000 phones holds twice that.
    """

    def __init__(self, host: str, port: int, source: str | None = None) -> None:
        self.host, self.port, self.source = host, port, source
        self.http: Http | None = None
        self.lock = asyncio.Lock()
        self.tally: Tally | None = None  # counts the requests sent again (below)

    async def send(self, data: bytes) -> tuple[int, dict[str, str], bytes]:
        async with self.lock:  # HTTP/1.1 without pipelining: one request at a time
            try:
                return await self._send(data)
            except ClosedReused:  # the server closed an idle socket as the request left
                if self.tally is not None:
                    self.tally.resent += 1
                return await self._send(data)

    async def _send(self, data: bytes) -> tuple[int, dict[str, str], bytes]:
        loop = asyncio.get_running_loop()
        try:
            if self.http is None or self.http.closed:
                local = (self.source, 0) if self.source else None
                _, self.http = await asyncio.wait_for(
                    loop.create_connection(Http, self.host, self.port, local_addr=local), TIMEOUT
                )
            answer = await asyncio.wait_for(self.http.request(data), TIMEOUT)
        except BaseException:
            self.close()
            raise
        if answer[1].get("connection", "").lower() == "close":
            self.close()
        return answer

    def close(self) -> None:
        if self.http and self.http.transport:
            self.http.transport.close()
        self.http = None


def build_request(
    method: str, path: str, host: str, headers: dict[str, str], body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items() if v]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def cookies_from(headers: dict[str, str]) -> dict[str, str]:
    jar = {}
    for line in headers.get("set-cookie", "").split("\n"):
        name, _, rest = line.partition("=")
        if rest:
            jar[name.strip()] = rest.split(";", 1)[0]
    return jar


# -- one load process: a share of the room ------------------------------------------------
@dataclass
class Plan:
    """What every load process is told: the room, the timeline, the secrets."""

    host: str
    port: int
    public_url: str
    twilio_token: str
    poll: str
    first: int  # this process's phones: first .. first + count - 1
    count: int
    join_start: float  # wall-clock times (time.time()), shared by all processes
    join_end: float
    vote_window: float  # seconds after the opening during which phones decide
    sms_share: float
    change_share: float
    seed: int
    script: str  # the audience.js whose cadence the phones follow
    # light phones: number, cookie, when it joins (wrk polls its feed from its slice's end)
    light: list[tuple[int, str, float]] = field(default_factory=list)


@dataclass
class Tally:
    """What one load process saw."""

    requests: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    latency: dict[str, list[float]] = field(default_factory=dict)
    seen: dict[str, list[float]] = field(default_factory=dict)  # view key -> first-seen times
    final: dict[str, str] = field(default_factory=dict)  # phone -> last acknowledged choice
    votes_sent: int = 0
    votes_acknowledged: int = 0
    joined: int = 0
    resent: int = 0  # requests a phone sent again, as a browser does (ClosedReused)

    def count(self, kind: str, status: int, seconds: float) -> None:
        self.requests[kind] = self.requests.get(kind, 0) + 1
        name = f"{kind} {status}"
        self.statuses[name] = self.statuses.get(name, 0) + 1
        self.latency.setdefault(kind, []).append(seconds)

    def error(self, kind: str, what: str) -> None:
        name = f"{kind}: {what}"
        self.errors[name] = self.errors.get(name, 0) + 1


class Phone:
    """One member of the audience with the page open."""

    def __init__(self, number: int, plan: Plan, cadence: Cadence, tally: Tally) -> None:
        self.number, self.plan, self.cadence, self.tally = number, plan, cadence, tally
        self.rng = random.Random(plan.seed * 1_000_003 + number)
        self.host = f"{plan.host}:{plan.port}"
        source = phone_address(number) if plan.host == "127.0.0.1" else None
        self.conn = Connection(plan.host, plan.port, source)
        self.votes = Connection(plan.host, plan.port, source)  # a browser opens a second
        self.conn.tally = self.votes.tally = tally
        self.jar: dict[str, str] = {}
        self.csrf = ""
        self.etag = ""
        self.key = ""
        self.remembered = ""  # the poll this phone last saw open (the script's ?poll=)
        self.view: dict | None = None
        self.failures = 0
        self.inflight = False
        self.sms = self.rng.random() < plan.sms_share
        self.changes = self.rng.random() < plan.change_share
        self.voted: set[str] = set()
        self.tasks: list[asyncio.Task] = []

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.jar.items())

    async def get(self, kind: str, path: str, extra: dict[str, str] | None = None) -> tuple:
        data = build_request(
            "GET", path, self.host, {"Cookie": self.cookie_header(), **(extra or {})}
        )
        started = time.monotonic()
        try:
            status, headers, body = await self.conn.send(data)
        except (TimeoutError, OSError, Closed) as error:
            self.tally.error(kind, type(error).__name__)
            return None
        self.tally.count(kind, status, time.monotonic() - started)
        return status, headers, body

    async def load_page(self, kind: str) -> bool:
        """``GET /``: the cookie, the CSRF token and what the page shows."""
        answer = await self.get(kind, "/", {"Accept": "text/html"})
        if answer is None or answer[0] != 200:
            if answer is not None:
                self.tally.error(kind, f"status {answer[0]}")
            return False
        _, headers, body = answer
        self.jar.update(cookies_from(headers))
        html = body.decode("utf-8", "replace")
        csrf = re.search(r'<meta name="csrf" content="([^"]+)"', html)
        key = re.search(r'data-key="([^"]*)"', html)
        self.csrf = csrf.group(1) if csrf else ""
        self.show(key.group(1) if key else "")
        return True

    def show(self, key: str) -> None:
        """The page shows ``key`` (status:poll) from now: an open poll's buttons get a vote."""
        self.key = key
        self.seen(key)
        status, _, poll = key.partition(":")
        if poll:
            self.remembered = poll
        if status == "open":  # the buttons are there: this phone will vote
            self.decide(poll)

    def seen(self, key: str) -> None:
        self.tally.seen.setdefault(key, []).append(time.time())

    async def join(self, at: float) -> bool:
        """Load the page at ``at`` (wall clock); False if the phone could not join."""
        await asyncio.sleep(max(0.0, at - time.time()))
        if not await self.load_page("page (join)"):
            return False
        self.tally.joined += 1
        return True

    async def run(self) -> None:
        plan = self.plan
        if not await self.join(
            plan.join_start + (plan.join_end - plan.join_start) * self.rng.random()
        ):
            return
        await self.poll_until()
        for task in self.tasks:
            await task
        self.conn.close()
        self.votes.close()

    async def poll_until(self) -> None:
        """Poll until the room ends (the parent sets the shared stop time after the close)."""
        while True:
            delay = self.cadence.delay(self.view, self.failures, self.rng)
            await asyncio.sleep(delay)
            if time.time() >= SHARED["stop"].value:
                return
            await self.refresh()

    async def refresh(self) -> None:
        if self.inflight:  # as the script's tick(): one feed request at a time
            return
        self.inflight = True
        try:
            await self._refresh()
        finally:
            self.inflight = False

    async def _refresh(self) -> None:
        headers = {"Accept": "application/json", "If-None-Match": self.etag}
        path = "/api/live"
        if self.cadence.draws and self.remembered:
            path += f"?poll={self.remembered}"
        answer = await self.get("live", path, headers)
        if answer is None:
            self.failures = min(self.failures + 1, 3)
            return
        status, headers, body = answer
        if status == 304:
            self.failures = 0
            return
        if status != 200:
            self.tally.error("live", f"status {status}")
            self.failures = min(self.failures + 1, 3)
            return
        self.failures = 0
        self.etag = headers.get("etag", "")
        view = json.loads(body)
        self.view = view
        key = f"{view['status']}:{view['poll']['id'] if view.get('poll') else ''}"
        if key == self.key:
            return
        if self.cadence.draws:  # the script draws it from this answer: no page load
            self.show(key)
        else:  # an older script's page swap fetches the page again
            await self.load_page("page (swap)")

    def decide(self, poll: str) -> None:
        if poll in self.voted:
            return
        self.voted.add(poll)
        self.tasks.append(asyncio.ensure_future(self.vote_later(poll)))

    async def vote_later(self, poll: str) -> None:
        window = self.plan.vote_window
        await asyncio.sleep(self.rng.uniform(0.5, window * 0.6))
        first = self.rng.choice("12")
        await self.vote(poll, first)
        if self.changes:
            await asyncio.sleep(self.rng.uniform(0.5, window * 0.3))
            await self.vote(poll, "2" if first == "1" else "1")
        with SHARED["decided"].get_lock():
            SHARED["decided"].value += 1

    async def vote(self, poll: str, choice: str) -> None:
        self.tally.votes_sent += 1
        if self.sms:
            kind, data = "vote (SMS)", self.sms_request(choice)
        else:
            kind = "vote (web)"
            body = urlencode({"poll": poll, "choice": choice, "csrf": self.csrf}).encode()
            headers = {
                "Cookie": self.cookie_header(),
                "Accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": f"http://{self.host}",
            }
            data = build_request("POST", "/vote", self.host, headers, body)
        started = time.monotonic()
        try:
            status, headers, body = await self.votes.send(data)
        except (TimeoutError, OSError, Closed) as error:
            self.tally.error(kind, type(error).__name__)
            return
        self.tally.count(kind, status, time.monotonic() - started)
        if self.sms:
            outcome = headers.get("x-cyoa-outcome", "")
        else:
            outcome = json.loads(body).get("outcome", "") if status == 200 else ""
        if status == 200 and outcome in ("counted", "changed", "unchanged"):
            self.tally.votes_acknowledged += 1
            self.tally.final[f"{'s' if self.sms else 'w'}{self.number}"] = choice
        else:
            self.tally.error(kind, f"status {status} {outcome}".strip())
            refused = status == 403 and b'"expired"' in body
            if not self.sms and refused and self.cadence.draws:
                # the cookie or CSRF token was refused: the script fetches the page
                await self.load_page("page (refused)")
        if not self.sms:  # the script refreshes the feed at once after a vote
            await self.refresh()

    def sms_request(self, choice: str) -> bytes:
        from twilio.request_validator import RequestValidator

        params = {
            "MessageSid": f"SM{secrets.token_hex(16)}",
            "AccountSid": "AC" + "0" * 32,
            "From": f"+1555{self.plan.seed % 100:02d}{self.number:07d}",
            "To": "+15005550006",
            "Body": choice,
            "NumMedia": "0",
        }
        url = self.plan.public_url.rstrip("/") + "/sms"
        signature = RequestValidator(self.plan.twilio_token).compute_signature(url, params)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        }
        return build_request("POST", "/sms", self.host, headers, urlencode(params).encode())


class LightPhone(Phone):
    """A phone whose feed wrk polls (bench/room.lua): here it only joins and votes.

    It loads the page with the cookie the bench signed for it (wrk's feed requests carry the
    same one), and votes as a full phone would once it could have seen the opening: at the
    presenter's call plus its feed's next ask (up to one cadence) plus its thought. One
    socket (its page, votes and the script's refresh after a web vote); wrk holds the feed's.
    """

    def __init__(
        self, number: int, cookie: str, join_at: float, plan: Plan, cadence: Cadence, tally: Tally
    ) -> None:
        super().__init__(number, plan, cadence, tally)
        self.join_at = join_at
        self.votes = self.conn
        name, _, value = cookie.partition("=")
        self.jar = {name: value}

    def seen(self, key: str) -> None:
        """Reach is timed on the full phones; a light phone's one refresh is not a sample."""

    async def run(self) -> None:
        plan = self.plan
        if not await self.join(self.join_at):
            return
        while SHARED["opened"].value == float("inf"):
            if time.time() >= SHARED["stop"].value:
                break
            await asyncio.sleep(0.1)
        else:
            await asyncio.sleep(self.rng.uniform(0, self.cadence.fast * 1.2 / 1000))
            self.decide(plan.poll)
        for task in self.tasks:
            await task
        self.conn.close()


def phone_address(number: int) -> str:
    """Phone ``number``'s loopback address: 127.0.<5 + n // 250>.<1 + n % 250>."""
    return f"127.0.{5 + number // 250}.{1 + number % 250}"


def raise_open_files() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def simulate(plan: Plan) -> Tally:
    cadence = Cadence.from_script(Path(plan.script))
    tally = Tally()
    phones = [Phone(plan.first + i, plan, cadence, tally) for i in range(plan.count)]
    phones += [LightPhone(*light, plan, cadence, tally) for light in plan.light]
    await asyncio.gather(watch_lag(tally), *(phone.run() for phone in phones))
    return tally


LAG = "load process lag"  # how late a load process's timers fire, in the latency table


async def watch_lag(tally: Tally, every: float = 0.05) -> None:
    """A load process that is short of CPU answers its phones late, and every time it
    measures grows by that much: its own lag says whether a slow room is the server's."""
    while time.time() < SHARED["stop"].value:
        started = time.monotonic()
        await asyncio.sleep(every)
        tally.latency.setdefault(LAG, []).append(max(0.0, time.monotonic() - started - every))


SHARED: dict[str, Any] = {}  # set before the load processes fork: the stop time, phones decided


def load_process(plan: Plan, results: Any) -> None:
    raise_open_files()
    started = os.times()
    tally = asyncio.run(simulate(plan))
    ended = os.times()
    cpu = (ended.user - started.user) + (ended.system - started.system)
    results.put((tally.__dict__, cpu))


# -- the room, for one size --------------------------------------------------------------
def presenter(base: str, method: str, path: str, body: dict | None = None) -> dict:
    """The deck's call; a slow answer is measured (``presenter_s``), only a minute fails."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = requests.request(method, base + path, json=body, headers=headers, timeout=60)
    response.raise_for_status()
    return response.json()


def script(args: argparse.Namespace) -> Path:
    """The page script the phones follow: the served tree's."""
    return (args.tree or ROOT) / "voteserver" / "static" / "audience.js"


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def run_room(
    args: argparse.Namespace, server: Server, env: dict[str, str], phones: int, port: int
) -> dict:
    """One room of ``phones`` (on ``port``: the server's, or nginx's in front of it): join,
    poll, a decision (open, votes, close); the verdict."""
    talk, poll = f"room-{secrets.token_hex(3)}-{phones}", "decision"
    presenter(server.url, "POST", "/api/talks", {"talk": talk, "story": "bench"})
    presenter(
        server.url,
        "PUT",
        f"/api/polls/{poll}?talk={talk}",
        {"question": "Which way?", "options": OPTIONS},
    )
    time.sleep(1.1)  # workers remember the current talk for a second
    full = min(phones, args.full)  # the rest are light: wrk polls their feeds
    procs = min(args.procs, phones)
    now = time.time() + 1.0 + phones / 20000  # time for the load processes to start
    join_end = now + args.join
    slices = light_slices(env["CYOA_SECRET_KEY"], full, phones, now, args.join)
    light = [phone for _, slice_ in slices for phone in slice_]
    open_at = join_end + args.settle
    close_at = open_at + args.vote_window
    context = multiprocessing.get_context("fork")
    SHARED["stop"] = context.Value("d", float("inf"))
    SHARED["opened"] = context.Value("d", float("inf"))
    SHARED["decided"] = context.Value("i", 0)
    results: Any = context.Queue()
    workers = []
    for n in range(procs):
        first, count = n * full // procs, (n + 1) * full // procs - n * full // procs
        plan = Plan(
            "127.0.0.1", port, env["CYOA_PUBLIC_URL"], env["TWILIO_AUTH_TOKEN"], poll,
            first, count, now, join_end, args.vote_window, args.sms_share,
            args.change_share, args.seed + n, str(script(args)), light[n::procs],
        )  # fmt: skip
        process = context.Process(target=load_process, args=(plan, results), daemon=True)
        process.start()
        workers.append(process)

    groups = {server.process.pid}
    marks = cpu_sample(groups)
    feeds = LightFeeds(port, Cadence.from_script(script(args)).fast)
    for start, slice_ in slices:  # each slice's feeds once its phones have joined
        time.sleep(max(0.0, start - time.time()))
        cookies = [cookie for _, cookie, _ in slice_]
        feeds.start(cookies, join_end + args.settle + args.vote_window + args.after - start)
    time.sleep(max(0.0, open_at - time.time()))
    opened = time.time()
    failed = deck_call(server.url, "POST", f"/api/polls/{poll}/open?talk={talk}")
    SHARED["opened"].value = time.time()
    presenter_s = [time.time() - opened]
    # the CPU in the decision's first seconds, when most votes come: the room's averages
    # hide it under the quiet join
    burst = cpu_sample(groups)
    time.sleep(max(0.0, min(close_at, opened + BURST_SECONDS) - time.time()))
    burst = cpu_since(burst, groups)
    time.sleep(max(0.0, close_at - time.time()))
    if args.close_after_votes:  # the smoke test: every phone has decided, however slowly
        deadline = time.time() + 120
        while SHARED["decided"].value < phones and time.time() < deadline:
            time.sleep(0.2)
    closed = time.time()
    failed += deck_call(server.url, "POST", f"/api/polls/{poll}/close?talk={talk}")
    presenter_s.append(time.time() - closed)
    stop = time.time() + args.after
    SHARED["stop"].value = stop
    tallies = [results.get(timeout=args.after + 120) for _ in workers]
    for process in workers:
        process.join(timeout=10)
    if feeds.processes:
        tallies.append(feeds.tally())
    server_cpu, busy, wall = cpu_since(marks, groups)
    final = presenter(server.url, "GET", f"/api/polls/{poll}?talk={talk}")
    room = verdict(
        phones, full, tallies, final, opened, closed, poll, server_cpu, busy, wall,
        stop - join_end + args.join / 2,
    )  # fmt: skip
    room["presenter_s"] = [round(s, 3) for s in presenter_s]  # the deck's open and close calls
    room["cpu_cores_decision"] = {  # the first BURST_SECONDS after the opening
        "server": round(burst[0] / burst[2], 2),
        "machine": round(burst[1] / burst[2], 2),
    }
    if failed:  # the deck's call got no answer within a minute: the room failed
        room["sustained"] = False
        room["errors"] += len(failed)
        for what in failed:
            room["error_kinds"][what] = room["error_kinds"].get(what, 0) + 1
    return room


SLICE_SECONDS = 5.0  # light phones join in slices this long; one wrk per slice


def light_slices(
    secret: str, first: int, end: int, join_start: float, join: float
) -> list[tuple[float, list[tuple[int, str, float]]]]:
    """Phones ``first`` .. ``end - 1``, light, by slice of the join: when the slice's wrk
    starts (its end), and its phones (number, signed voter cookie, time it joins).

    Each slice's phones join spread across it, so that wrk starts polling their feeds once
    they have loaded the page: what the room does, not ten thousand first feed requests at
    once at the end of the join.
    """
    from cyoa.voteserver import voters

    count = end - first
    if count <= 0:
        return []
    slices = max(1, min(count, round(join / SLICE_SECONDS)))
    width = join / slices
    rng = random.Random(first * 7919 + end)
    phones: list[list[tuple[int, str, float]]] = [[] for _ in range(slices)]
    for i, n in enumerate(range(first, end)):
        k = i % slices
        cookie = f"{voters.COOKIE_NAME}={voters.sign_voter(secret, f'w{n:012d}')}"
        phones[k].append((n, cookie, join_start + (k + rng.random()) * width))
    return [(join_start + (k + 1) * width, slice_) for k, slice_ in enumerate(phones)]


class LightFeeds:
    """wrk polling the light phones' feeds (bench/room.lua): one connection per phone, one
    wrk per slice of the join."""

    def __init__(self, port: int, fast_ms: float) -> None:
        self.port, self.fast_ms = port, fast_ms
        self.folder: Path | None = None
        self.processes: list[tuple[subprocess.Popen, Any]] = []

    def start(self, cookies: list[str], seconds: float) -> None:
        """Poll these phones' feeds for ``seconds`` from now."""
        if not shutil.which("wrk"):
            raise SystemExit("wrk is not installed (apt-get install wrk): it polls the feeds")
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="cyoa-room-wrk-"))
        n = len(self.processes)
        (self.folder / f"cookies{n}").write_text("\n".join(cookies) + "\n")
        out = (self.folder / f"out{n}").open("w+")
        process = subprocess.Popen(
            ["wrk", "-t", "1", "-c", str(len(cookies)), "-d", f"{max(1, round(seconds))}s",
             "--timeout", f"{TIMEOUT:g}s", "-s", str(ROOT / "bench" / "room.lua"),
             f"http://127.0.0.1:{self.port}/api/live", "--", str(self.folder / f"cookies{n}"),
             str(int(self.fast_ms))],
            stdout=out, stderr=subprocess.STDOUT, preexec_fn=raise_open_files,
        )  # fmt: skip
        self.processes.append((process, out))

    def tally(self) -> tuple[dict, float]:
        """What every wrk saw, as one load process's tally, and their CPU seconds."""
        tally, cpu = Tally(), 0.0
        for process, out in self.processes:
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            cpu += usage.ru_utime + usage.ru_stime
            out.seek(0)
            text = out.read()
            out.close()
            line = re.search(r"^WRK_RESULT (.*)$", text, re.M)
            if line is None:
                raise SystemExit(f"wrk said no result (exit {process.returncode}):\n{text}")
            seen = json.loads(line.group(1))
            kind = "live (wrk)"
            tally.requests[kind] = tally.requests.get(kind, 0) + seen["requests"]
            # its latency quantiles, each standing for 1 % of its requests (1 in 100 kept)
            weight = max(1, seen["requests"] // 10000)
            for value in seen["quantiles_ms"]:
                tally.latency.setdefault(kind, []).extend([value / 1000] * weight)
            for what in ("connect", "read", "write", "status", "timeout"):
                if seen[what]:
                    name = f"{kind}: {what}"
                    tally.errors[name] = tally.errors.get(name, 0) + seen[what]
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
        return tally.__dict__, cpu


def cpu_sample(groups: set[int]) -> tuple[float, float, float]:
    """CPU seconds of the server's process groups, of the whole machine, and the clock."""
    return cpu_ticks(groups, set()), machine_busy(), time.monotonic()


def cpu_since(sample: tuple[float, float, float], groups: set[int]) -> tuple[float, float, float]:
    """Server CPU, machine CPU and wall seconds since ``sample``."""
    now = cpu_sample(groups)
    return now[0] - sample[0], now[1] - sample[1], now[2] - sample[2]


def deck_call(base: str, method: str, path: str) -> list[str]:
    """The deck's open or close; what went wrong, if it did (the server may still do it)."""
    try:
        presenter(base, method, path)
    except requests.RequestException as error:
        return [f"presenter {path.split('?')[0]}: {type(error).__name__}"]
    return []


def verdict(
    phones: int,
    full: int,
    tallies: list[tuple[dict, float]],
    final: dict,
    opened: float,
    closed: float,
    poll: str,
    server_cpu: float,
    busy: float,
    wall: float,
    polling: float,
) -> dict:
    """Merge what the load processes saw and compare it with the poll's tally.

    ``polling``: the seconds the average phone polled (it joins half-way through the join,
    on average, and polls to the end), for the feed's rate;
    ``full``: the phones simulated one by one, on which the reach is timed (the others are
    light: wrk polls their feeds).
    """
    merged = Tally()
    load_cpu = 0.0
    for raw, cpu in tallies:
        load_cpu += cpu
        part = Tally(**raw)
        for name in ("requests", "statuses", "errors"):
            target = getattr(merged, name)
            for key, value in getattr(part, name).items():
                target[key] = target.get(key, 0) + value
        for key, values in part.latency.items():
            merged.latency.setdefault(key, []).extend(values)
        for key, values in part.seen.items():
            merged.seen.setdefault(key, []).extend(values)
        merged.final.update(part.final)
        merged.votes_sent += part.votes_sent
        merged.votes_acknowledged += part.votes_acknowledged
        merged.joined += part.joined
        merged.resent += part.resent

    reach = {}
    for what, key, since in (("open", f"open:{poll}", opened), ("close", f"closed:{poll}", closed)):
        times = [max(0.0, t - since) for t in merged.seen.get(key, [])]
        reach[what] = {
            "phones": len(times),
            "p50_s": round(percentile(times, 50), 3),
            "p95_s": round(percentile(times, 95), 3),
            "max_s": round(max(times, default=0.0), 3),
        }
    expected = {o["key"]: 0 for o in OPTIONS}
    for choice in merged.final.values():
        expected[choice] += 1
    counted = {o["key"]: o["votes"] for o in final["options"]}
    lost = sum(max(0, expected[k] - counted.get(k, 0)) for k in expected)
    extra = sum(max(0, counted.get(k, 0) - expected[k]) for k in expected)
    latency = {
        kind: {
            "requests": merged.requests.get(kind, len(values)),
            "p50_ms": round(percentile(values, 50) * 1000, 2),
            "p99_ms": round(percentile(values, 99) * 1000, 2),
        }
        for kind, values in sorted(merged.latency.items())
    }
    votes = merged.latency.get("vote (web)", []) + merged.latency.get("vote (SMS)", [])
    vote_p99 = percentile(votes, 99) * 1000
    errors = sum(merged.errors.values())
    live = merged.requests.get("live", 0) + merged.requests.get("live (wrk)", 0)
    ok = (
        merged.joined == phones
        and errors == 0
        and lost == 0
        and extra == 0
        and merged.votes_acknowledged == merged.votes_sent
        and reach["open"]["phones"] == full
        and reach["close"]["phones"] == full
        and max(reach["open"]["p95_s"], reach["close"]["p95_s"]) <= TARGET["reach_p95_s"]
        and vote_p99 < TARGET["vote_p99_ms"]
    )
    return {
        "phones": phones,
        "full_phones": full,
        "sustained": ok,
        "joined": merged.joined,
        "votes_sent": merged.votes_sent,
        "votes_acknowledged": merged.votes_acknowledged,
        "votes_counted": final["total"],
        "voters": len(merged.final),
        "lost": lost,
        "extra": extra,
        "errors": errors,
        "error_kinds": merged.errors,
        "resent": merged.resent,
        "reach": reach,
        "vote_p99_ms": round(vote_p99, 2),
        "latency": latency,
        "live_per_s": round(live / polling, 1) if polling else 0.0,
        "statuses": merged.statuses,
        "cpu_cores": {
            "server": round(server_cpu / wall, 2),
            "load": round(load_cpu / wall, 2),
            "machine": round(busy / wall, 2),
        },
        "server_us_per_request": round(server_cpu / max(1, sum(merged.requests.values())) * 1e6),
        "lag_p99_ms": round(percentile(merged.latency.get(LAG, []), 99) * 1000, 1),
    }


# -- what one request costs the server (wrk, closed loop) ----------------------------------
def feed_cost(args: argparse.Namespace, server: Server, env: dict[str, str], port: int) -> dict:
    """Server CPU per answered request, by route, with wrk saturating the server.

    Requests per second depend on what else the machine runs; the server's CPU time per
    request hardly does, so it is the figure to compare between trees (``--tree``).
    """
    from cyoa.voteserver import voters

    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    talk = f"room-cost-{secrets.token_hex(3)}"
    presenter(server.url, "POST", "/api/talks", {"talk": talk, "story": "bench"})
    body = {"question": "Which way?", "options": OPTIONS}
    presenter(server.url, "PUT", f"/api/polls/decision?talk={talk}", body)
    presenter(server.url, "POST", f"/api/polls/decision/open?talk={talk}")
    time.sleep(1.1)  # workers remember the current talk for a second
    secret = env["CYOA_SECRET_KEY"]
    cookie = f"{voters.COOKIE_NAME}={voters.sign_voter(secret, 'w' + secrets.token_hex(12))}"
    url = f"http://127.0.0.1:{port}"
    first = requests.get(url + "/api/live", headers={"Cookie": cookie}, timeout=10)
    if "ETag" not in first.headers:
        raise SystemExit(
            f"no ETag from {url}: {first.status_code} {first.headers} {first.text[:300]}"
        )
    etag = first.headers["ETag"]
    phases = {
        "GET /api/live": ["-H", f"Cookie: {cookie}"],
        "GET /api/live, If-None-Match": ["-H", f"Cookie: {cookie}", "-H", f"If-None-Match: {etag}"],
        "GET / (the page)": ["-H", f"Cookie: {cookie}", "-H", "Accept: text/html"],
    }
    out = {}
    for name, headers in phases.items():
        path = "/" if name.startswith("GET / ") else "/api/live"
        before = cpu_ticks({server.process.pid}, set())
        done = subprocess.run(
            ["wrk", "-t", "1", "-c", str(args.cost_connections), "-d", f"{args.cost_seconds}s",
             "--latency", *headers, url + path],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        used = cpu_ticks({server.process.pid}, set()) - before
        count = int(re.search(r"(\d+) requests in", done.stdout).group(1))
        p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", done.stdout)
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)] if p99 else 0.0
        out[name] = {
            "per_s": round(count / args.cost_seconds),
            "p99_ms": round(float(p99.group(1)) * scale, 2) if p99 else None,
            "server_us": round(used / max(1, count) * 1e6),
            "non_2xx": int(m.group(1))
            if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout))
            else 0,
        }
        print(
            f"{name:<32}{out[name]['per_s']:>8,}/s  p99 {out[name]['p99_ms']:>7} ms  "
            f"server CPU {out[name]['server_us']:>5} µs/request",
            flush=True,
        )
    return out


# -- nginx in front (deploy/cyoa-vote.nginx, as shipped) ----------------------------------
NGINX_CONF = """
daemon off;
worker_processes 2;
worker_rlimit_nofile 140000;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 65000; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
{site}
}}
"""


def start_nginx(root: Path, listen: int, upstream: int) -> subprocess.Popen:
    """The shipped site on loopback ports, its cache and files under ``root``."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        raise SystemExit("nginx is not installed (apt-get install nginx)")
    site = (ROOT / "deploy" / "cyoa-vote.nginx").read_text()
    for old, new in (
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};"),
        ("listen 80;", f"listen 127.0.0.1:{listen};"),
        ("listen [::]:80;", ""),
        ("/var/lib/nginx/cyoa-live", str(root / "cache")),
    ):
        site = site.replace(old, new)
    (root / "tmp").mkdir(parents=True)
    for folder in (root, *root.parents[:2]):  # nginx's workers (nobody) write the cache
        if str(folder).startswith(tempfile.gettempdir() + "/"):
            folder.chmod(0o755)
    conf = root / "nginx.conf"
    conf.write_text(NGINX_CONF.format(root=root, site=site))
    process = subprocess.Popen([nginx, "-c", str(conf), "-p", str(root)], start_new_session=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{listen}/healthz", timeout=1).ok:
                return process
        except requests.RequestException:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"nginx did not answer: {(root / 'error.log').read_text()}")


# -- the run ------------------------------------------------------------------------------
def group_affinity(pgid: int) -> list[int]:
    """The CPUs the processes of group ``pgid`` (the server, its workers, its Redis) may run
    on, read from the kernel: what pinning actually did."""
    if not hasattr(os, "sched_getaffinity"):
        return []
    cpus: set[int] = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                cpus |= os.sched_getaffinity(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return sorted(cpus)


def cpu_list(text: str) -> set[int]:
    """``"0"``, ``"0,1"`` or ``"0-3"``: CPU numbers, as taskset takes them."""
    cpus: set[int] = set()
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise argparse.ArgumentTypeError(f"not a CPU list: {text!r} (e.g. 0 or 0,1 or 0-3)")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def pin(cpus: set[int] | None) -> None:
    """Run this process, and every process it starts from now on, on ``cpus`` only.

    The server and the phones on separate cores: the server's figures are then its own, not
    shared with a load generator that takes what it needs from the same cores.
    """
    if not cpus:
        return
    if not hasattr(os, "sched_setaffinity"):
        raise SystemExit("--server-cpus and --phone-cpus need Linux (sched_setaffinity)")
    os.sched_setaffinity(0, cpus)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="How many phones cyoa serve keeps live.")
    parser.add_argument("--phones", default=DEFAULT_RAMP, help="room sizes to try, in order")
    parser.add_argument("--redis-url", default="", help="a Redis server instead of embedded")
    parser.add_argument("--workers", type=int, default=0, help="server workers (0: default)")
    parser.add_argument("--threads", type=int, default=0, help="server threads (0: default)")
    parser.add_argument("--procs", type=int, default=2, help="load processes")
    parser.add_argument(
        "--full",
        type=int,
        default=2000,
        help="phones simulated one by one (reach timed on them); wrk polls the rest's feeds",
    )
    parser.add_argument("--join", type=float, default=10.0, help="seconds over which phones join")
    parser.add_argument("--settle", type=float, default=6.0, help="seconds of polling, then open")
    parser.add_argument("--vote-window", type=float, default=20.0, help="seconds the poll is open")
    parser.add_argument("--after", type=float, default=5.0, help="seconds after the close")
    parser.add_argument("--sms-share", type=float, default=0.1)
    parser.add_argument("--change-share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--reach", type=float, default=TARGET["reach_p95_s"], help="seconds: p95 of the reach"
    )
    parser.add_argument(
        "--tree", type=Path, help="serve this source tree (e.g. `git archive HEAD`): before/after"
    )
    parser.add_argument(
        "--close-after-votes",
        action="store_true",
        help="close only once every phone has voted (not at the end of --vote-window)",
    )
    parser.add_argument(
        "--nginx", action="store_true", help="phones go through deploy/cyoa-vote.nginx"
    )
    parser.add_argument(
        "--cost", action="store_true", help="first, server CPU per request by route (wrk)"
    )
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the server, e.g. CYOA_PIN_WORKERS=0 (repeatable)",
    )
    parser.add_argument(
        "--server-cpus",
        type=cpu_list,
        help="run the server (and its Redis, nginx) on these CPUs only, e.g. 0 or 0-1",
    )
    parser.add_argument(
        "--phone-cpus", type=cpu_list, help="run the phones (and wrk) on these CPUs only, e.g. 1"
    )
    parser.add_argument("--cost-seconds", type=int, default=5)
    parser.add_argument("--cost-connections", type=int, default=32)
    parser.add_argument("--keep-going", action="store_true", help="try every size")
    parser.add_argument(
        "--tiny", action="store_true", help="one room of 24 phones (8 light), quickly"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    TARGET["reach_p95_s"] = args.reach
    if args.tiny:
        args.phones, args.procs, args.join, args.settle = "24", 1, 1.0, 1.0
        args.vote_window, args.after, args.keep_going = 6.0, 4.0, True
        args.sms_share = 0.25  # a few texts even among 24 phones
        args.full = 16  # and 8 light phones, whose feeds wrk polls
        args.close_after_votes = True
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="cyoa-room-"))
    try:
        return bench(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def bench(args: argparse.Namespace, work: Path) -> int:
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CYOA_", "TWILIO_"))}
    env.pop("REDIS_URL", None)
    env.update(
        PYTHONPATH=str(ROOT),
        CYOA_SECRET_KEY=secrets.token_urlsafe(32),
        CYOA_PRESENTER_TOKEN=TOKEN,
        TWILIO_AUTH_TOKEN=secrets.token_urlsafe(16),
        TWILIO_NUMBER="+15005550006",
        CYOA_PUBLIC_URL=public_url,
        # Every phone is 127.0.0.1 here (a venue's NAT is the real-world case): lift the
        # per-address rate; loopback is exempt from the voters-per-address cap anyway.
        CYOA_ADDRESS_RATE=str(10**9),
    )
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    for setting in args.server_env:
        name, equals, value = setting.partition("=")
        if not equals or not name:
            raise SystemExit(f"--server-env takes NAME=VALUE, not {setting!r}")
        env[name] = value
    if args.tree:  # cyoa.voteserver & co. from that tree, in every process granian starts
        site = work / "site"
        site.mkdir()
        tree = str(args.tree.resolve())
        (site / "sitecustomize.py").write_text(f"import cyoa\ncyoa.__path__.insert(0, {tree!r})\n")
        env["PYTHONPATH"] = f"{site}:{tree}"
    state = work / "state"
    argv = [sys.executable, "-m", "cyoa", "serve", "--port", str(port), "--state-dir", str(state)]
    if args.workers:
        argv += ["--workers", str(args.workers)]
    if args.threads:
        argv += ["--threads", str(args.threads)]
    if args.nginx:  # phones and Twilio reach nginx; the presenter calls the server itself
        front_port = free_port()
        env["CYOA_PUBLIC_URL"] = f"http://127.0.0.1:{front_port}"
        env["CYOA_TRUST_PROXY"] = "1"
    else:
        front_port = port
    everywhere = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    pin(args.server_cpus)  # the server's processes inherit it, and so do its Redis and nginx
    server = Server("cyoa serve", argv, env, work / "serve.log")
    nginx = None
    rooms_cost: dict = {}
    rooms: list[dict] = []
    try:
        server.wait_ready(timeout=180)  # a busy machine starts workers slowly
        if args.nginx:
            nginx = start_nginx(work / "nginx", front_port, port)
        pin(args.phone_cpus or (everywhere if args.server_cpus else None))  # load, wrk
        server_affinity = group_affinity(server.process.pid)
        client = redis.Redis.from_url(args.redis_url or f"unix://{state}/redis/redis.sock")
        previous = client.get(keys.current_talk())
        load_before = os.getloadavg()
        try:
            if args.cost:
                rooms_cost = feed_cost(args, server, env, front_port)
            for size in [int(n) for n in args.phones.split(",") if args.phones]:
                room = run_room(args, server, env, size, front_port)
                rooms.append(room)
                print_room(room)
                if not room["sustained"] and not args.keep_going:
                    break
        finally:
            if args.redis_url:
                talks = [t.decode() for t in client.zrange(keys.talks(), 0, -1)]
                for talk in talks:
                    if talk.startswith("room-"):
                        forget_talk(client, talk, previous)
            client.close()
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=20)
        server.stop()
    sustained = [r["phones"] for r in rooms if r["sustained"]]
    best = max(sustained, default=0)
    report = {
        "phones": best,
        "lost": sum(r["lost"] for r in rooms),
        "votes_sent": sum(r["votes_sent"] for r in rooms),
        "votes_counted": sum(r["votes_counted"] for r in rooms),
        "votes_acknowledged": sum(r["votes_acknowledged"] for r in rooms),
        "redis": "url" if args.redis_url else "embedded",
        "nginx": args.nginx,
        "cost": rooms_cost,
        "cadence_ms": Cadence.from_script(script(args)).__dict__,
        "tree": str(args.tree or ROOT),
        "target": TARGET,
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "cpus": os.cpu_count(),
        "server_env": args.server_env,
        "server_cpus": server_affinity,  # as the server's processes run: every CPU they may use
        "phone_cpus": sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [],
        "rooms": rooms,
    }
    print(summary(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    healthy = report["lost"] == 0 and all(r["extra"] == 0 for r in rooms)
    return 0 if healthy else 1


HEADER = (
    f"{'phones':>7}{'ok':>4}{'open p95':>10}{'close p95':>10}{'vote p99':>10}{'live p99':>10}"
    f"{'page p99':>10}{'lag p99':>10}{'live/s':>8}{'errors':>8}{'lost':>6}  CPU server/load/machine"
)


def print_room(room: dict) -> None:
    if not getattr(print_room, "headed", False):
        print(HEADER)
        print_room.headed = True  # type: ignore[attr-defined]
    lat = room["latency"]
    page = max(lat.get(k, {}).get("p99_ms", 0.0) for k in ("page (join)", "page (swap)"))
    cpu = room["cpu_cores"]
    live = max(lat.get(k, {}).get("p99_ms", 0.0) for k in ("live", "live (wrk)"))
    print(
        f"{room['phones']:>7,}{'yes' if room['sustained'] else 'NO':>4}"
        f"{room['reach']['open']['p95_s']:>9.2f}s{room['reach']['close']['p95_s']:>9.2f}s"
        f"{room['vote_p99_ms']:>8.1f}ms{live:>8.1f}ms"
        f"{page:>8.1f}ms{room['lag_p99_ms']:>8.1f}ms{room['live_per_s']:>8,.0f}{room['errors']:>8}{room['lost']:>6}"
        f"  {cpu['server']:.2f}/{cpu['load']:.2f}/{cpu['machine']:.2f}",
        flush=True,
    )
    burst = room.get("cpu_cores_decision")
    if burst:
        print(
            f"        the decision's first {BURST_SECONDS:g} s: server {burst['server']:.2f} "
            f"cores, machine {burst['machine']:.2f}",
            flush=True,
        )
    if room["error_kinds"]:
        print(f"        errors: {room['error_kinds']}", flush=True)
    if room.get("resent"):
        print(
            f"        sent again on a new connection (a reused one closed): {room['resent']:,}",
            flush=True,
        )


def summary(report: dict) -> str:
    rooms = report["rooms"]
    votes = f"{report['votes_acknowledged']:,} of {report['votes_sent']:,} votes acknowledged"
    return (
        f"\nlargest room sustained: {report['phones']:,} phones ({report['redis']} Redis, "
        f"{report['cpus']} CPUs, load {report['load_before'][0]:.1f} before, "
        f"{report['load_after'][0]:.1f} after); {votes}, tally {report['votes_counted']:,} "
        f"over {len(rooms)} room(s), lost {report['lost']}. Sustained: opening and close "
        f"reach 95 % of phones within {TARGET['reach_p95_s']:g} s, vote p99 < "
        f"{TARGET['vote_p99_ms']:g} ms, no error, nothing lost."
    )


if __name__ == "__main__":
    sys.exit(main())
