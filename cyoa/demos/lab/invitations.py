"""Chapter 2 (invitations): the learner's EnvironmentFiles for two app servers.

Each app server reads its settings from its own file, as systemd's ``EnvironmentFile=`` does
on two machines: the ``SECRET_KEY`` that signs invitation links, and where the mail relay
listens. The lab runs a real SMTP server (aiosmtpd) where the relay should be, both app
servers on one database, invites a friend through the first, and follows the mailed link on
the second. Then it tries what an attacker would: well-known keys, to sign an invitation of
its own. The check says which of these went wrong, and why.
"""

from __future__ import annotations

import mailbox
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import requests

from cyoa.demos import processes, tools
from cyoa.demos.app import app_env, checkout
from cyoa.demos.lab.files import Placement, read_source
from cyoa.demos.lab.frame import (
    LabInputError,
    LabResult,
    conclude,
    could_not_start,
    problem,
    unlisted,
)
from cyoa.demos.runner import Run
from cyoa.demos.wsgi import init_db, start_gunicorn

INVITE_GOAL = "a link mailed by one app server works once on the other; nobody forges one"
KEYS = ("SECRET_KEY", "SMTP_HOST", "SMTP_PORT")
#: Where the mail relay listens on the server, in the learner's terms.
RELAY_PORT = 2525
FRIEND, MALLORY = "ada@example.com", "mallory@example.com"  # Mallory: the one who forges
#: Keys an attacker tries first: framework defaults, tutorials, placeholders.
GUESSES = (
    "changeme", "change-me", "secret", "secret-key", "secretkey", "your-secret-key",
    "supersecret", "dev", "development", "devkey", "default", "password", "flask", "test",
    "s3cr3t", "mysecret", "notasecret", "keyboard cat", "123456",
)  # fmt: skip
#: Shorter than this, a key is a password a machine can guess (32 random bytes is 64 hex).
MIN_KEY = 32


@dataclass
class EnvFile:
    """One app server's EnvironmentFile: its name and its settings."""

    name: str
    values: dict[str, str]


