"""A simulated audience, so a presenter can rehearse without a room full of phones.

``send_sms`` posts one text message to a running server exactly as Twilio would (form
fields, ``X-Twilio-Signature``); ``rehearse`` sends a crowd of web and SMS voters at the
open poll from threads and counts what the server accepted. Both speak only HTTP, so they
work against a laptop, a tunnel or a VPS alike.

The server counts only signed texts. Without a Twilio token, :func:`signing_key` finds the
server's SMS rehearsal key in the state directory that ``cyoa serve``/``cyoa present`` use
on this machine. The simulated web voters all come from this machine's address: the
server does not cap 127.0.0.1 (see :mod:`voteserver.sources`), but a remote server caps
them like any shared connection, and the summary says so.
"""

from __future__ import annotations

import os
import random
import secrets
import time
import xml.etree.ElementTree as ET
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.request_validator import RequestValidator

ACCEPTED = frozenset({"counted", "changed", "unchanged", "duplicate"})
TIMEOUT = 10.0
REHEARSAL_KEY_FILE = "sms_rehearsal_key"  # in the server's state dir (voteserver.sms)


class RehearsalError(RuntimeError):
    """Something the presenter must fix first (server down, no open poll)."""


def unreachable(url: str, error: requests.RequestException) -> str:
    """One line for a vote server that did not answer, without urllib3's stack of reprs."""
    if isinstance(error, requests.Timeout):
        why = "no answer in time"
    elif isinstance(error, requests.ConnectionError):
        refused = "refused" in str(error).lower()
        why = "connection refused" if refused else "cannot connect"
    else:
        why = type(error).__name__
    return (
        f"cannot reach the vote server at {url} ({why}): is it running "
        "(cyoa present, or cyoa serve), and is the URL right?"
    )


@dataclass(frozen=True)
class SmsReply:
    """The server's answer to one text: HTTP status, outcome header and the reply's text."""

    status: int
    outcome: str
    text: str


@dataclass(frozen=True)
class SigningKey:
    """The key texts are signed with ("" for none) and where it came from, for messages."""

    key: str
    origin: str


def signing_key(token: str = "", state_dir: str = "") -> SigningKey:
    """``token`` (``--token``/``TWILIO_AUTH_TOKEN``), else ``CYOA_SMS_REHEARSAL_KEY``, else
    the rehearsal key file in ``state_dir`` (``CYOA_STATE_DIR``, else the default one).

    The file is read, never created: a key made here would match no server.
    """
    if token:
        return SigningKey(token, "the given token")
    if os.environ.get("CYOA_SMS_REHEARSAL_KEY"):
        return SigningKey(os.environ["CYOA_SMS_REHEARSAL_KEY"], "CYOA_SMS_REHEARSAL_KEY")
    from cyoa.voteserver.settings import default_state_dir

    folder = state_dir or os.environ.get("CYOA_STATE_DIR") or str(default_state_dir())
    path = Path(folder) / REHEARSAL_KEY_FILE
    try:
        key = path.read_text().strip()
    except OSError:
        key = ""
    if not key:
        return SigningKey("", f"no key: no --token, TWILIO_AUTH_TOKEN, or {path}")
    return SigningKey(key, f"the rehearsal key in {path}")


def sms_url(url: str) -> str:
    """Accept a base URL (``http://host:8000``) or the webhook's own URL."""
    parts = urlsplit(url if "://" in url else "http://" + url)
    path = parts.path.rstrip("/")
    if not path.endswith("/sms"):
        path += "/sms"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


