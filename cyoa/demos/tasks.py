"""Background work: a throwaway Redis, an RQ worker, and the app enqueueing jobs.

Demo ``async-rq``: a slow crawl inside the request, then the same crawl enqueued (the
request returns at once, a worker process does the job), then a job scheduled for later
with RQ's built-in scheduler (``rq worker --with-scheduler``).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from cyoa.demos import processes, tools
from cyoa.demos.app import app_env, checkout
from cyoa.demos.runner import Run, demo
from cyoa.demos.wsgi import init_db, start_gunicorn


def start_redis(run: Run) -> str:
    """A Redis of our own on a free loopback port, nothing saved to disk; returns its URL."""
    port = processes.free_port()
    binary = run.need("redis-server", [f"redis-server --port {port} --bind 127.0.0.1"])
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
    run.start("redis", [*argv, "no", "--dir", str(run.scratch)], port=port)
    return f"redis://127.0.0.1:{port}/0"


def start_worker(run: Run, code: Path, env: dict[str, str]) -> processes.Service:
    """``rq worker --with-scheduler`` in the app's directory, ready once it registered."""
    tools.need_module("rq", ["rq worker --with-scheduler"])
    import redis
    from rq import Worker

    connection = redis.Redis.from_url(env["REDIS_URL"])
    argv = [sys.executable, "-m", "rq.cli", "worker", "--with-scheduler", "-u", env["REDIS_URL"]]
    return run.start(
        "rq-worker",
        [*argv, "-P", str(code)],
        cwd=code,
        env=env,
        ready=lambda: bool(Worker.all(connection=connection)),
    )


def timed_post(url: str, data: dict) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = requests.post(url, data=data, timeout=30)
    return response, round(time.monotonic() - started, 2)


@demo("async-rq", "Asynchronous tasks: RQ on Redis, and a worker doing the slow work")
def async_rq_demo(run: Run, pages: int = 4) -> None:
    """Crawl in the request (slow) versus enqueued (instant), plus a scheduled job."""
    tools.need_module("rq", ["pip install rq", "rq worker --with-scheduler"])
    import redis
    from rq import Queue
    from rq.job import Job

    code = checkout(run)
    run.step("Redis for the queue, the app, and one RQ worker")
    url = start_redis(run)
    env = app_env(run, REDIS_URL=url)
    init_db(run, code, env)
    server = start_gunicorn(run, code, workers=2, env=env)
    worker = start_worker(run, code, env)
    run.step(f"Crawling {pages} partner pages inside the request: the visitor waits")
    response, seconds = timed_post(server.url("/crawl"), {"pages": pages, "mode": "inline"})
    run.show(f"POST /crawl (inline) → {response.status_code} after {seconds} s")
    run.fact("inline_seconds", seconds, "the visitor waited (s)")
    crawled = response.json()["done"]["pages"]
    run.fact("inline_answer_waited_for_the_crawl", crawled == pages, "the answer held the crawl")
    run.step("The same crawl, enqueued: the request returns at once")
    response, seconds = timed_post(server.url("/crawl"), {"pages": pages})
    answered_at = datetime.now(UTC)
    job_id = response.json()["job"]
    run.show(f"POST /crawl → {response.status_code} after {seconds} s: {response.json()}")
    run.fact("queued_seconds", seconds, "the visitor waited (s)")
    connection = redis.Redis.from_url(url)
    job = Job.fetch(job_id, connection=connection)
    processes.wait_until(lambda: job.get_status(refresh=True) == "finished", timeout=pages * 2 + 5)
    result = job.return_value()
    run.show(run.short(worker.log_tail(3)))
    run.fact("job_status", str(job.get_status().value), "the job")
    job.refresh()  # get_status refreshes the status alone; ended_at comes with the rest
    ended = job.ended_at if job.ended_at.tzinfo else job.ended_at.replace(tzinfo=UTC)
    run.fact("answered_before_the_job_ended", answered_at < ended, "the visitor did not wait")
    web_pid = response.headers.get("X-App-Pid")
    run.fact("done_by_worker", str(result["pid"]) != web_pid, "done outside the web process")
    run.step("A job scheduled for later (RQ's scheduler runs inside the worker)")
    queue = Queue(connection=connection)
    # RQ keeps a scheduled job's time to the second, so it may start up to 1 s "early".
    due_at = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
    due = queue.enqueue_in(timedelta(seconds=2), "tasks.refresh_likes", url)
    run.say(f"queue.enqueue_in(timedelta(seconds=2), tasks.refresh_likes) → job {due.id[:8]}")
    held = due.get_status(refresh=True).value
    run.fact("scheduled_status", held, "until it is due, the job is")
    started = time.monotonic()
    processes.wait_until(lambda: connection.get("likes:refreshed-at") is not None, timeout=10)
    after = round(time.monotonic() - started, 1)
    run.fact("scheduled_ran_after", after, "the scheduled job ran after (s)")
    due.refresh()
    began = due.started_at if due.started_at.tzinfo else due.started_at.replace(tzinfo=UTC)
    run.fact("scheduled_waited_until_due", began >= due_at, "not started before it was due")
