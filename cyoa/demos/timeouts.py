"""The other fix for timeouts: a cache, and more workers.

Demo ``timeouts-cache``: a slow report behind nginx with one sync gunicorn worker; a few
visitors at once and the last ones get ``504 Gateway Time-out`` (each waits for the ones
before). Then two fixes, measured the same way: cache the report in Redis, or run more
workers so requests no longer queue behind each other.
"""

from __future__ import annotations

from cyoa.demos import load, processes
from cyoa.demos.app import app_env, checkout
from cyoa.demos.nginx import Nginx, site_conf
from cyoa.demos.runner import Run, demo
from cyoa.demos.tasks import start_redis
from cyoa.demos.wsgi import init_db, start_gunicorn


def visit(run: Run, nginx: Nginx, clients: int) -> list[dict]:
    """``clients`` visitors ask for the report at the same moment."""
    outcomes = load.burst(nginx.url("/report"), clients)
    for n, outcome in enumerate(outcomes, 1):
        run.show(f"visitor {n}: {outcome['status']} after {outcome['seconds']} s")
    return outcomes


def all_ok(outcomes: list[dict]) -> bool:
    return all(o["status"] == 200 for o in outcomes)


@demo("timeouts-cache", "Timeouts: a slow report, then a cache and more workers")
def timeouts_demo(run: Run, clients: int = 5, report_seconds: float = 0.8) -> None:
    """504s under a small burst, then all 200s with a cache, and with more workers."""
    code = checkout(run)
    url = start_redis(run)
    env = app_env(run, REDIS_URL=url, REPORT_SECONDS=str(report_seconds))
    init_db(run, code, env)
    nginx = Nginx(run)
    port = processes.free_port()
    nginx.configure(site_conf(nginx.root, nginx.port, [port], read_timeout="2s"), show=False)
    run.step("nginx gives up on the app after 2 s (proxy_read_timeout 2s)")
    run.show("    proxy_read_timeout 2s;")
    nginx.start()
    run.step(f"The report takes {report_seconds} s; one sync worker; {clients} visitors at once")
    server = start_gunicorn(run, code, port, workers=1, env=env)
    before = visit(run, nginx, clients)
    run.fact("before", [o["status"] for o in before], "statuses, one worker, no cache")
    run.stop(server)
    run.step("Fix 1: cache the report in Redis for a minute (CACHE=1), still one worker")
    server = start_gunicorn(run, code, port, workers=1, env={**env, "CACHE": "1"})
    cached = visit(run, nginx, clients)
    run.fact("with_cache", [o["status"] for o in cached], "statuses with the cache")
    run.stop(server)
    run.step(f"Fix 2: no cache, but {clients} sync workers: nobody queues behind anybody")
    start_gunicorn(run, code, port, workers=clients, env=env)
    workers = visit(run, nginx, clients)
    run.fact("more_workers", [o["status"] for o in workers], f"statuses with {clients} workers")
    run.fact("fixed", all_ok(cached) and all_ok(workers) and not all_ok(before))
    run.say("A cache removes the work; workers share it out. Work that is slow by nature")
    run.say("(waiting on another company's site) needs another fix: work outside the request.")
