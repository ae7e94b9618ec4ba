"""The Twilio SMS webhook: a text message becomes a vote on the talk's open poll.

Twilio signs every webhook (``X-Twilio-Signature``) over the URL it called. A text counts
only when signed, with ``TWILIO_AUTH_TOKEN`` or with the server's SMS rehearsal key (which
``cyoa sms`` and ``cyoa rehearse`` sign with): an unsigned webhook is a made-up ``From``
number, and a loop of them would outvote any room. A refusal is a 403 saying why, and one
throttled line on stderr. The voter is a keyed HMAC of the phone number (never the
number), a repeated ``MessageSid`` counts once, and replies are one plain GSM-7 segment
where possible. Nothing from the body is ever echoed back or used in a Redis key: the
parser only hands back the key of one of the poll's own options.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

import redis
from flask import Blueprint, Response, abort, current_app, request
from flask.blueprints import BlueprintSetupState
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from cyoa.voteserver.extensions import config_of, get_config, get_store
from cyoa.voteserver.logs import Throttled, server_logger
from cyoa.voteserver.rehearse import REHEARSAL_KEY_FILE
from cyoa.voteserver.settings import persistent_secret
from cyoa.voteserver.sms_parse import ParsedSms, parse_choice
from cyoa.voteserver.sources import SMS
from cyoa.voteserver.voters import phone_voter

if TYPE_CHECKING:
    from cyoa.voteserver.settings import Config
    from cyoa.voteserver.store import Option

bp = Blueprint("sms", __name__)
REFUSED = {
    "unsigned": (
        "Refused, not counted: this webhook carries no X-Twilio-Signature. A text counts only "
        "when signed: by Twilio (set TWILIO_AUTH_TOKEN on the vote server), or by cyoa sms / "
        "cyoa rehearse with the server's rehearsal key (the sms_rehearsal_key file in its "
        "state directory, or CYOA_SMS_REHEARSAL_KEY).\n"
    ),
    "forged": (
        "Refused, not counted: the X-Twilio-Signature matches neither TWILIO_AUTH_TOKEN nor "
        "the server's SMS rehearsal key. Check TWILIO_AUTH_TOKEN, and that CYOA_PUBLIC_URL is "
        "the exact URL Twilio calls (cyoa sms: --token and --sign-url).\n"
    ),
}
WHY = {  # the server's log line
    "unsigned": "no X-Twilio-Signature (texts count only when signed with TWILIO_AUTH_TOKEN "
    "or the SMS rehearsal key)",
    "forged": "its X-Twilio-Signature matches neither TWILIO_AUTH_TOKEN nor the SMS rehearsal "
    "key (or CYOA_PUBLIC_URL is not the URL Twilio calls)",
}
LOG = Throttled(server_logger("sms"))

SEGMENT = 160  # GSM-7 characters in one SMS segment
# A 1600-character emoji text is 6,400 UTF-8 bytes and ~19 KB form-encoded: more than the
# server's general body limit, yet a real message Twilio will post.
SMS_MAX_BODY = 48 * 1024
SID = re.compile(r"^[A-Za-z0-9]{1,64}$")
# The GSM 03.38 basic character set: text made only of these costs 1 char per character.
GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
HELP_TEXT = (
    "Talk voting: text the number or letter of an option while a question is on screen. "
    "Text again to change your vote. Reply STOP to opt out."
)
NO_POLL = "No question is open for votes right now. Text your choice when the next one appears."
CLOSED = "Voting on that question has closed. Watch for the next one!"
SLOW_DOWN = "Too many texts at once. Please wait a few seconds and try again."
PAUSED = "Sorry, voting is paused for a moment. Please text again shortly."


def twiml(message: str | None) -> Response:
    """A TwiML reply; ``None`` sends no SMS back."""
    reply = MessagingResponse()
    if message:
        reply.message(message)
    return Response(str(reply), mimetype="application/xml")


def gsm7(text: str, limit: int = SEGMENT) -> str:
    """``text`` folded to the GSM-7 basic set and cut to ``limit`` (one segment, no UCS-2)."""
    folded = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in folded if c in GSM7 and c not in "\r\n")
    plain = " ".join(plain.split())
    return plain if len(plain) <= limit else plain[: limit - 3].rstrip() + "..."


def choices_text(options: Sequence[Option], limit: int = SEGMENT) -> str:
    """ "Text 1 or 2: 1 Tinder for Pets, 2 Dachshund..." shortened until it fits."""
    keys = [gsm7(o.key, 20) for o in options]
    lead = "Text " + (", ".join(keys[:-1]) + " or " + keys[-1] if len(keys) > 1 else keys[0])
    for width in (60, 40, 24, 14, 8):
        listing = ", ".join(
            f"{k} {gsm7(o.label, width)}" for k, o in zip(keys, options, strict=True)
        )
        text = f"{lead} to vote: {listing}"
        if len(text) <= limit:
            return text
    return gsm7(f"{lead} to vote.", limit)


def vote_reply(outcome: str, option: Option | None, options: Sequence[Option]) -> str:
    """The short answer to a vote, by the store's outcome."""
    name = f"{gsm7(option.key, 20)} ({gsm7(option.label, 60)})" if option else ""
    replies = {
        "counted": f"Thanks! Your vote for {name} is in. Text another option to change it.",
        "duplicate": f"Thanks! Your vote for {name} is in.",
        "changed": f"Changed: your vote is now {name}.",
        "unchanged": f"You already voted for {name}.",
        "rate_limited": SLOW_DOWN,
        "not_open": CLOSED,
        "unknown_poll": CLOSED,
    }
    return gsm7(replies.get(outcome) or choices_text(options))


