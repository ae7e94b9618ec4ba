"""The vote store: polls, ballots, tallies and the talk's state, all in Redis.

Redis is the only state, so any number of server processes on one Redis agree. The store
owns every key (see :mod:`voteserver.keys`) and every multi-key change is one Lua script
(see :mod:`voteserver.scripts`).
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from cyoa.voteserver import keys, scripts
from cyoa.voteserver.watch import PollSources, alerts

if TYPE_CHECKING:
    import redis

STATUSES = ("draft", "open", "closed")
TALK_CACHE_SECONDS = 1.0
AUDIENCE_WINDOW = 60  # seconds: a phone that loaded the page this recently is "here"


class StoreError(ValueError):
    """A request the store refuses; ``code`` becomes the HTTP status, ``error`` the message."""

    def __init__(self, error: str, code: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.code = code


@dataclass(frozen=True)
class Option:
    """One answer of a poll: the key the audience sends, its label, extra SMS words."""

    key: str
    label: str
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class VoteResult:
    """What happened to one vote; ``accepted`` is True when the ballot now stands."""

    outcome: str
    poll: str
    choice: str
    previous: str = ""

    @property
    def accepted(self) -> bool:
        return self.outcome in ("counted", "changed", "unchanged", "duplicate")


@dataclass
class TalkState:
    """The deck's position, shared by the projector, the presenter view and the phones."""

    talk: str
    story: str = ""
    scene: str = ""
    path: list[str] = field(default_factory=list)
    open_poll: str = ""
    updated: float = 0.0
    rehearsal: bool = False  # a rehearsal never becomes the live talk (cyoa present --rehearse)
    clock: float = 0.0  # when the presenter's clock started: the talk's start, or a restart

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value


