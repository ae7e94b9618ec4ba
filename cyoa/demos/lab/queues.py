"""Chapter 3 (async): the learner's ``rq worker`` command against the app's queue.

The app enqueues a crawl on RQ's ``default`` queue in Redis db 0 (its ``REDIS_URL``), and a
nightly job is scheduled for a few seconds later. The lab starts a throwaway Redis where the
learner's ``--url`` points (placed like every address), the app, and the learner's worker,
then watches both jobs: a worker that listens to another queue or another db, or that runs
no scheduler, leaves a job waiting, and the check says which and why.
"""

from __future__ import annotations

import contextlib
import re
import sys
from datetime import timedelta
from pathlib import Path

import requests

from cyoa.demos import processes, tools
from cyoa.demos.app import app_env, checkout
from cyoa.demos.lab.files import APP_DIR, Placement, command_lines, command_words, read_source
from cyoa.demos.lab.frame import (
    LabInputError,
    LabResult,
    conclude,
    could_not_start,
    problem,
    unlisted,
)
from cyoa.demos.runner import Run
from cyoa.demos.tasks import start_redis
from cyoa.demos.wsgi import init_db, start_gunicorn

QUEUE_GOAL = "the crawl done by the worker, and the nightly job run when it is due"
#: Where the app's queue lives, in the learner's terms (the app's EnvironmentFile says so).
APP_REDIS_PORT, APP_DB, APP_QUEUE = 6379, 0, "default"
REDIS_URL = re.compile(r"redis://(?:127\.0\.0\.1|localhost):(\d{1,5})(?:/(\d+))?/?")
#: Options that would load other code or another connection than the command line names.
REFUSED = {"-c", "--config", "--connection-class", "--worker-class", "--queue-class", "-j"}
REFUSED |= {"--job-class", "-w", "--exception-handler", "-S", "--serializer", "--pid"}
#: Options of ``rq worker`` that take a value (so the next word is not a queue name).
VALUED = {"-u", "--url", "-n", "--name", "-P", "--path", "--logging_level", "--log-format"}
VALUED |= {"--date-format", "--results-ttl", "--worker-ttl", "--maintenance-interval"}
VALUED |= {"--job-monitoring-interval", "--max-jobs", "--max-idle-time", "-ds"}
VALUED |= {"--dequeue-strategy"}
BURST = (
    "--burst stops a worker as soon as the queue is empty; a server's worker runs for good, "
    "under its own unit"
)
#: How long the crawl may take, and when the nightly job falls due (seconds).
CRAWL_PAGES, DUE_IN, PATIENCE = 3, 2, 10


class WorkerCommand:
    """The learner's ``rq worker`` line, parsed: its argv, the db and queues it watches."""

    def __init__(self, line: str) -> None:
        options = command_words(line, ["rq", "worker"], "worker")[2:]
        if refused := [w for w in options if w.split("=", 1)[0] in REFUSED]:
            raise LabInputError(
                f"drop {refused[0]}: the lab runs RQ's own worker, on the connection --url names"
            )
        self.queues, self.url = [], None
        n = 0
        while n < len(options):
            word = options[n]
            name, has_value, value = word.partition("=")
            if name in ("-u", "--url"):
                self.url = value if has_value else options[n + 1] if n + 1 < len(options) else ""
            if name in VALUED and not has_value:
                n += 1
            elif not word.startswith("-"):
                self.queues.append(word)
            n += 1
        found = REDIS_URL.fullmatch(self.url or "")
        if not found:
            raise LabInputError(
                f"give rq worker --url redis://127.0.0.1:PORT/DB (got {self.url or 'no --url'}): "
                "the lab never uses a Redis beyond its own"
            )
        self.port, self.db = int(found.group(1)), int(found.group(2) or 0)
        self.queues = self.queues or [APP_QUEUE]
        self.scheduler = any(w in ("-s", "--with-scheduler") for w in options)
        self.burst = any(w in ("-b", "--burst") for w in options)
        has_path = any(w.split("=", 1)[0] in ("-P", "--path") for w in options)
        self.argv = [sys.executable, "-m", "rq.cli", "worker", *options]
        if not has_path:  # the app's folder, as the server's unit runs it (WorkingDirectory)
            self.argv += ["--path", APP_DIR]


def read_worker(source: str | Path) -> WorkerCommand:
    """The one ``rq worker`` line of the learner's file (comments and blank lines skipped)."""
    lines = command_lines(read_source(source, "worker command"), "worker")
    if len(lines) != 1:
        raise LabInputError(f"the worker file holds {len(lines)} command lines: give one")
    return WorkerCommand(lines[0])


def _registered(url: str) -> bool:
    """A worker has registered with the Redis at ``url`` (False while it cannot be reached)."""
    import redis
    from rq import Worker

    try:
        return bool(Worker.all(connection=redis.Redis.from_url(url)))
    except redis.RedisError:
        return False


def _why_quit(worker: WorkerCommand) -> str:
    return f" ({BURST})" if worker.burst else ""


def _start_problem(worker: WorkerCommand, said: str) -> str:
    """Why the worker never came up (or came and went)."""
    if worker.burst:
        return f"the worker quit at once, the queue being empty: {BURST}"
    if worker.port != APP_REDIS_PORT and "refused" in said.lower():
        return (
            f"rq worker could not connect: nothing listens on 127.0.0.1:{worker.port}, where "
            f"your --url points. The app's Redis is 127.0.0.1:{APP_REDIS_PORT}"
        )
    return f"rq worker did not start: {said.rstrip('.')}"


