"""The page's live feed, ``GET /api/live``: one shared answer, answered before Flask.

Every phone in the room asks for the feed every second or two for the whole talk, so the
feed, not the vote, is the load (issue 12, ``bench/room.py``). The answer is the same for
every phone: the open poll (or, once nothing is open, the poll the phone remembers: its
script's ``?poll=``, else its ``cyoa_poll`` cookie) and its counts when they may be shown;
the phone's own choice stays on the phone. The answer describes the whole state (question,
options, counts, winner, the ending's link), so the page's script draws a poll that opens or
closes from it without loading the page again. So each worker of ``cyoa serve`` keeps one
snapshot per poll, rebuilt at most every ``SNAPSHOT_SECONDS`` by one of its threads, and
answers the feed from it on the event loop: no thread, no Flask, and a 304 for an unchanged
ETag that touches no Redis.

What a phone sees is at most ``SNAPSHOT_SECONDS`` (plus one Redis round trip) older than
Redis. A poll with a time limit is answered with its seconds left worked out at each request,
and its snapshot expires at the deadline, so it shows as closed at once. A phone seen for the
first time by this worker goes through Flask (its presence is marked in Redis before the
answer, so the presenter's phone count is right at once); later marks are batched.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs

import redis
from werkzeug.http import parse_cookie

from cyoa.voteserver import keys, voters
from cyoa.voteserver.extensions import REDIS_DOWN

if TYPE_CHECKING:
    from cyoa.voteserver.store import VoteStore

Send = Callable[[dict[str, Any]], Awaitable[None]]


class Threads(Protocol):
    """The front's worker threads (``front.WorkerThreads``): run a blocking job off the loop."""

    def call(self, job: Callable[[], Any]) -> asyncio.Future: ...


