"""One web vote: the checks and the store call, with no web framework in the way.

The Flask view (plain form posts, JavaScript off) and the WSGI fast path (the page's
``fetch``, JSON) both call :func:`cast_web_vote`, so the rules live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from cyoa.voteserver import sources, voters
from cyoa.voteserver.logs import Throttled, server_logger
from cyoa.voteserver.settings import Config
from cyoa.voteserver.store import VoteResult, VoteStore

# Outcome of a vote -> (HTTP status for JSON clients, message code for the page).
OUTCOMES = {
    "counted": (200, "counted"),
    "changed": (200, "changed"),
    "unchanged": (200, "unchanged"),
    "duplicate": (200, "unchanged"),
    "not_open": (409, "closed"),
    "unknown_poll": (404, "unknown"),
    "bad_choice": (400, "bad_choice"),
    "rate_limited": (429, "slow"),
    "address_full": (403, "full"),
    "blocked": (403, "blocked"),
}
# Message codes travel in the query string (?m=); only these fixed texts are ever shown.
MESSAGES = {
    "counted": ("ok", "Thanks! Your vote is counted."),
    "changed": ("ok", "Your vote is changed."),
    "unchanged": ("ok", "That was already your vote."),
    "closed": ("error", "Not counted: voting on that question has closed."),
    "unknown": ("error", "Not counted: that question is no longer open."),
    "bad_choice": ("error", "Not counted: that is not one of the options."),
    "slow": ("error", "Too many votes from this phone just now. Wait a few seconds, then tap."),
    "expired": ("error", "Not counted: this page had expired. Please tap your choice again."),
    "forbidden": ("error", "Not counted: votes must come from this page."),
    "full": (
        "error",
        "Not counted: enough phones on this network have voted on this question already. "
        "If the whole room shares one connection, tell the speaker: they can lift the limit.",
    ),
    "blocked": (
        "error",
        "Not counted: the speaker set aside the votes from this network for this question.",
    ),
}
REFUSALS = Throttled(server_logger("votes"))


@dataclass(frozen=True)
class WebVote:
    """What a vote request carries, read from Flask's request or from the WSGI environ."""

    cookie: str | None
    csrf: str | None
    poll: str
    choice: str
    host: str
    remote_addr: str
    origin: str | None = None
    fetch_site: str = ""


@dataclass(frozen=True)
class VoteAnswer:
    """The verdict: HTTP status, message code, the store's result when it got that far."""

    status: int
    code: str
    result: VoteResult | None = None
    retry_after: int | None = None

    @property
    def message(self) -> str:
        return MESSAGES[self.code][1]


def origin_ok(vote: WebVote, public_url: str) -> bool:
    """Refuse votes that a browser says come from another site (CSRF, defence in depth).

    Only the host is compared, not the scheme: a TLS proxy in front may make the app see
    ``http`` while the phone sent ``https``; another host is what marks a foreign site.
    """
    if vote.fetch_site.lower() == "cross-site":
        return False
    if vote.origin is None:
        return True  # older browsers and scripts: the CSRF token still has to match
    allowed = {vote.host.lower()}
    if public_url:
        allowed.add(urlsplit(public_url).netloc.lower())
    try:
        origin = urlsplit(vote.origin).netloc.lower()
    except ValueError:  # "http://[": not a URL any browser sends, so not this page
        return False
    return origin in allowed


def cast_web_vote(config: Config, store: VoteStore, talk: str, vote: WebVote) -> VoteAnswer:
    """Check origin, cookie and CSRF token, then count, change or refuse the vote."""
    if not origin_ok(vote, config.public_url):
        return VoteAnswer(403, "forbidden")
    voter = voters.read_voter(config.secret_key, vote.cookie)
    if voter is None or not voters.check_csrf(config.secret_key, voter, vote.csrf):
        return VoteAnswer(403, "expired")
    source = sources.source_of(config.secret_key, vote.remote_addr or "-")
    result = store.cast_vote(
        talk,
        vote.poll,
        voter,
        vote.choice,
        address=source.id,
        voter_limit=config.voter_rate,
        address_limit=config.address_rate,
        window=config.rate_window,
        cap=config.voters_per_address,
        capped=source.capped,
    )
    if result.outcome in ("address_full", "blocked"):
        why = "the voters-per-address cap" if result.outcome == "address_full" else "a block"
        REFUSALS.warning(
            result.outcome,
            f"{why} refused a vote on poll {vote.poll} from {vote.remote_addr} "
            f"(source {source.id}): GET /api/polls/{vote.poll}/sources shows every source",
        )
    status, code = OUTCOMES.get(result.outcome, (400, "bad_choice"))
    retry = config.rate_window if status == 429 else None
    return VoteAnswer(status, code, result, retry)
