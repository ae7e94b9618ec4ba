"""Email invitations with a signed link that expires, sent to a local SMTP server.

Demo ``email-invitations``: the app mails each invited friend a link signed with its
``SECRET_KEY`` (``itsdangerous``), valid for a week and only once. The mail goes over SMTP
to aiosmtpd (a real SMTP server on loopback, delivering into a Maildir in the scratch
directory), inside the request: the demo times what that costs the person who clicked.
Moving the sending to a task queue is the async branch's fix, not shown here.
"""

from __future__ import annotations

import mailbox
import re
import secrets
import sys
import time

import requests

from cyoa.demos import processes, tools
from cyoa.demos.app import app_env, checkout
from cyoa.demos.runner import Run, demo
from cyoa.demos.wsgi import init_db, start_gunicorn

FRIENDS = ("ada@example.com", "grace@example.com", "linus@example.com")
WEEK = 7 * 24 * 3600


def stale_link(link: str, secret: str, email: str) -> str:
    """The same link as if it had been mailed eight days ago (past its one-week max age)."""
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    class EightDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 8 * 24 * 3600

    old = URLSafeTimedSerializer(secret, salt="invitation", signer=EightDaysAgo)
    return link.rsplit("/", 1)[0] + "/" + old.dumps(email)


@demo("email-invitations", "Email invitations: a signed link that expires, over real SMTP")
def email_invitations_demo(run: Run, friends: tuple[str, ...] = FRIENDS) -> None:
    """Invite friends: the app signs a link per friend and mails it; we follow the links."""
    smtp_port = processes.free_port()
    maildir = run.scratch / "maildir"
    smtp = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{smtp_port}"]
    smtp += ["-c", "aiosmtpd.handlers.Mailbox", str(maildir)]
    tools.need_module("aiosmtpd", [" ".join(smtp[1:])])
    tools.need_module("itsdangerous", ["pip install itsdangerous"])
    code = checkout(run)
    run.step("A local SMTP server (aiosmtpd) stands in for the mail provider")
    run.start("smtp-server", smtp, port=smtp_port)
    run.step("The app, its SECRET_KEY from the environment (it signs the links)")
    secret = secrets.token_hex(32)
    run.say("SECRET_KEY=… (a random 32 bytes, the same on every app server)")
    env = app_env(run, SECRET_KEY=secret, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port))
    init_db(run, code, env)
    server = start_gunicorn(run, code, workers=2, env=env)
    run.step(f"A user invites {len(friends)} friends; the mails go out inside the request")
    response = requests.post(server.url("/invite"), data={"email": list(friends)}, timeout=30)
    seconds = response.elapsed.total_seconds()
    run.show(f"POST /invite → {response.status_code} after {seconds:.2f} s")
    run.fact("sent_in_request", len(response.json()["invited"]), "mails sent before answering")
    run.fact("request_seconds", round(seconds, 2), "the person who clicked waited (s)")
    run.step("The mailbox")
    box = mailbox.Maildir(maildir, create=True)
    processes.wait_until(lambda: len(box) >= len(friends), timeout=15)
    messages = sorted(box, key=lambda m: m["To"])
    for message in messages:
        run.show(f"To: {message['To']}  Subject: {message['Subject']}")
    run.fact("received", [m["To"] for m in messages], "delivered to")
    first = messages[0]
    body = first.get_payload(decode=True).decode()
    run.show(f"From: {first['From']}\n\n{body}", indent="    │ ")
    link = re.search(r"http://\S+/join/\S+", body).group(0)  # type: ignore[union-attr]
    run.step("Following the links")
    answers = {}
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    stale = stale_link(link, secret, first["To"])
    for label, url in (
        ("the link, clicked", link),
        ("the same link, clicked again", link),
        ("the link with its signature changed", tampered),
        ("a link signed eight days ago", stale),
    ):
        answer = requests.get(url, timeout=10)
        answers[label] = answer.status_code
        run.show(f"{label:<38} → {answer.status_code} {answer.json()}")
    codes = list(answers.values())
    run.fact("link_statuses", codes, "first use, second use, tampered, expired")
