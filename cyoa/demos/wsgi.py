"""The WSGI server: Green Unicorn (gunicorn) runs the app, nginx proxies to it.

Demo ``gunicorn``: the 502 becomes a 200 once gunicorn listens where nginx points, and a
short load comparison with Flask's development server.
"""

from __future__ import annotations

import sys
from pathlib import Path

import requests

from cyoa.demos import load, processes
from cyoa.demos.app import app_env, checkout, flask_cmd
from cyoa.demos.nginx import Nginx, site_conf
from cyoa.demos.runner import Run, demo


def _quiet_flags() -> list[str]:
    """Recent gunicorn opens a control socket in ~/.gunicorn: not for a throwaway demo."""
    from gunicorn.config import Config

    return ["--no-control-socket"] if "control_socket" in Config().settings else []


def gunicorn_cmd(port: int, workers: int = 2, *extra: str) -> list[str]:
    """How a server runs the app: gunicorn with ``workers`` processes on a loopback port."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        *_quiet_flags(),
        *extra,
        "wsgi:app",
    ]


def start_gunicorn(
    run: Run,
    code: Path,
    port: int | None = None,
    workers: int = 2,
    extra: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    name: str = "gunicorn",
) -> processes.Service:
    """gunicorn serving the cloned app, ready when ``/healthz`` answers."""
    port = port or processes.free_port()
    return run.start(
        name,
        gunicorn_cmd(port, workers, *extra),
        port=port,
        cwd=code,
        env=env or app_env(run),
        ready=processes.http_ready(f"http://127.0.0.1:{port}/healthz"),
    )


def init_db(run: Run, code: Path, env: dict[str, str], show: bool = False) -> None:
    """``flask init-db`` in the app's directory, as a deploy would."""
    import os

    run.sh(flask_cmd("init-db"), cwd=code, env={**os.environ, **env}, show_output=show)


@demo("gunicorn", "A WSGI server behind nginx: gunicorn, and the 502 becomes a 200")
def gunicorn_demo(run: Run, seconds: float = 2.0) -> None:
    """nginx first (502), then gunicorn on the port it proxies to (200), then a load test."""
    code = checkout(run)
    env = app_env(run)
    init_db(run, code, env)
    run.step("nginx is up, proxying to a port where nothing listens yet")
    nginx = Nginx(run)
    app_port = processes.free_port()
    nginx.configure(site_conf(nginx.root, nginx.port, [app_port]), show=False)
    nginx.start()
    before = requests.get(nginx.url("/"), timeout=5).status_code
    run.fact("status_before", before, "through nginx, before")
    run.step("Start gunicorn with 4 worker processes on that port")
    server = start_gunicorn(run, code, app_port, workers=4, env=env)
    run.show(run.short(server.log_tail(4)))
    after = requests.get(nginx.url("/"), timeout=5)
    run.fact("status_after", after.status_code, "through nginx, now")
    run.fact("answered_by", after.headers.get("X-App", ""), "page served by the app")
    run.step(f"A short load test: the development server vs gunicorn ({seconds:.0f} s each)")
    dev_port = processes.free_port()
    dev = run.start(
        "flask-dev-server",
        flask_cmd("run", "--port", str(dev_port)),
        port=dev_port,
        cwd=code,
        env=env,
        ready=processes.http_ready(f"http://127.0.0.1:{dev_port}/healthz"),
    )
    dev_result = load.measure(dev.url("/route?work=2000"), seconds)
    run.say(f"load generator: {dev_result['command']}")
    run.fact("dev_rps", dev_result["rps"], "flask run (development server), requests/s")
    guni_result = load.measure(server.url("/route?work=2000"), seconds)
    run.fact("gunicorn_rps", guni_result["rps"], "gunicorn, 4 workers, requests/s")
    run.say("Honest reading: Flask's dev server is threaded, so it is not always slower.")
    run.say("It is built for one developer: one process (Python's GIL), no worker restarts,")
    run.say("no timeouts, a debugger if misconfigured. gunicorn runs and supervises processes.")
