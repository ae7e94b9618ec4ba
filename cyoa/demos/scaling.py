"""Scaling out: more app processes behind one nginx upstream, measured with a short load test.

Demo ``scaling``: one gunicorn process with one worker, then a second app server added to
nginx's ``upstream`` block (reloaded without downtime), with requests spread between them.
The endpoint does real CPU work, so the gain is bounded by this machine's cores: the
numbers are for comparing, on the same machine, in the same minute.
"""

from __future__ import annotations

import os
from collections import Counter

import requests

from cyoa.demos import load
from cyoa.demos.app import app_env, checkout
from cyoa.demos.nginx import Nginx, site_conf
from cyoa.demos.runner import Run, demo
from cyoa.demos.wsgi import init_db, start_gunicorn

WORK = "/route?work=3000"


def spread(nginx: Nginx, requests_count: int = 20) -> dict[str, int]:
    """Which app process answered each of a few requests (nginx round-robins)."""
    pids = Counter(
        requests.get(nginx.url(WORK), timeout=10).headers.get("X-App-Pid", "?")
        for _ in range(requests_count)
    )
    return dict(pids)


@demo("scaling", "Scaling: more app servers behind an nginx upstream")
def scaling_demo(run: Run, seconds: float = 2.0) -> None:
    """Requests per second with one app process, then two, through the same nginx."""
    code = checkout(run)
    env = app_env(run)
    init_db(run, code, env)
    run.step("One app server (gunicorn, 1 worker) behind nginx")
    first = start_gunicorn(run, code, workers=1, env={**env, "INSTANCE": "a"}, name="app-a")
    nginx = Nginx(run)
    nginx.configure(site_conf(nginx.root, nginx.port, [first.port]), show=False)
    nginx.start()
    one = load.measure(nginx.url(WORK), seconds)
    run.say(f"load: {run.short(one['command'])}")
    run.fact("rps_one", one["rps"], "requests/s with one app process")
    run.step("A second app server, added to the upstream block; nginx reloads, no downtime")
    second = start_gunicorn(run, code, workers=1, env={**env, "INSTANCE": "b"}, name="app-b")
    nginx.configure(site_conf(nginx.root, nginx.port, [first.port, second.port]))
    nginx.test()
    nginx.reload(lambda: len(spread(nginx, 6)) == 2)
    shares = spread(nginx)
    run.show(f"20 requests, answered by process ids: {shares}")
    run.fact("processes_answering", len(shares), "app processes sharing the requests")
    two = load.measure(nginx.url(WORK), seconds)
    run.fact("rps_two", two["rps"], "requests/s with two app processes")
    cores = os.cpu_count() or 1
    run.fact("cores", cores, "CPU cores on this machine (shared with nginx and the load tool)")
    run.say("More processes help until the cores are busy; past that, add machines: the")
    run.say("same upstream block lists servers on other hosts as easily as local ports.")