class VoteStore:
    """All reads and writes of the vote server, on one Redis connection pool."""

    def __init__(self, client: redis.Redis, default_talk: str = "") -> None:
        self.redis = client
        self.default_talk = default_talk or "talk"
        self._talk_cache: tuple[str, float] = ("", 0.0)
        self._cast = client.register_script(scripts.CAST_VOTE)
        self._define = client.register_script(scripts.DEFINE_POLL)
        self._status = client.register_script(scripts.SET_STATUS)
        self._reset = client.register_script(scripts.RESET_POLL)
        self._set_cap = client.register_script(scripts.SET_CAP)
        self._discard = client.register_script(scripts.DISCARD_SOURCE)

    # -- talks ---------------------------------------------------------------------------
    def current_talk(self) -> str:
        """The talk the audience page and SMS apply to."""
        return _text(self.redis.get(keys.current_talk())) or self.default_talk

    def current_talk_cached(self, max_age: float = TALK_CACHE_SECONDS) -> str:
        """The current talk, remembered per process for ``max_age`` seconds: every phone's
        poll and vote asks for it, and it changes once per talk."""
        talk, expires = self._talk_cache
        now = time.monotonic()
        if now >= expires:
            talk = self.current_talk()
            self._talk_cache = (talk, now + max_age)
        return talk

    def start_talk(self, talk: str | None = None, story: str = "", rehearsal: bool = False) -> str:
        """Begin a new run of a story (or resume ``talk``) and make it the current talk.

        ``rehearsal`` marks a new talk as a rehearsal for good: resuming it keeps the mark.
        """
        talk = talk or time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
        if not keys.valid_id(talk):
            raise StoreError("talk ids are 1-64 letters, digits, '.', '_' or '-'")
        now = time.time()
        pipe = self.redis.pipeline()
        pipe.zadd(keys.talks(), {talk: now}, nx=True)
        pipe.hsetnx(keys.talk_info(talk), "started", now)
        pipe.hsetnx(keys.talk_info(talk), "rehearsal", int(rehearsal))
        if story:
            pipe.hset(keys.talk_info(talk), "story", story)
        pipe.set(keys.current_talk(), talk)
        pipe.execute()
        self._talk_cache = ("", 0.0)  # this process sees the new talk at once
        return talk

    def list_talks(self) -> list[dict[str, Any]]:
        rows = self.redis.zrange(keys.talks(), 0, -1, withscores=True)
        return [{"talk": _text(t), "started": score} for t, score in rows]

    def get_state(self, talk: str) -> TalkState:
        raw = {_text(k): _text(v) for k, v in self.redis.hgetall(keys.talk_info(talk)).items()}
        return TalkState(
            talk=talk,
            story=raw.get("story", ""),
            scene=raw.get("scene", ""),
            path=json.loads(raw["path"]) if raw.get("path") else [],
            open_poll=raw.get("open_poll", ""),
            updated=float(raw.get("updated") or 0),
            rehearsal=raw.get("rehearsal") == "1",
            clock=float(raw.get("clock") or raw.get("started") or 0),
        )

    def restart_clock(self, talk: str) -> TalkState:
        """Start the presenter's clock again from now (after a rehearsal run-through)."""
        self.redis.hset(keys.talk_info(talk), "clock", time.time())
        return self.get_state(talk)

    def put_state(
        self, talk: str, scene: str, path: list[str] | None = None, story: str | None = None
    ) -> TalkState:
        """Record where the deck is; the path so far lets a reloaded deck resume."""
        mapping: dict[str, Any] = {"scene": scene, "updated": time.time()}
        if path is not None:
            mapping["path"] = json.dumps(list(path))
        if story is not None:
            mapping["story"] = story
        pipe = self.redis.pipeline()
        pipe.zadd(keys.talks(), {talk: time.time()}, nx=True)
        pipe.hset(keys.talk_info(talk), mapping=mapping)
        pipe.execute()
        return self.get_state(talk)

    # -- polls ---------------------------------------------------------------------------
    def _poll_keys(self, talk: str, poll: str) -> list[str]:
        return [
            keys.poll_meta(talk, poll),
            keys.poll_tally(talk, poll),
            keys.poll_ballots(talk, poll),
            keys.poll_sids(talk, poll),
        ]

    def define_poll(
        self,
        talk: str,
        poll: str,
        question: str,
        options: list[Option],
        hide_results: bool = False,
        scene: str = "",
        time_limit: int | None = None,
    ) -> str:
        """Create or update a poll (idempotent); returns ``created`` or ``updated``.

        ``time_limit``: seconds from each open to the close (see ``scripts.SET_STATUS``).
        """
        if not keys.valid_id(poll):
            raise StoreError("poll ids are 1-64 letters, digits, '.', '_' or '-'")
        if not 2 <= len(options) <= 9:
            raise StoreError("a poll needs 2 to 9 options")
        option_keys = [o.key for o in options]
        if len(set(option_keys)) != len(option_keys):
            raise StoreError("option keys must be unique")
        if any(not keys.valid_id(k) for k in option_keys):
            raise StoreError("option keys are short letters or digits")
        payload = json.dumps(
            [{"key": o.key, "label": o.label, "words": list(o.words)} for o in options]
        )
        now = time.time()
        (outcome,) = self._define(
            keys=self._poll_keys(talk, poll)[:3],
            args=[
                question,
                payload,
                int(hide_results),
                scene,
                now,
                "" if time_limit is None else int(time_limit),
                *option_keys,
            ],
        )
        outcome = _text(outcome)
        if outcome == "has_votes":
            raise StoreError("this poll has votes: reset it before changing its options", 409)
        self.redis.zadd(keys.talk_polls(talk), {poll: now}, nx=True)
        return outcome

    def _meta(self, talk: str, poll: str) -> dict[str, str]:
        raw = self.redis.hgetall(keys.poll_meta(talk, poll))
        return {_text(k): _text(v) for k, v in raw.items()}

    def poll_options(self, talk: str, poll: str) -> list[Option]:
        meta = self._meta(talk, poll)
        return [
            Option(o["key"], o["label"], tuple(o.get("words", ())))
            for o in json.loads(meta.get("options") or "[]")
        ]

    def open_poll(self, talk: str, poll: str) -> None:
        """Open a poll; the talk's previously open poll closes (one open poll per talk)."""
        state = self.get_state(talk)
        if state.open_poll and state.open_poll != poll:
            self._status(keys=[keys.poll_meta(talk, state.open_poll)], args=["closed", time.time()])
        if not self._status(keys=[keys.poll_meta(talk, poll)], args=["open", time.time()]):
            raise StoreError("no such poll", 404)
        self.redis.hset(keys.talk_info(talk), "open_poll", poll)
        talk_cap = self.redis.hget(keys.talk_info(talk), "voters_per_address")
        if talk_cap is not None:  # the presenter's cap for the whole talk
            self._set_cap(keys=[keys.poll_meta(talk, poll)], args=[int(talk_cap)])

    def close_poll(self, talk: str, poll: str) -> None:
        if not self._status(keys=[keys.poll_meta(talk, poll)], args=["closed", time.time()]):
            raise StoreError("no such poll", 404)
        state = self.get_state(talk)
        if state.open_poll == poll:
            self.redis.hset(keys.talk_info(talk), "open_poll", "")

    def reset_poll(self, talk: str, poll: str) -> None:
        """Forget every vote of a poll (a rehearsal before the real talk); an open timed
        poll gets its whole time again."""
        poll_keys = self._poll_keys(talk, poll) + self._source_keys(talk, poll)
        if not self._reset(keys=poll_keys, args=[time.time()]):
            raise StoreError("no such poll", 404)

    def results(self, talk: str, poll: str) -> dict[str, Any] | None:
        """The results shape of docs/http.md, or None for an unknown poll.

        ``closes_in`` (seconds left, while a poll with a time limit is open) is worked out
        at the read, so a phone or a deck on another clock counts down from its own."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(keys.poll_meta(talk, poll))
        pipe.hgetall(keys.poll_tally(talk, poll))
        raw_meta, raw_tally = pipe.execute()
        if not raw_meta:
            return None
        meta = {_text(k): _text(v) for k, v in raw_meta.items()}
        tally = {_text(k): int(v) for k, v in raw_tally.items()}
        options = [
            {"key": o["key"], "label": o["label"], "votes": tally.get(o["key"], 0)}
            for o in json.loads(meta.get("options") or "[]")
        ]
        total = sum(o["votes"] for o in options)
        now = time.time()
        status = poll_status(meta, now)
        closes_at = float(meta["closes_at"]) if meta.get("closes_at") else None
        return {
            "poll": poll,
            "question": meta.get("question", ""),
            "status": status,
            "options": options,
            "total": total,
            "winner": leader(options) if status == "closed" else None,
            "hide_results": meta.get("hide_results") == "1",
            "scene": meta.get("scene", ""),
            "time_limit": int(meta["time_limit"]) if meta.get("time_limit") else None,
            "closes_at": closes_at,
            "closes_in": (
                round(max(0.0, closes_at - now), 1)
                if closes_at is not None and status == "open"
                else None
            ),
        }

    def ballot(self, talk: str, poll: str, voter: str) -> str:
        """The option this voter stands on in this poll, or ""."""
        return _text(self.redis.hget(keys.poll_ballots(talk, poll), voter))

    def list_polls(self, talk: str) -> list[str]:
        return [_text(p) for p in self.redis.zrange(keys.talk_polls(talk), 0, -1)]

    # -- votes ---------------------------------------------------------------------------
    @staticmethod
    def _source_keys(talk: str, poll: str) -> list[str]:
        return [
            keys.poll_origin(talk, poll),
            keys.poll_sources(talk, poll),
            keys.poll_refused(talk, poll),
            keys.poll_blocked(talk, poll),
            keys.poll_seconds(talk, poll),
        ]

    def cast_vote(
        self,
        talk: str,
        poll: str,
        voter: str,
        choice: str,
        *,
        address: str = "-",
        sid: str = "",
        voter_limit: int = 20,
        address_limit: int = 3000,
        window: int = 10,
        cap: int = 0,
        capped: bool = False,
    ) -> VoteResult:
        """Count, move or refuse one ballot, atomically (see ``scripts.CAST_VOTE``).

        ``address`` is the vote's source id (:mod:`voteserver.sources`); when ``capped``, a
        new voter is refused once ``cap`` voters (or the poll's own cap) stand from it.
        """
        if not keys.valid_id(poll) or not keys.valid_id(choice):
            return VoteResult(
                "unknown_poll" if not keys.valid_id(poll) else "bad_choice", poll, choice
            )
        now = time.time()
        slot = int(now // window)
        outcome, previous = self._cast(
            keys=[
                *self._poll_keys(talk, poll),
                keys.poll_rate(talk, poll, "v", voter, slot),
                keys.poll_rate(talk, poll, "a", address, slot),
                *self._source_keys(talk, poll),
            ],
            args=[
                voter,
                choice,
                sid,
                voter_limit,
                address_limit,
                window,
                address,
                max(0, cap),
                int(capped),
                int(now),
                now,
            ],
        )
        return VoteResult(_text(outcome), poll, choice, _text(previous))

    # -- moderation ----------------------------------------------------------------------
    def poll_sources(self, talk: str, poll: str) -> PollSources | None:
        """A poll's counts by source (ballots, refusals, blocks, per second), or None."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hgetall(keys.poll_meta(talk, poll))
        pipe.hlen(keys.poll_ballots(talk, poll))
        for key in self._source_keys(talk, poll)[1:]:  # sources, refused, blocked, seconds
            pipe.hgetall(key)
        raw_meta, ballots, *counts = pipe.execute()
        if not raw_meta:
            return None
        meta = {_text(k): _text(v) for k, v in raw_meta.items()}
        by_source = [{_text(k): int(v) for k, v in c.items()} for c in counts]
        override = meta.get("voters_per_address")
        return PollSources(
            poll=poll,
            status=poll_status(meta, time.time()),
            override=int(override) if override not in (None, "") else None,
            ballots=int(ballots),
            discarded=int(meta.get("discarded") or 0),
            voters={s: n for s, n in by_source[0].items() if n > 0},
            refused=by_source[1],
            blocked=by_source[2],
            seconds={int(k): n for k, n in by_source[3].items()},
        )

    def set_cap(self, talk: str, poll: str, cap: int, whole_talk: bool = False) -> None:
        """The presenter's voters-per-address cap for this poll (0 lifts it); with
        ``whole_talk``, also for every poll of the talk opened after this."""
        if not self._set_cap(keys=[keys.poll_meta(talk, poll)], args=[cap]):
            raise StoreError("no such poll", 404)
        if whole_talk:
            self.redis.hset(keys.talk_info(talk), "voters_per_address", cap)

    def discard_source(self, talk: str, poll: str, source: str) -> int:
        """Take back every ballot first cast from ``source`` in this poll and block it;
        returns how many ballots went (see ``scripts.DISCARD_SOURCE``)."""
        origin, voters, _, blocked, _ = self._source_keys(talk, poll)
        removed = self._discard(
            keys=[
                keys.poll_meta(talk, poll),
                keys.poll_tally(talk, poll),
                keys.poll_ballots(talk, poll),
                origin,
                voters,
                blocked,
            ],
            args=[source],
        )
        if int(removed) < 0:
            raise StoreError("no such poll", 404)
        return int(removed)

    # -- audience ------------------------------------------------------------------------
    def mark_seen(self, talk: str, voter: str) -> None:
        now = time.time()
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(keys.talk_seen(talk), {voter: now})
        pipe.zremrangebyscore(keys.talk_seen(talk), 0, now - 10 * AUDIENCE_WINDOW)
        pipe.execute()

    def audience(self, talk: str) -> int:
        """Phones that loaded the page in the last minute (the deck's "143 joined")."""
        return int(self.redis.zcount(keys.talk_seen(talk), time.time() - AUDIENCE_WINDOW, "+inf"))

    # -- after the talk ------------------------------------------------------------------
    def export(self, talk: str) -> dict[str, Any]:
        """Every poll's final tally and the path taken, for ``cyoa results`` and the site."""
        state = self.get_state(talk)
        polls = [r for r in (self.results(talk, p) for p in self.list_polls(talk)) if r]
        for poll in polls:  # what the presenter should know about each poll's votes
            counts = self.poll_sources(talk, poll["poll"]) or PollSources(poll["poll"])
            poll["refused"] = sum(counts.refused.values()) + sum(counts.blocked.values())
            poll["alerts"] = alerts(counts)
        return {
            "talk": talk,
            "story": state.story,
            "path": state.path,
            "scene": state.scene,
            "polls": polls,
        }

    def export_csv(self, talk: str) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "talk",
                "poll",
                "scene",
                "question",
                "status",
                "option",
                "label",
                "votes",
                "total",
                "winner",
            ]
        )
        for poll in self.export(talk)["polls"]:
            for option in poll["options"]:
                writer.writerow(
                    [
                        talk,
                        poll["poll"],
                        poll["scene"],
                        poll["question"],
                        poll["status"],
                        option["key"],
                        option["label"],
                        option["votes"],
                        poll["total"],
                        poll["winner"] or "",
                    ]
                )
        return out.getvalue()

    def ping(self) -> bool:
        return bool(self.redis.ping())


def poll_status(meta: dict[str, str], now: float) -> str:
    """A poll's status as voters meet it: an open poll past its deadline is closed, since
    the vote script refuses every vote from then on, whether or not anyone closed it."""
    status = meta.get("status", "draft")
    closes_at = meta.get("closes_at")
    if status == "open" and closes_at and now >= float(closes_at):
        return "closed"
    return status


def leader(options: list[dict[str, Any]]) -> str | None:
    """The single option with the most votes; None when nobody voted or on a tie."""
    if not options:
        return None
    best = max(o["votes"] for o in options)
    leaders = [o["key"] for o in options if o["votes"] == best]
    return leaders[0] if best > 0 and len(leaders) == 1 else None
