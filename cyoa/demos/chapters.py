"""The learner notebooks' text, chapter by chapter, in the story's order.

Each chapter is Markdown (the story, told for someone following along at home) around
code cells ``(demo_name, source)``. Every path of the story is here, including the ones
a room did not choose.
"""

from __future__ import annotations


def call(name: str, comment: str = "", **options: object) -> tuple[str, str]:
    """A demo cell: self-contained, so the deck can run it on its own."""
    args = "".join(f", {k}={v!r}" for k, v in options.items())
    note = f"# {comment}\n" if comment else ""
    return (name, f'{note}from cyoa.demos import run_demo\n\nrun_demo("{name}"{args})')


LAUNCH = {
    "slug": "1-launch",
    "title": "Launch",
    "cells": [
        """
# Chapter 1: from a laptop to the internet

You have founded the hottest company in the valley, convinced a few investors, and written
the code. The room picked the product: **Dachshund Doc Send** (a pack of dachshunds
delivers your documents and reports analytics) or **Tinder for Pets** (lonely pets meet
for daytime play dates). Either way, the code only runs on your laptop. This chapter takes
it to a server, one step at a time, and every step below runs for real on this machine:
real nginx, real gunicorn, real PostgreSQL, each on a free port of `127.0.0.1`, in a
throwaway directory, and stopped when the step ends.

If a tool is missing, the cell says which one, how to install it, and what it would have
run. Nothing here touches the machine's own configuration.
""",
        """
## The app

Here is the app, run the way it is developed: Flask's development server on a laptop.
Change `product` to `"pets"` to follow the other branch.
""",
        call("app", product="dachshund"),
        """
## Getting the code onto the server

We rent a virtual server, SSH in, and fetch the code the way we fetch any code: `git clone`
from GitHub. (A local repository plays GitHub's part here.)
""",
        call("git-clone"),
        """
## A web server, and the first surprise

Next comes a web server. We install nginx and paste a configuration found online. Its last
lines mention passing requests on to "a WSGI thing" on some port; we will look into that
later. We restart nginx, open the site and get **502 Bad Gateway**.

nginx is a *reverse proxy*: it accepts the visitor's request and hands it to an upstream
server. Nothing is listening upstream yet, so nginx has nobody to ask.
""",
        call("nginx-502"),
        """
## A WSGI server

What runs Python web code in production is a WSGI server. We install Green Unicorn
(gunicorn) and start it with a few worker processes on the port nginx points to. The 502
becomes a 200.

Why not keep `flask run`? The development server is made for one developer at a time: it
offers no process supervision, no worker timeouts, and can expose a debugger. The short
load test below compares the two on this machine. Read the numbers honestly: on a quick
endpoint they can be close; the difference that matters is how each behaves when things go
wrong.
""",
        call("gunicorn"),
        """
## Static files

The page shows up as bare HTML: no stylesheet, no pictures. In production the app leaves
`/static/` to the web server, and we never told nginx about it. Four lines fix it: a
`location /static/` block with an `alias` to the directory holding the files. The response
headers prove that nginx served them from disk; the app never saw those requests.
""",
        call("static-files"),
        """
## A database

Our investors keep saying data is the new oil, so the deliveries need a real database. We
install PostgreSQL and a client library for the app, create the tables and let the app
write to them. Here the cluster is a throwaway one: `initdb` in a scratch directory, the
server on a free loopback port, deleted at the end. (This one takes a few seconds more:
`initdb` writes a whole new cluster.)
""",
        call("postgres"),
        """
We have launched. TechCrunch writes about us, and growth turns into hypergrowth.
Continue with [Chapter 2](learn-2-hypergrowth.ipynb).
""",
    ],
}

