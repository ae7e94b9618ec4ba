"""What stands out in a poll's votes: the presenter's view of its sources, and the alerts.

The store reads the raw counts (:class:`PollSources`); this module turns them into the
report of ``GET /api/polls/<poll>/sources`` and ``cyoa results``. Every threshold that
decides what "stands out" is here, with the reason for its value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cyoa.voteserver.sources import SMS

# One source holds a suspicious share of the ballots: at least SOURCE_SHARE of them and at
# least SOURCE_MIN. On a venue LAN every phone has its own address, so even a family of
# four sharing one phone's hotspot stays under a quarter of a room of twenty; the minimum
# keeps a tiny rehearsal (four laptops, two voters on one) quiet. Signed SMS are one source
# by construction and never stand out.
SOURCE_SHARE = 0.25
SOURCE_MIN = 5
# A burst: the busiest second holds at least BURST_SHARE of the poll's new ballots and at
# least BURST_MIN of them. A room needs 10-30 s to read a question and tap, so honest
# votes spread over many seconds; a script lands hundreds in one.
BURST_SHARE = 0.30
BURST_MIN = 20
# The report lists the busiest sources only: the presenter acts on the top few, and an
# internet audience may bring thousands of addresses.
LISTED = 50


@dataclass
class PollSources:
    """A poll's raw counts, as the store read them in one round trip."""

    poll: str
    status: str = "draft"
    override: int | None = None  # the presenter's cap for this poll, if any
    ballots: int = 0  # standing
    discarded: int = 0  # taken back by the presenter
    voters: dict[str, int] = field(default_factory=dict)  # source -> ballots standing
    refused: dict[str, int] = field(default_factory=dict)  # source -> refused by the cap
    blocked: dict[str, int] = field(default_factory=dict)  # source -> refused since blocked
    seconds: dict[int, int] = field(default_factory=dict)  # unix second -> new ballots


def kind_of(source: str, local: frozenset[str]) -> str:
    """``sms``, ``local`` (this machine, uncapped) or ``address``."""
    if source == SMS:
        return "sms"
    return "local" if source in local else "address"


def _votes(n: int) -> str:
    return "1 vote" if n == 1 else f"{n} votes"


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)} %" if whole else "0 %"


def alerts(raw: PollSources, local: frozenset[str] = frozenset()) -> list[str]:
    """Plain sentences for the presenter, most urgent first; empty when nothing stands out."""
    out = []
    capped = {s: n for s, n in raw.refused.items() if n > 0}
    if capped:
        total = sum(capped.values())
        names = ", ".join(sorted(capped, key=capped.get, reverse=True)[:3])
        sources = "1 source" if len(capped) == 1 else f"{len(capped)} sources"
        out.append(
            f"the cap refused {_votes(total)} from {sources} ({names}): if the room shares "
            "one connection, lift the cap"
        )
    tried = sum(raw.blocked.values())
    if tried:
        out.append(f"blocked sources tried {_votes(tried)} more")
    for source, n in sorted(raw.voters.items(), key=lambda item: -item[1]):
        if source == SMS or n < SOURCE_MIN or n < SOURCE_SHARE * raw.ballots:
            continue
        share = _share(n, raw.ballots)
        if source in local:
            out.append(
                f"{share} of the votes ({n} of {raw.ballots}) come through this machine "
                f"(source {source}, not capped): behind a tunnel or proxy, set "
                "CYOA_TRUST_PROXY so each phone counts as its own address"
            )
        else:
            out.append(
                f"one address holds {share} of the votes ({n} of {raw.ballots}, source {source})"
            )
    if raw.seconds:
        busiest = max(raw.seconds.values())
        cast = raw.ballots + raw.discarded
        if busiest >= BURST_MIN and busiest >= BURST_SHARE * cast:
            out.append(f"a burst: {busiest} votes in one second ({_share(busiest, cast)} of all)")
    return out


def report(
    raw: PollSources, default_cap: int | None, local: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The presenter's JSON: the cap in force, refusals, the busiest sources, the alerts."""
    names = set(raw.voters) | set(raw.refused) | set(raw.blocked)
    rows = [
        {
            "source": source,
            "kind": kind_of(source, local),
            "voters": raw.voters.get(source, 0),
            "refused": raw.refused.get(source, 0) + raw.blocked.get(source, 0),
            "blocked": source in raw.blocked,
        }
        for source in names
    ]
    rows.sort(key=lambda row: (-row["voters"], -row["refused"], row["source"]))
    busiest = max(raw.seconds.items(), key=lambda item: (item[1], -item[0]), default=None)
    cap = raw.override if raw.override is not None else default_cap
    return {
        "poll": raw.poll,
        "status": raw.status,
        "cap": cap,
        "cap_from": "poll" if raw.override is not None else "setting",
        "ballots": raw.ballots,
        "discarded": raw.discarded,
        "refused": sum(row["refused"] for row in rows),
        "sources": rows[:LISTED],
        "more_sources": max(0, len(rows) - LISTED),
        "busiest_second": {"at": busiest[0], "votes": busiest[1]} if busiest else None,
        "alerts": alerts(raw, local),
    }
