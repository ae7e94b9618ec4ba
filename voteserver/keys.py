"""Every Redis key name the vote server uses, built from one prefix.

A talk's keys carry the hash tag ``{talk}``; a poll's keys carry ``{talk:poll}``, so all the
keys one Lua script touches sit on one Redis Cluster slot.
"""

from __future__ import annotations

import re

PREFIX = "cyoa"
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def valid_id(value: str) -> bool:
    """Talk, poll and option ids are short and plain, so they are safe inside key names."""
    return bool(ID_PATTERN.match(value or ""))


def current_talk() -> str:
    return f"{PREFIX}:current-talk"


def talks() -> str:
    """Sorted set of every talk id, scored by its start time."""
    return f"{PREFIX}:talks"


def talk_info(talk: str) -> str:
    """Hash: story, started, and the deck's position (scene, path, open poll)."""
    return f"{PREFIX}:{{{talk}}}:state"


def talk_polls(talk: str) -> str:
    """Sorted set of the talk's poll ids, scored by creation time."""
    return f"{PREFIX}:{{{talk}}}:polls"


def talk_seen(talk: str) -> str:
    """Sorted set voter -> last time their phone loaded the page (audience estimate)."""
    return f"{PREFIX}:{{{talk}}}:seen"


def _poll(talk: str, poll: str, kind: str) -> str:
    return f"{PREFIX}:{{{talk}:{poll}}}:{kind}"


def poll_meta(talk: str, poll: str) -> str:
    """Hash: question, options (JSON), status, hide_results, scene, time_limit, closes_at
    (the deadline of an open timed poll), timestamps."""
    return _poll(talk, poll, "meta")


def poll_tally(talk: str, poll: str) -> str:
    """Hash option key -> votes; holds every option key, so HEXISTS validates a choice."""
    return _poll(talk, poll, "tally")


def poll_ballots(talk: str, poll: str) -> str:
    """Hash voter id -> option key: one ballot per voter, so HLEN is the total."""
    return _poll(talk, poll, "ballots")


def poll_sids(talk: str, poll: str) -> str:
    """Set of Twilio MessageSids already counted on this poll."""
    return _poll(talk, poll, "sids")


def poll_rate(talk: str, poll: str, kind: str, who: str, window: int) -> str:
    """Fixed-window rate counter for a voter or an address, on the poll's slot."""
    return _poll(talk, poll, f"rate:{kind}:{who}:{window}")


def poll_origin(talk: str, poll: str) -> str:
    """Hash voter id -> the source their ballot was first cast from (for a discard)."""
    return _poll(talk, poll, "origin")


def poll_sources(talk: str, poll: str) -> str:
    """Hash source -> ballots standing from it: the voters-per-address cap reads it."""
    return _poll(talk, poll, "sources")


def poll_refused(talk: str, poll: str) -> str:
    """Hash source -> new voters the voters-per-address cap refused."""
    return _poll(talk, poll, "refused")


def poll_blocked(talk: str, poll: str) -> str:
    """Hash source -> votes refused since the presenter discarded and blocked it."""
    return _poll(talk, poll, "blocked")


def poll_seconds(talk: str, poll: str) -> str:
    """Hash unix second -> new ballots counted in it (what shows a burst)."""
    return _poll(talk, poll, "seconds")