def _crawl_problem(worker: WorkerCommand, status: str, quit_early: bool) -> str:
    """Why the enqueued crawl was not done, as the learner would fix it."""
    if quit_early:
        return f"the crawl is still {status}: the worker had quit" + _why_quit(worker)
    if APP_QUEUE not in worker.queues:
        return (
            f"the crawl is still {status}: your worker listens to {', '.join(worker.queues)}, "
            f"and the app puts its jobs on the {APP_QUEUE} queue. Name {APP_QUEUE} too (or no "
            "queue at all: default is what a worker listens to then)"
        )
    if worker.db != APP_DB:
        return (
            f"the crawl is still {status}: your worker watches Redis db {worker.db}, and the "
            f"app's REDIS_URL says db {APP_DB}. A queue lives in one db: the worker's --url "
            "must name the app's"
        )
    return f"the crawl is still {status} after {PATIENCE} s"


def _nightly_problem(worker: WorkerCommand, status: str, quit_early: bool) -> str:
    """Why the job scheduled for later did not run."""
    if quit_early:
        return f"the nightly job is still {status}: the worker had quit" + _why_quit(worker)
    if not worker.scheduler:
        return (
            f"the nightly job is still {status}: nothing moves a job to its queue when it falls "
            "due. RQ's scheduler runs inside a worker started with --with-scheduler"
        )
    if APP_QUEUE not in worker.queues or worker.db != APP_DB:
        return (
            f"the nightly job is still {status}: a worker's scheduler moves due jobs only onto "
            "the queues it listens to, in its own db"
        )
    return f"the nightly job is still {status} {PATIENCE} s after it fell due"


@unlisted("lab-queue", "Your worker: the app's queue in Redis, a crawl and a nightly job")
def _background(run: Run, worker_file: str | Path, check: bool) -> None:
    try:
        worker = read_worker(worker_file)
    except LabInputError as error:
        problem(run, str(error))
        return could_not_start(run, check, QUEUE_GOAL)
    tools.need_module("rq", ["rq worker --with-scheduler"])
    import redis
    from rq import Queue
    from rq.job import Job

    code = checkout(run)
    run.step("Redis for the queue, and the app, whose REDIS_URL names db 0")
    app_url = start_redis(run)
    redis_port = int(app_url.rsplit(":", 1)[1].split("/")[0])
    places = Placement(app=code, www=run.scratch / "www")
    places.port(APP_REDIS_PORT, redis_port)
    env = app_env(run, REDIS_URL=app_url)
    init_db(run, code, env)
    app = start_gunicorn(run, code, workers=2, env=env)
    run.step("Your worker command, started in the app's folder")
    argv = [places.place(word) for word in worker.argv]
    places.show(run)
    worker_url = places.place(worker.url or "")
    try:
        service = run.start(
            "rq-worker", argv, cwd=code, env=env, ready=lambda: _registered(worker_url)
        )
    except (RuntimeError, TimeoutError) as error:
        said = run.short(str(error)).strip().splitlines()
        run.show("\n".join(said[-3:]))
        problem(run, _start_problem(worker, said[-1] if said else str(error)))
        return could_not_start(run, check, QUEUE_GOAL)
    connection = redis.Redis.from_url(app_url)
    run.fact("worker_queues", worker.queues, "your worker listens to")
    run.fact("worker_db", worker.db, "in Redis db")
    run.fact("scheduler", worker.scheduler, "with RQ's scheduler")

    run.step(f"A visitor asks for a crawl of {CRAWL_PAGES} pages: the app enqueues it")
    response = requests.post(app.url("/crawl"), data={"pages": CRAWL_PAGES}, timeout=30)
    run.show(f"POST /crawl → {response.status_code}: {response.json()}")
    crawl = Job.fetch(response.json()["job"], connection=connection)
    run.step(f"A nightly job, enqueue_in({DUE_IN} s) on the app's queue")
    nightly = Queue(APP_QUEUE, connection=connection).enqueue_in(
        timedelta(seconds=DUE_IN), "tasks.refresh_likes", app_url
    )
    run.say(f"queue.enqueue_in(timedelta(seconds={DUE_IN}), tasks.refresh_likes)")

    def both_ended() -> bool:
        ended = {crawl.get_status(refresh=True), nightly.get_status(refresh=True)}
        return ended <= {"finished", "failed"}

    with contextlib.suppress(TimeoutError):  # what still waits, and why, is the verdict
        processes.wait_until(both_ended, timeout=DUE_IN + PATIENCE)
    crawl_status = crawl.get_status(refresh=True).value
    nightly_status = nightly.get_status(refresh=True).value
    quit_early = service.popen.poll() is not None
    run.show(run.short(service.log_tail(4)))
    run.fact("crawl_status", crawl_status, "the crawl")
    if crawl_status == "finished":
        by_worker = str(crawl.return_value()["pid"]) != response.headers.get("X-App-Pid")
        run.fact("crawl_by_worker", by_worker, "done outside the web process")
    run.fact("nightly_status", nightly_status, "the nightly job")
    run.fact("worker_quit", quit_early, "the worker had quit")
    problems = []
    if crawl_status != "finished":
        problems.append(_crawl_problem(worker, crawl_status, quit_early))
    if nightly_status != "finished":
        problems.append(_nightly_problem(worker, nightly_status, quit_early))
    conclude(run, problems, check, QUEUE_GOAL)


def background(worker: str | Path, product: str = "dachshund") -> LabResult:
    """The app enqueues a crawl and schedules a nightly job; your worker command runs them."""
    return _background(worker_file=worker, check=False, product=product)


def check_background(worker: str | Path, product: str = "dachshund") -> LabResult:
    """Pass when your worker does the crawl, and the nightly job runs once it is due."""
    return _background(worker_file=worker, check=True, product=product)
