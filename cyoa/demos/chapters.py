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
We have launched. TechCrunch writes about us, and growth turns into hypergrowth.
Continue with [Chapter 2](learn-2-hypergrowth.ipynb).
""",
    ],
}

CHAPTERS: list[dict] = [LAUNCH]