def signed_url() -> str:
    """The URL Twilio called: the configured public URL wins (tunnels, proxies)."""
    query = request.query_string.decode("latin-1")
    public = get_config().public_url
    base = public.rstrip("/") + request.path if public else request.base_url
    return f"{base}?{query}" if query else base


def rehearsal_key(config: Config) -> str:
    """The second signing key: ``CYOA_SMS_REHEARSAL_KEY``, else one kept in the state dir."""
    return config.sms_rehearsal_key or persistent_secret(config.state_dir, REHEARSAL_KEY_FILE)


@bp.record_once
def _keep_signing_keys(state: BlueprintSetupState) -> None:
    """Resolve the keys once per app: the rehearsal key's file exists from the start."""
    config = config_of(state.app)
    keys = [config.twilio_auth_token, rehearsal_key(config)]
    state.app.extensions["cyoa.sms_keys"] = tuple(k for k in keys if k)


def signature_problem() -> str:
    """Empty for a text signed with one of the app's keys, else ``unsigned`` or ``forged``."""
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return "unsigned"
    url, form = signed_url(), request.form
    keys = current_app.extensions["cyoa.sms_keys"]
    if any(RequestValidator(key).validate(url, form, signature) for key in keys):
        return ""
    return "forged"


def refuse(problem: str) -> Response:
    """403 with the reason in plain words, and one throttled line on the server's stderr."""
    LOG.warning(problem, f"refused an SMS webhook from {request.remote_addr}: {WHY[problem]}")
    response = Response(REFUSED[problem], status=403, mimetype="text/plain")
    response.headers["X-Cyoa-Outcome"] = problem
    return response


def _answer(message: str | None, outcome: str) -> Response:
    response = twiml(message)
    response.headers["X-Cyoa-Outcome"] = outcome  # for `cyoa rehearse` and tests
    return response


@bp.errorhandler(redis.RedisError)
def redis_down(error: redis.RedisError) -> Response:
    """Redis unreachable: the texter gets a reply (Twilio retries nothing on a 503)."""
    return _answer(PAUSED, "unavailable")


@bp.before_request
def allow_long_texts() -> None:
    """Raise the body limit for the webhook alone, so Twilio's longest texts get through."""
    limit = max(get_config().max_body, SMS_MAX_BODY)
    request.max_content_length = limit
    request.max_form_memory_size = limit


@bp.post("/sms")
def incoming() -> Response:
    """Twilio's webhook for an incoming text message."""
    config = get_config()
    problem = signature_problem()
    if problem:
        return refuse(problem)
    sender = request.form.get("From", "").strip()
    if not sender:
        abort(400, "a text message needs a From number")
    store = get_store()
    talk = store.current_talk()
    poll = store.get_state(talk).open_poll
    options = store.poll_options(talk, poll) if poll else []
    parsed: ParsedSms = parse_choice(request.form.get("Body", ""), options)
    if parsed.kind in ("optout", "optin"):
        return _answer(None, parsed.kind)  # Twilio answers these keywords itself
    if parsed.kind == "help":
        return _answer(HELP_TEXT, "help")
    if not poll or not options:
        return _answer(NO_POLL, "no_poll")
    if parsed.kind != "vote":
        return _answer(choices_text(options), "unknown")
    sid = request.form.get("MessageSid", "")
    result = store.cast_vote(
        talk,
        poll,
        phone_voter(config.secret_key, sender),
        parsed.key,
        # Signed texts all arrive from Twilio's few addresses (or the presenter's machine):
        # one source, neither capped nor rate-limited by address; the per-voter limit holds.
        address=SMS,
        sid=sid if SID.match(sid) else "",
        voter_limit=config.voter_rate,
        address_limit=10**9,
        window=config.rate_window,
    )
    stands = result.choice if result.outcome != "duplicate" else result.previous
    option = next((o for o in options if o.key == (stands or parsed.key)), None)
    return _answer(vote_reply(result.outcome, option, options), result.outcome)