def parse_env(text: str, name: str) -> EnvFile:
    """``KEY=VALUE`` lines as systemd reads them (comments, blank lines and quotes allowed)."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, equals, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not equals or not re.fullmatch(r"[A-Z_][A-Z0-9_]*", key):
            raise LabInputError(f"{name}: {line!r} is not KEY=VALUE")
        if key not in KEYS:
            raise LabInputError(
                f"{name}: {key} is the lab's to set (the database both servers share); "
                f"give {', '.join(KEYS)}"
            )
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    host = values.get("SMTP_HOST", "")
    if host not in ("127.0.0.1", "localhost"):
        raise LabInputError(
            f"{name}: SMTP_HOST={host or '(none)'}: the relay runs on the server itself, "
            "SMTP_HOST=127.0.0.1 (the lab never mails beyond this machine)"
        )
    if not values.get("SMTP_PORT", "").isdigit():
        raise LabInputError(f"{name}: SMTP_PORT must be a port number")
    return EnvFile(Path(name).name, values)


def read_env(source: str | Path, n: int) -> EnvFile:
    """App server ``n``'s EnvironmentFile (a file's name, or the text itself)."""
    name = Path(source).name if Path(source).is_file() else f"app server {n}'s settings"
    return parse_env(read_source(source, "EnvironmentFile"), name)


def forged_link(link: str, secret: str, email: str) -> str:
    """An invitation for ``email``, signed with ``secret``: what an attacker who guessed mints."""
    from itsdangerous import URLSafeTimedSerializer

    token = URLSafeTimedSerializer(secret, salt="invitation").dumps(email)
    return link.rsplit("/", 1)[0] + "/" + token


def _mail_problem(server: EnvFile, log: str) -> str:
    """Why an invite did not go out, as the learner would fix it."""
    port = server.values["SMTP_PORT"]
    if "Connection refused" in log or "ConnectionRefusedError" in log:
        return (
            f"the invite failed (500) on the server that reads {server.name}: nothing listens "
            f"on 127.0.0.1:{port} (SMTP_PORT). The mail relay is 127.0.0.1:{RELAY_PORT}; and "
            "the mail is sent inside the request, so its failure is the visitor's error page"
        )
    if "KeyError" in log and "SECRET_KEY" in log:
        return f"{server.name} sets no SECRET_KEY: the app signs every link with it"
    return f"the invite failed on the server that reads {server.name} (its log: {log[-200:]})"


def _key_problems(servers: list[EnvFile]) -> list[str]:
    """Keys anyone could guess, before any link is followed."""
    problems = []
    for server in servers:
        key = server.values.get("SECRET_KEY", "")
        if not key:
            problems.append(f"{server.name} sets no SECRET_KEY: the app signs every link with it")
        elif key not in GUESSES and len(key) < MIN_KEY:
            problems.append(
                f"{server.name}: SECRET_KEY is {len(key)} characters; a short key is a password "
                f"a machine can guess. Use {MIN_KEY} random bytes or more: "
                "python -c 'import secrets; print(secrets.token_hex(32))'"
            )
    return problems


@unlisted("lab-invitations", "Your EnvironmentFiles: two app servers, a mailed link, a forger")
def _invitations(run: Run, first: str | Path, second: str | Path, check: bool) -> None:
    try:
        servers = [read_env(first, 1), read_env(second, 2)]
    except LabInputError as error:
        problem(run, str(error))
        return could_not_start(run, check, INVITE_GOAL)
    if servers[0].name == servers[1].name:
        servers[1].name += " (again)"
    tools.need_module("aiosmtpd", ["python -m aiosmtpd -n"])
    tools.need_module("itsdangerous", ["pip install itsdangerous"])
    code = checkout(run)
    places = Placement(app=code, www=run.scratch / "www")
    run.step(f"The mail relay on 127.0.0.1:{RELAY_PORT} (aiosmtpd, delivering to a mailbox)")
    relay_port = places.port(RELAY_PORT)
    maildir = run.scratch / "maildir"
    smtp = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{relay_port}"]
    smtp += ["-c", "aiosmtpd.handlers.Mailbox", str(maildir)]
    run.start("smtp-relay", smtp, port=relay_port)
    run.step("Two app servers, each with its own EnvironmentFile, on one database")
    shared = app_env(run)
    init_db(run, code, shared)
    apps = []
    for n, server in enumerate(servers, start=1):
        smtp_port = places.port(int(server.values["SMTP_PORT"]))
        env = {**shared, **server.values, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port)}
        apps.append(start_gunicorn(run, code, workers=1, env=env, name=f"app-{n}"))
        run.say(f"app server {n} reads {server.name}")
    places.show(run)
    problems = _key_problems(servers)

    run.step(f"A user invites {FRIEND} through app server 1")
    invited = requests.post(apps[0].url("/invite"), data={"email": FRIEND}, timeout=30)
    run.show(f"POST /invite → {invited.status_code}")
    run.fact("invite_status", invited.status_code, "the invite")
    if invited.status_code != 201:
        if (why := _mail_problem(servers[0], apps[0].log_tail(30))) not in problems:
            problems.insert(0, why)
        return conclude(run, problems, check, INVITE_GOAL)
    box = mailbox.Maildir(maildir, create=True)
    processes.wait_until(lambda: len(box) >= 1, timeout=15)
    body = next(iter(box)).get_payload(decode=True).decode()
    link = re.search(r"http://\S+/join/\S+", body).group(0)  # type: ignore[union-attr]
    run.show(f"the mail to {FRIEND}: {run.short(link)}")

    run.step("Ada clicks; the balancer sends her to app server 2. Then she clicks again")
    on_second = apps[1].url("/join/" + link.rsplit("/", 1)[1])
    first_click = requests.get(on_second, timeout=10)
    again = requests.get(on_second, timeout=10)
    for label, answer in (("the link", first_click), ("the link again", again)):
        run.show(f"{label:<16} → {answer.status_code} {answer.json()}")
    run.fact("link_statuses", [first_click.status_code, again.status_code], "first, second")
    if first_click.status_code == 400:
        problems.append(
            f"the link app server 1 signed is 'not one of our invitations' on app server 2: "
            f"{servers[0].name} and {servers[1].name} hold different SECRET_KEYs, so each "
            "server refuses the other's links (and its session cookies). Every app server "
            "must share one key, from one secret store"
        )
    elif (first_click.status_code, again.status_code) != (201, 409):
        problems.append(f"the link answered {first_click.status_code}, then {again.status_code}")

    run.step("A stranger tries the keys everyone tries first, to sign an invitation of their own")
    for n, (server, app) in enumerate(zip(servers, apps, strict=True), start=1):
        key = server.values.get("SECRET_KEY", "")
        if key not in GUESSES:
            continue
        mallory = MALLORY.replace("@", f"{n}@")
        forged = requests.get(forged_link(app.url("/join/x"), key, mallory), timeout=10)
        run.show(f"{mallory}, signed with {key!r}, on app server {n} → {forged.status_code}")
        if forged.status_code == 201:
            problems.append(
                f"{server.name}: SECRET_KEY={key} is among the first keys anyone tries, and a "
                f"link for {mallory} signed with it got in. Use a long random key: "
                "python -c 'import secrets; print(secrets.token_hex(32))'"
            )
    run.fact("forged", any("got in" in p for p in problems), "a forged invitation got in")
    conclude(run, problems, check, INVITE_GOAL)


def invitations(first: str | Path, second: str | Path, product: str = "dachshund") -> LabResult:
    """Two app servers with your EnvironmentFiles: a mailed link, followed; a forger's try."""
    return _invitations(first=first, second=second, check=False, product=product)


def check_invitations(
    first: str | Path, second: str | Path, product: str = "dachshund"
) -> LabResult:
    """Pass when the link mailed by one server works once on the other, and no guess forges."""
    return _invitations(first=first, second=second, check=True, product=product)