PATH = "/api/live"
LAST_POLL_COOKIE = "cyoa_poll"  # the poll this phone last saw open: shown "closed" after
POLL_PARAM = "poll"  # the same, from the page's script (it draws an opening: no page load)
BAD_POLL = "poll must be a poll id: 1-64 letters, digits, '.', '_' or '-'."
SNAPSHOT_SECONDS = 0.25  # how stale a worker's shared answer may be
SEEN_EVERY = 20.0  # seconds between presence marks of one polling phone (as the Flask view)
KEPT = 50_000  # phones (cookie headers, presence marks) a worker remembers before it forgets all
FLUSH_EVERY = 1.0  # seconds between batched presence marks
HEADERS = [
    (b"content-type", b"application/json"),
    # Every phone revalidates (ETag) at every poll; no shared cache may answer it for the
    # origin (a deployment's own nginx may: deploy/cyoa-vote.nginx keys it by the poll).
    (b"cache-control", b"no-cache"),
    (b"vary", b"Cookie"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class BadPoll(ValueError):
    """A ``?poll=`` that cannot name a poll: answered 400 with :data:`BAD_POLL`."""


@functools.lru_cache(maxsize=4096)  # a talk's few polls: the same few query strings all talk
def remembered_poll(query: str, cookie: str) -> str:
    """The poll a phone remembers: its script's ``?poll=``, else its ``cyoa_poll`` cookie.

    The script draws an opening from the feed, so no page load sets the cookie; it names the
    poll it saw open instead (docs/http.md, "The live feed"). An invalid cookie is ignored as
    before; an invalid ``?poll=`` raises :class:`BadPoll`.
    """
    values = parse_qs(query, keep_blank_values=True).get(POLL_PARAM) if query else None
    if values is None:
        return cookie if keys.valid_id(cookie) else ""
    if len(values) != 1 or (values[0] and not keys.valid_id(values[0])):
        raise BadPoll(BAD_POLL)
    return values[0]


def shared_view(store: VoteStore, talk: str, last_poll: str = "") -> dict[str, Any]:
    """The feed's answer, the same for every phone: the open poll, else ``last_poll`` (a
    phone's ``cyoa_poll`` cookie) if it exists, and its counts unless they are hidden.

    A phone shows the counts of an open poll only once it has voted (audience.js does).
    """
    return read_view(store, talk, last_poll)[0]


def read_view(store: VoteStore, talk: str, last_poll: str) -> tuple[dict[str, Any], float | None]:
    """:func:`shared_view` and, while a timed poll is open, its deadline (unix seconds).

    Needs the app context (the story's ending comes from the app's story).
    """
    from cyoa.voteserver.story_pages import end_view

    state = store.get_state(talk)
    end = end_view(state)  # the deck is on an ending: the link to the whole story
    if end is not None:
        return {"status": "end", "poll": None, "results": None, "end": end}, None
    poll_id = state.open_poll
    if not poll_id:
        poll_id = last_poll if keys.valid_id(last_poll) else ""
    results = store.results(talk, poll_id) if poll_id else None
    if results is None or results["status"] == "draft":
        return {"status": "waiting", "poll": None, "results": None}, None
    status = results["status"]
    hidden = results["hide_results"] and status == "open"
    view = {
        "status": status,
        "poll": {
            "id": poll_id,
            "question": results["question"],
            "options": [{"key": o["key"], "label": o["label"]} for o in results["options"]],
            "hide_results": results["hide_results"],
            "closes_in": results["closes_in"],  # seconds left of a time limit, while open
        },
        "results": None
        if hidden
        else {
            "votes": {o["key"]: o["votes"] for o in results["options"]},
            "total": results["total"],
            "winner": results["winner"],
        },
    }
    return view, results["closes_at"] if status == "open" else None


def encode(view: dict[str, Any]) -> tuple[bytes, str]:
    """The answer's bytes and its ETag (a digest of them, quoted)."""
    body = json.dumps(view, separators=(",", ":"), sort_keys=True).encode()
    return body, '"' + hashlib.blake2b(body, digest_size=9).hexdigest() + '"'


@dataclass(frozen=True)
class Snapshot:
    """One poll's shared answer in one worker, and until when it may be given."""

    view: dict[str, Any]
    body: bytes
    etag: str
    expires: float  # time.monotonic()
    closes_at: float | None  # an open timed poll's deadline (unix seconds), else None

    @classmethod
    def of(cls, view: dict[str, Any], closes_at: float | None, built: float) -> Snapshot:
        body, etag = encode(view)
        return cls(view, body, etag, built + SNAPSHOT_SECONDS, closes_at)

    def fresh(self) -> bool:
        return time.monotonic() < self.expires and (
            self.closes_at is None or time.time() < self.closes_at
        )

    def answer(self) -> tuple[bytes, str]:
        """The bytes for now: a timed poll's seconds left change as it counts down."""
        if self.closes_at is None:
            return self.body, self.etag
        view = dict(self.view)
        view["poll"] = dict(
            view["poll"], closes_in=round(max(0.0, self.closes_at - time.time()), 1)
        )
        return encode(view)


class LiveFeed:
    """``GET /api/live`` for one worker of ``cyoa serve``, on its event loop."""

    def __init__(self, app: Any, threads: Threads) -> None:
        self.app = app
        self.store: VoteStore = app.extensions["cyoa.store"]
        self.secret: str = app.config["CYOA"].secret_key
        self.threads = threads
        self.snapshots: dict[str, Snapshot] = {}
        self.building: dict[str, asyncio.Future] = {}
        self.seen: dict[str, float] = {}  # voter -> when this worker last marked it present
        self.cookies: dict[str, tuple[str | None, str]] = {}  # Cookie header -> what it says
        self.pending: set[str] = set()
        self.flushed = 0.0

    @classmethod
    def for_app(cls, app: Any, threads: Threads) -> LiveFeed | None:
        """The feed for a cyoa vote server; None for any other WSGI app (the benchmarks')."""
        extensions = getattr(app, "extensions", None)
        if not isinstance(extensions, dict) or "cyoa.store" not in extensions:
            return None
        return cls(app, threads)

    def handles(self, scope: dict[str, Any]) -> bool:
        return scope["path"] == PATH and scope["method"] in ("GET", "HEAD")

    async def __call__(self, scope: dict[str, Any], cookies: str, send: Send) -> str | None:
        """Answer the feed (None), or leave it to Flask: then the voter id this worker has
        not marked present yet is returned (Flask marks it; see :meth:`marked`)."""
        voter, poll_cookie = self.read_cookies(cookies)
        if voter and voter not in self.seen:
            return voter
        if voter:
            self.remember(voter)
        try:
            last = remembered_poll(scope.get("query_string", b"").decode("latin-1"), poll_cookie)
        except BadPoll:
            await bad_request(send, BAD_POLL)
            return None
        try:
            snapshot = await self.snapshot(last)
        except Exception:  # Redis down or slow: what the Flask view would answer
            await unavailable(send)
            return None
        body, etag = snapshot.answer()
        headers = [*HEADERS, (b"etag", etag.encode())]
        if etag in if_none_match(scope):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return None
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        content = b"" if scope["method"] == "HEAD" else body
        await send({"type": "http.response.body", "body": content})
        return None

    def read_cookies(self, header: str) -> tuple[str | None, str]:
        """The voter a Cookie header names (its signature checked) and its ``cyoa_poll``.

        A phone sends the same header at every poll, so each distinct header is parsed and
        its signature checked once per worker: that was a third of the feed's Python time in
        a room (bench/README.md, "Rooms"). A header that differs by a byte is a new key, read
        and checked afresh, so a forged cookie never borrows a verified one's answer.
        """
        known = self.cookies.get(header)
        if known is None:
            jar = parse_cookie(header) if header else {}
            voter = voters.read_voter(self.secret, jar.get(voters.COOKIE_NAME))
            known = (voter, jar.get(LAST_POLL_COOKIE, ""))
            if len(self.cookies) >= KEPT:
                self.cookies.clear()
            self.cookies[header] = known
        return known

    def marked(self, voter: str) -> None:
        """Flask answered this phone's feed and marked it present."""
        if len(self.seen) > KEPT:
            self.seen.clear()
        self.seen[voter] = time.monotonic()

    def remember(self, voter: str) -> None:
        """Mark a polling phone present again every ``SEEN_EVERY`` s, in batches."""
        now = time.monotonic()
        if now - self.seen[voter] >= SEEN_EVERY:
            self.seen[voter] = now
            self.pending.add(voter)
        if self.pending and now - self.flushed >= FLUSH_EVERY:
            batch, self.pending, self.flushed = self.pending, set(), now
            self.threads.call(lambda: self.mark(batch))

    def mark(self, batch: set[str]) -> None:
        """In a thread: one ZADD for the batch (a lost batch only ages a phone's mark)."""
        with contextlib.suppress(redis.RedisError):  # Redis down: the next marks in 20 s
            talk = self.store.current_talk_cached()
            self.store.redis.zadd(keys.talk_seen(talk), dict.fromkeys(batch, time.time()))

    async def snapshot(self, last: str) -> Snapshot:
        """The shared answer, rebuilt by one thread when stale; requests meanwhile wait."""
        snapshot = self.snapshots.get(last)
        if snapshot is not None and snapshot.fresh():
            return snapshot
        building = self.building.get(last)
        if building is None:
            building = self.threads.call(lambda: self.build(last))
            self.building[last] = building
            building.add_done_callback(lambda done: self.built(last, done))
        return await asyncio.shield(building)

    def build(self, last: str) -> Snapshot:
        """In a thread: read Redis for this poll's answer."""
        started = time.monotonic()
        with self.app.app_context():
            talk = self.store.current_talk_cached()
            return Snapshot.of(*read_view(self.store, talk, last), started)

    def built(self, last: str, done: asyncio.Future) -> None:
        self.building.pop(last, None)
        if done.cancelled() or done.exception() is not None:
            self.snapshots.pop(last, None)
            return
        if len(self.snapshots) > 256:  # one per poll of the talk; bound what cookies can add
            self.snapshots.clear()
        self.snapshots[last] = done.result()


def if_none_match(scope: dict[str, Any]) -> str:
    for key, value in scope["headers"]:
        if key.lower() == b"if-none-match":
            return value.decode("latin-1")
    return ""


async def bad_request(send: Send, message: str) -> None:
    await send_error(send, 400, message)


async def unavailable(send: Send) -> None:
    await send_error(send, 503, REDIS_DOWN, [(b"retry-after", b"2")])


async def send_error(
    send: Send, status: int, message: str, more: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A JSON ``{error}`` answer that no cache keeps, as the Flask views give it."""
    body = json.dumps({"error": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *(more or []),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
