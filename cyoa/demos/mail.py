"""Email invitations through the task queue, to a local SMTP server the demo starts.

Demo ``email-invitations``: the app enqueues one job per invitation and answers at once;
the RQ worker sends each email over SMTP to aiosmtpd (a real SMTP server, on loopback,
delivering into a Maildir in the scratch directory), where we read them back.
"""

from __future__ import annotations

import mailbox
import sys

import requests

from cyoa.demos import processes, tools
from cyoa.demos.app import app_env, checkout
from cyoa.demos.runner import Run, demo
from cyoa.demos.tasks import start_redis, start_worker
from cyoa.demos.wsgi import init_db, start_gunicorn

FRIENDS = ("ada@example.com", "grace@example.com", "linus@example.com")


@demo("email-invitations", "Email invitations: a task queue and a real (local) SMTP server")
def email_invitations_demo(run: Run, friends: tuple[str, ...] = FRIENDS) -> None:
    """Invite friends: the request enqueues, the worker sends, the mailbox receives."""
    smtp_port = processes.free_port()
    maildir = run.scratch / "maildir"
    smtp = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{smtp_port}"]
    smtp += ["-c", "aiosmtpd.handlers.Mailbox", str(maildir)]
    tools.need_module("aiosmtpd", [" ".join(smtp[1:])])
    tools.need_module("rq", ["rq worker"])
    code = checkout(run)
    run.step("A local SMTP server (aiosmtpd) stands in for the mail provider")
    run.start("smtp-server", smtp, port=smtp_port)
    run.step("Redis, the app and a worker")
    url = start_redis(run)
    env = app_env(run, REDIS_URL=url, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port))
    init_db(run, code, env)
    server = start_gunicorn(run, code, workers=2, env=env)
    start_worker(run, code, env)
    run.step(f"A user invites {len(friends)} friends")
    response = requests.post(server.url("/invite"), data={"email": list(friends)}, timeout=10)
    run.show(
        f"POST /invite → {response.status_code} after {response.elapsed.total_seconds():.2f} s"
    )
    run.fact("queued", len(response.json()["jobs"]), "invitation jobs queued")
    run.step("The worker sends them; the mailbox receives them")
    box = mailbox.Maildir(maildir, create=True)
    processes.wait_until(lambda: len(box) >= len(friends), timeout=15)
    received = sorted(message["To"] for message in box)
    for message in sorted(box, key=lambda m: m["To"]):
        run.show(f"To: {message['To']}  Subject: {message['Subject']}")
    run.fact("received", received, "delivered to")