HYPERGROWTH = {
    "slug": "2-hypergrowth",
    "title": "Hypergrowth",
    "cells": [
        """
# Chapter 2: hypergrowth

Hypergrowth brings its own problems, and the room chooses which one comes first: so many
people sign up that we need **email invitations**, or we are tired of logging into the
server over SSH to update the code by hand and need **automated deployments**. Both
branches are below.

## Automated deployments

What do we want to automate? To begin with, the deploy: fetch the code, copy the static
files, update the database, adjust nginx, reload the app server. Configuration tools fall
into families (server state: Chef, Puppet, SaltStack; deploy scripts: shell, Fabric,
Ansible playbooks), and continuous integration runs them for us after every push. Here
the deploy is done twice over: first by a small script kept in the app's repository, then
on a second fresh server by an Ansible playbook (`deploy.yml`, run with
`ansible-playbook -i localhost, -c local` against this machine). The property that matters
is that both are *idempotent*: a second run changes nothing (Ansible's `PLAY RECAP` says
`changed=0`), and a new commit changes only what it must. Ansible is the slow part of this
demo: each playbook run takes several seconds, about 20 s for the whole demo. Without
`ansible-playbook` (`pip install ansible-core`) the demo says so and shows the script only.
""",
        call("automation"),
        """
## Email invitations (the other branch)

Each invited friend gets a mail with a link the app signs with its `SECRET_KEY`: valid for
a week, and only once. A real SMTP server runs locally so we can open the mailbox. This
first version sends the mails inside the request, and the demo times what that costs the
person who clicked "invite"; handing them to a task queue is chapter 3's fix.
""",
        call("email-invitations"),
        """
Either way, requests start to time out. Continue with
[Chapter 3](learn-3-timeouts.ipynb).
""",
    ],
}

TIMEOUTS = {
    "slug": "3-timeouts",
    "title": "Timeouts",
    "cells": [
        """
# Chapter 3: requests that time out

Some requests do too much work before they answer. The room picks the fix.

## Asynchronous tasks

A visitor clicks a button and the app crawls partner websites: slow network calls, and
the visitor stares at a spinner. With a task queue, the request only *enqueues* the crawl
and returns; a worker does it in the background and the result is stored for later. RQ
keeps this simple: a Redis server, `queue.enqueue(function, args)`, and `rq worker`. Its
scheduler runs jobs later too (`enqueue_in`), for the nightly refresh of likes. (About
eight seconds: the slow crawl is the point.)
""",
        call("async-rq"),
        """
## The other fix: a cache and more workers

When the slow part is the same work done again and again (a report), keep its result in a
cache. When requests simply queue behind each other in too few workers, run more workers.
Below, nginx gives up after 2 seconds; five visitors at once show the difference. (About
ten seconds: three rounds of slow requests.)
""",
        call("timeouts-cache"),
        """
Now the money runs low while attackers knock on the door. Continue with
[Chapter 4](learn-4-security-or-traction.ipynb).
""",
    ],
}

SECURITY_OR_TRACTION = {
    "slug": "4-security-or-traction",
    "title": "Security or traction",
    "cells": [
        """
# Chapter 4: hackers at the door, or VCs at the table

Two problems at once: the investors want traction graphs before they fund us, and
attackers are trying to get into the server. The room picks which comes first.

## Security basics

We log in as root with a password, which is exactly what the bots try. The fixes are old
and simple: a `deployer` user in a `deployers` group with sudo, SSH keys only, no root
login, fail2ban to ban addresses that keep failing, and unattended-upgrades for security
updates. Every file below is written to a scratch directory and checked by the real tool
(`visudo -c`, `sshd -t`, `fail2ban-client -t`, `apt-config`); the machine's own
configuration is never touched.
""",
        call("security"),
        """
## Traction (the other branch)

Investors want up-and-to-the-right. The graphs come from the app's own data: weekly
signups and deliveries served by the app, drawn with Plotly. (The history is made up for
the demo; the pipeline is real.)
""",
        call("traction"),
        """
Next: the intern's first day, or a traffic spike. Continue with
[Chapter 5](learn-5-data-or-scaling.ipynb).
""",
    ],
}

DATA_OR_SCALING = {
    "slug": "5-data-or-scaling",
    "title": "Data or scaling",
    "cells": [
        """
# Chapter 5: lost data, or too many users

## The intern's first day

A new intern with full access to the production database types `DELETE FROM users` and
presses Enter. Two habits save the company: more than one database (a primary takes every
write; read-only replicas follow it, serve reads and can take over if it dies) and
backups kept elsewhere. Watch closely: the replica deletes the users too, because
replication copies mistakes as faithfully as anything else. The backup brings them back.
(About four seconds: two PostgreSQL servers start.)
""",
        call("data-replication"),
        """
## Scaling (the other branch)

More users than one app process can serve: run more of them and let nginx share the
requests out through an `upstream` block, reloaded without dropping a connection. The
load test shows what that buys on this machine.
""",
        call("scaling"),
        """
## The end

Last decision: accept the VCs' money, or bootstrap? The story has both endings. Whatever
the room chose, every step above is the same few tools you can now run yourself.
""",
    ],
}

CHAPTERS: list[dict] = [LAUNCH, HYPERGROWTH, TIMEOUTS, SECURITY_OR_TRACTION, DATA_OR_SCALING]
