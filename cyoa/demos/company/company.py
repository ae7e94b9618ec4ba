"""The company's web app, one of two products (``PRODUCT=dachshund`` or ``PRODUCT=pets``).

Configuration comes from the environment, as on a real server: ``DATABASE_URL``,
``REDIS_URL`` (task queue and cache), ``SECRET_KEY`` (signs invitation links),
``SERVE_STATIC=1`` (only for the development server: in production nginx serves
``/static/``).
"""

from __future__ import annotations

import hashlib
import json
import os
import time

import click
from flask import Flask, Response, jsonify, render_template_string, request, url_for
from storage import Database

PRODUCTS = {
    "dachshund": {
        "name": "Dachshund Doc Send",
        "tagline": "An army of dachshunds delivers your documents, with analytics.",
        "image": "dachshund.svg",
        # What a customer does with the product: one row in its own table.
        "table": "deliveries",
        "fields": ("customer", "recipient", "document"),
        "example": ("you@example.com", "them@example.com", "contract.pdf"),
        "button": "Send a dachshund",
    },
    "pets": {
        "name": "Tinder for Pets",
        "tagline": "Lonely pets at home meet up for daytime play dates.",
        "image": "paw.svg",
        "table": "playdates",
        "fields": ("customer", "pet", "park"),
        "example": ("you@example.com", "Biscuit the beagle", "Dolores Park"),
        "button": "Book a play date",
    },
}

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ p.name }}</title>
<link rel="stylesheet" href="/static/style.css"></head>
<body><header><img src="/static/{{ p.image }}" alt="" width="96"><h1>{{ p.name }}</h1></header>
<p class="tagline">{{ p.tagline }}</p>
<form method="post" action="/{{ p.table }}">{% for f in p.fields %}
<input name="{{ f }}" placeholder="{{ p.example[loop.index0] }}">{% endfor %}
<button>{{ p.button }}</button></form></body></html>
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

    table, fields = product["table"], product["fields"]
    columns = ", ".join(fields)

    @app.post(f"/{table}")
    def new_thing() -> tuple[dict, int]:
        values = [request.form.get(k, "") for k in fields]
        db.execute(
            f"INSERT INTO {table} ({columns}, created) VALUES (?, ?, ?, ?)",  # noqa: S608
            *values,
            db.now(),
        )
        return {"stored": True, **dict(zip(fields, values, strict=True))}, 201

    @app.get(f"/{table}")
    def things() -> Response:
        rows = db.execute(f"SELECT id, {columns} FROM {table} ORDER BY id")  # noqa: S608
        return jsonify([dict(zip(("id", *fields), row, strict=True)) for row in rows])

    @app.get("/api/stats/weekly")
    def weekly() -> dict:
        return {"signups": db.weekly("users"), table: db.weekly(table)}

    @app.get("/route")
    def route() -> dict:
        # CPU work (planning a route): what more worker processes help with.
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
        data = {f"{table}_today": 1234, "computed_at": time.strftime("%H:%M:%S")}
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
        """Mail each friend a signed link that expires; inside the request, for now."""
        import tasks

        host, port = os.environ["SMTP_HOST"], int(os.environ["SMTP_PORT"])
        sent = []
        for email in request.form.getlist("email"):
            link = url_for("join", token=_invitations().dumps(email), _external=True)
            sent.append(tasks.send_invitation(email, host, port, product["name"], link))
        return {"invited": sent}, 201

    @app.get("/join/<token>")
    def join(token: str) -> tuple[dict, int]:
        """An invitation link: valid if signed by us, younger than its max age, unused."""
        from itsdangerous import BadSignature, SignatureExpired

        try:
            email = _invitations().loads(token, max_age=INVITATION_MAX_AGE)
        except SignatureExpired:
            return {"error": "this invitation has expired"}, 410
        except BadSignature:
            return {"error": "this is not one of our invitations"}, 400
        if db.execute("SELECT id FROM users WHERE email = ?", email):
            return {"error": "this invitation was already used"}, 409
        db.execute("INSERT INTO users (email, created) VALUES (?, ?)", email, db.now())
        return {"welcome": email}, 201

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
        users, rows = db.seed(weeks, table=table)
        print(f"{users} users and {rows} {table} over {weeks} weeks")

    return app


#: How long an invitation link stays valid (seconds): a week.
INVITATION_MAX_AGE = 7 * 24 * 3600


def _invitations():
    """Signs invitation links with the app's secret key (from the environment)."""
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(os.environ["SECRET_KEY"], salt="invitation")


def _redis():
    import redis

    return redis.Redis.from_url(os.environ["REDIS_URL"])


def _queue():
    from rq import Queue

    return Queue(connection=_redis())