def twilio_form(body: str, sender: str, to: str = "+15005550006", sid: str = "") -> dict:
    """The fields Twilio posts for an incoming SMS (it may add more without notice)."""
    sid = sid or new_sid()
    return {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "FromCountry": "US",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "To": to,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def reply_text(xml: str) -> str:
    """The text of every ``<Message>`` in a TwiML reply ("" for an empty ``<Response/>``)."""
    try:
        root = ET.fromstring(xml)  # noqa: S314 - a small reply from the server we called
    except ET.ParseError:
        return xml.strip()[:500]
    return "\n".join("".join(m.itertext()).strip() for m in root.iter("Message"))


def send_sms(
    url: str,
    body: str,
    sender: str = "+15555550100",
    token: str = "",
    sid: str = "",
    sign_url: str = "",
    session: requests.Session | None = None,
) -> SmsReply:
    """Post one signed fake Twilio webhook; ``sign_url`` is the URL Twilio would sign."""
    target = sms_url(url)
    form = twilio_form(body, sender, sid=sid)
    headers = {"User-Agent": "TwilioProxy/1.1 (cyoa rehearsal)"}
    if token:
        signed = sms_url(sign_url) if sign_url else target
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(signed, form)
    response = (session or requests).post(target, data=form, headers=headers, timeout=TIMEOUT)
    outcome = response.headers.get("X-Cyoa-Outcome", "")
    text = reply_text(response.text) if response.ok else response.text.strip()[:600]
    return SmsReply(response.status_code, outcome, text)


class _FormReader(HTMLParser):
    """Collects the audience form's hidden inputs and choice buttons, as a browser would:
    what lies inside a ``<template>`` (markup the page's script draws from) is no form."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.choices: list[str] = []
        self.in_template = 0

    def handle_endtag(self, tag: str) -> None:
        if tag == "template" and self.in_template:
            self.in_template -= 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "template":
            self.in_template += 1
        if self.in_template:
            return
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name") in ("poll", "csrf"):
            self.fields[a["name"]] = a.get("value", "")
        if tag in ("button", "input") and a.get("name") == "choice" and a.get("value"):
            self.choices.append(a["value"])


def read_form(html: str) -> _FormReader:
    reader = _FormReader()
    reader.feed(html)
    return reader


@dataclass
class Summary:
    """What a rehearsal sent and what the server kept."""

    poll: str
    labels: dict[str, str]
    voters: int = 0
    web: int = 0
    sms: int = 0
    sent: int = 0
    accepted: int = 0
    by_option: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    server: dict | None = None

    def lines(self) -> list[str]:
        by_option = ", ".join(
            f"{k} {self.labels[k]}: {self.by_option.get(k, 0)}" for k in self.labels
        )
        refused = ", ".join(f"{why} x{n}" for why, n in self.refused.most_common())
        out = [
            f"rehearsal on poll {self.poll!r}: {self.voters} voters "
            f"({self.web} web, {self.sms} SMS) in {self.seconds:.1f} s",
            f"  sent:      {self.sent} requests",
            f"  accepted:  {self.accepted} voters",
            f"  refused:   {sum(self.refused.values())} requests"
            + (f" ({refused})" if refused else ""),
            f"  by option: {by_option}",
        ]
        if self.server:
            tally = ", ".join(f"{o['key']}: {o['votes']}" for o in self.server["options"])
            out.append(f"  server:    total {self.server['total']} ({tally})")
        out += self.hints()
        return out

    def hints(self) -> list[str]:
        """What to do about the refusals a presenter can fix."""
        out = []
        if any(why.startswith("web 403 full") for why in self.refused):
            out.append(
                "  hint:      the server caps voters per address and every simulated phone "
                "comes from this machine: lift it for this poll (POST /api/polls/<poll>/cap "
                '{"voters_per_address": 0}) or set CYOA_VOTERS_PER_ADDRESS=0 on the server'
            )
        if any(why.startswith("sms 403") for why in self.refused):
            out.append(
                "  hint:      the server refused the texts' signature: pass --token (its "
                "TWILIO_AUTH_TOKEN, or its state dir's sms_rehearsal_key), or run on its machine"
            )
        return out


def find_open_poll(base: str, session: requests.Session) -> tuple[str, dict[str, str]]:
    """The open poll's id and its options (key -> label), as the audience sees them."""
    try:
        poll = ""
        live = session.get(base + "/api/live", timeout=TIMEOUT)
        if live.ok and "json" in live.headers.get("Content-Type", ""):
            data = live.json()
            inner = data.get("poll") if isinstance(data, dict) else None
            poll = (inner.get("poll") or inner.get("id")) if isinstance(inner, dict) else inner
        if not poll:
            poll = read_form(session.get(base + "/", timeout=TIMEOUT).text).fields.get("poll")
        if not poll:
            raise RehearsalError("no poll is open: open one from the deck or the API first")
        results = session.get(f"{base}/api/polls/{poll}", timeout=TIMEOUT)
    except requests.RequestException as error:
        raise RehearsalError(unreachable(base, error)) from error
    if not results.ok or results.json().get("status") != "open":
        raise RehearsalError(f"poll {poll!r} is not open on {base}")
    return str(poll), {o["key"]: o["label"] for o in results.json()["options"]}


def _web_voter(base: str, poll: str, picks: list[str]) -> tuple[int, str, list[str]]:
    """One phone: load the page (cookie, CSRF token), then vote (and maybe change)."""
    sent, standing, refusals = 0, "", []
    with requests.Session() as phone:
        try:
            form = read_form(phone.get(base + "/", timeout=TIMEOUT).text)
            sent += 1
            for choice in picks:
                data = {"poll": form.fields.get("poll", poll), "choice": choice}
                data["csrf"] = form.fields.get("csrf", "")
                response = phone.post(
                    base + "/vote",
                    data=data,
                    headers={"Accept": "application/json"},
                    allow_redirects=False,
                    timeout=TIMEOUT,
                )
                sent += 1
                if response.status_code in (200, 303):
                    standing = choice
                else:
                    refusals.append(f"web {response.status_code} {_code(response)}".strip())
        except requests.RequestException as error:
            refusals.append(f"web {type(error).__name__}")
    return sent, standing, refusals


def _code(response: requests.Response) -> str:
    """The server's refusal code (``full``, ``slow``...) from a JSON answer, or ""."""
    try:
        data = response.json()
    except ValueError:
        return ""
    code = data.get("code") if isinstance(data, dict) else None
    return code if isinstance(code, str) and code.isidentifier() else ""


def _sms_voter(
    base: str, number: str, texts: list[tuple[str, str]], token: str, sign_url: str
) -> tuple[int, str, list[str]]:
    """One phone texting: each text is (body, the option it means)."""
    sent, standing, refusals = 0, "", []
    for body, choice in texts:
        try:
            reply = send_sms(base, body, number, token, sign_url=sign_url)
        except requests.RequestException as error:
            refusals.append(f"sms {type(error).__name__}")
            break
        sent += 1
        if reply.status == 200 and reply.outcome in ACCEPTED:
            standing = choice
        elif reply.status != 200:  # refused before it was read: the signature, mostly
            refusals.append(f"sms {reply.status}")
        else:
            refusals.append(f"sms {reply.outcome or reply.status}")
    return sent, standing, refusals


def _sms_body(rng: random.Random, keys: list[str], choice: str) -> str:
    """The way people really text a choice: "2", " #2 ", "option 2", "b"."""
    if not choice.isalnum():
        return choice
    forms = ["{k}", " {k} ", "#{k}", "option {k}", "Option {k}!"]
    if not any(len(k) == 1 and k.isalpha() for k in keys):  # letters are positions then
        forms += ["{L}", "{l}"]
    letter = "abcdefghi"[keys.index(choice)]
    return rng.choice(forms).format(k=choice, L=letter.upper(), l=letter)


def rehearse(
    url: str,
    voters: int,
    sms_share: float = 0.3,
    seed: int | None = None,
    token: str = "",
    change_share: float = 0.1,
    threads: int = 16,
    sign_url: str = "",
) -> Summary:
    """Send ``voters`` simulated people at the open poll; count what the server accepted."""
    base = url.rstrip("/")
    rng = random.Random(seed)
    with requests.Session() as scout:
        poll, labels = find_open_poll(base, scout)
    keys = list(labels)
    weights = [rng.random() + 0.2 for _ in keys]  # a room leans one way
    numbers = rng.sample(range(10**7), voters)
    jobs = []
    summary = Summary(poll, labels, voters=voters)
    for i in range(voters):
        picks = rng.choices(keys, weights)
        if rng.random() < change_share:
            picks.append(rng.choice([k for k in keys if k != picks[0]]))
        if rng.random() < sms_share:
            summary.sms += 1
            texts = [(_sms_body(rng, keys, k), k) for k in picks]
            jobs.append((_sms_voter, base, f"+1555{numbers[i]:07d}", texts, token, sign_url))
        else:
            summary.web += 1
            jobs.append((_web_voter, base, poll, picks))
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, min(threads, voters))) as pool:
        outcomes = list(pool.map(lambda job: job[0](*job[1:]), jobs))
    summary.seconds = time.monotonic() - started
    for sent, standing, refusals in outcomes:
        summary.sent += sent
        if standing:
            summary.accepted += 1
            summary.by_option[standing] += 1
        summary.refused.update(refusals)
    try:
        summary.server = requests.get(f"{base}/api/polls/{poll}", timeout=TIMEOUT).json()
    except (requests.RequestException, ValueError):
        summary.server = None
    return summary
