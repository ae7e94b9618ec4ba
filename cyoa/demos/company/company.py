"""The company's web app, one of two products (``PRODUCT=dachshund`` or ``PRODUCT=pets``).

Configuration comes from the environment, as on a real server: ``DATABASE_URL``,
``REDIS_URL`` (task queue and cache), ``SERVE_STATIC=1`` (only for the development server:
in production nginx serves ``/static/``).
"""

from __future__ import annotations

import hashlib
import json
import os
import time

import click
from flask import Flask, Response, jsonify, render_template_string, request
from storage import Database

PRODUCTS = {
    "dachshund": {
        "name": "Dachshund Doc Send",
        "tagline": "An army of dachshunds delivers your documents, with analytics.",
        "image": "dachshund.svg",
    },
    "pets": {
        "name": "Tinder for Pets",
        "tagline": "Lonely pets at home meet up for daytime play dates.",
        "image": "paw.svg",
    },
}

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ p.name }}</title>
<link rel="stylesheet" href="/static/style.css"></head>
<body><header><img src="/static/{{ p.image }}" alt="" width="96"><h1>{{ p.name }}</h1></header>
<p class="tagline">{{ p.tagline }}</p>
<form method="post" action="/deliveries"><input name="sender" placeholder="you@example.com">
<input name="recipient" placeholder="them@example.com"><input name="document" value="contract.pdf">
<button>Send a dachshund</button></form></body></html>
"""


def create_app() -> Flask:
    """Build the app from the environment."""
    serve_static = os.environ.get("SERVE_STATIC") == "1"
    app = Flask(__name__, static_folder="static" if serve_static else None)
    product = PRODUCTS[os.environ.get("PRODUCT", "dachshund")]
    db = Database()

    @app.after_request
    def tag(response: Response) -> Response:
        # Proof of who answered: nginx serving a file itself never adds these.
        response.headers["X-App"] = product["name"]
        response.headers["X-App-Pid"] = str(os.getpid())
        return response

    @app.get("/")
    def home() -> str:
        return render_template_string(PAGE, p=product)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"ok": True, "pid": os.getpid(), "instance": os.environ.get("INSTANCE", "")}

    @app.post("/deliveries")
    def new_delivery() -> tuple[dict, int]:
        fields = [request.form.get(k, "") for k in ("sender", "recipient", "document")]
        db.execute(
            "INSERT INTO deliveries (sender, recipient, document, created) VALUES (?, ?, ?, ?)",
            *fields,
            db.now(),
        )
        return {"queued": True, "sender": fields[0], "recipient": fields[1]}, 201

    @app.get("/deliveries")
    def deliveries() -> Response:
        rows = db.execute("SELECT id, sender, recipient, document FROM deliveries ORDER BY id")
        keys = ("id", "sender", "recipient", "document")
        return jsonify([dict(zip(keys, row, strict=True)) for row in rows])

    @app.get("/api/stats/weekly")
    def weekly() -> dict:
        return {"signups": db.weekly("users"), "deliveries": db.weekly("deliveries")}

    @app.get("/route")
    def route() -> dict:
        # CPU work (planning a dachshund's route): what more worker processes help with.
        digest = b"start"
        for _ in range(int(request.args.get("work", "20000"))):
            digest = hashlib.sha256(digest).digest()
        return {"route": digest.hex()[:12], "pid": os.getpid()}

    @app.get("/report")
    def report() -> dict:
        # A slow report (a heavy query): cached in Redis when CACHE=1.
        cache = _redis() if os.environ.get("CACHE") == "1" else None
        if cache is not None and (hit := cache.get("report")):
            return {**json.loads(hit), "cached": True}
        time.sleep(float(os.environ.get("REPORT_SECONDS", "0.8")))
        data = {"deliveries_today": 1234, "computed_at": time.strftime("%H:%M:%S")}
        if cache is not None:
            cache.set("report", json.dumps(data), ex=60)
        return {**data, "cached": False}

    @app.post("/crawl")
    def crawl() -> tuple[dict, int]:
        import tasks

        pages = int(request.form.get("pages", "4"))
        if request.form.get("mode") == "inline":
            return {"done": tasks.crawl(pages)}, 200
        job = _queue().enqueue(tasks.crawl, pages)
        return {"job": job.id, "status": "queued"}, 202

    @app.post("/invite")
    def invite() -> tuple[dict, int]:
        import tasks

        host, port = os.environ["SMTP_HOST"], int(os.environ["SMTP_PORT"])
        emails = request.form.getlist("email")
        queue = _queue()
        jobs = [
            queue.enqueue(tasks.send_invitation, e, host, port, product["name"]).id for e in emails
        ]
        return {"invited": emails, "jobs": jobs}, 202

    @app.get("/api/jobs/<job_id>")
    def job(job_id: str) -> dict:
        from rq.job import Job

        found = Job.fetch(job_id, connection=_redis())
        return {"id": job_id, "status": found.get_status(), "result": found.return_value()}

    @app.cli.command("init-db")
    def init_db() -> None:
        """Create the tables."""
        db.init()
        print(f"tables ready in {db.engine}")

    @app.cli.command("seed")
    @click.option("--weeks", default=26, help="weeks of made-up history")
    def seed(weeks: int) -> None:
        """Fill the tables with a made-up history (for demos and graphs)."""
        db.init()
        print(f"{db.seed(weeks)} users over {weeks} weeks")

    return app


def _redis():
    import redis

    return redis.Redis.from_url(os.environ["REDIS_URL"])


def _queue():
    from rq import Queue

    return Queue(connection=_redis())
