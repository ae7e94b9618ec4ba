"""The learner's site served for real: app clone, gunicorn, static files, nginx."""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from cyoa.demos import processes
from cyoa.demos.app import app_env, checkout
from cyoa.demos.lab.files import (
    APP_DIR,
    STATIC_DIR,
    WWW_DIR,
    Placement,
    listen_port,
    parse_gunicorns,
    read_source,
)
from cyoa.demos.lab.frame import (
    LabInputError,
    problem,
)
from cyoa.demos.nginx import Nginx
from cyoa.demos.runner import Run
from cyoa.demos.wsgi import init_db


@dataclass
class Site:
    """The running pieces of one lab run: nginx, and the app servers by the learner's port."""

    nginx: Nginx
    apps: dict[int, processes.Service] = field(default_factory=dict)


def serve(run: Run, site_text: str, gunicorn_text: str | None, **app_vars: str) -> Site | None:
    """The deck's launch, from the learner's files: app clone, gunicorn, static files, nginx.

    Each gunicorn line is one app server; its ``INSTANCE`` is the address the learner gave
    it, so its answers say which one it is. Returns None, with the reason recorded as a
    problem, when an app server does not start or nginx rejects the config.
    """
    nginx = Nginx(run)
    code = checkout(run)
    places = Placement(app=code, www=run.scratch / WWW_DIR.strip("/"))
    places.port(listen_port(site_text), nginx.port)
    commands = parse_gunicorns(gunicorn_text) if gunicorn_text is not None else []
    env = app_env(run, **app_vars)
    init_db(run, code, env)
    shutil.copytree(code / "static", places.place(STATIC_DIR))
    run.say(f"$ cp -r {APP_DIR}/static {STATIC_DIR}   (the deploy copies the static files)")
    running = Site(nginx)
    for command in commands:
        run.step(f"Your gunicorn command, started in {APP_DIR} (the app's clone)")
        port = places.port(command.port)
        try:
            running.apps[command.port] = run.start(
                "gunicorn" if len(commands) == 1 else f"gunicorn-{command.port}",
                [places.place(word) for word in command.argv],
                port=port,
                cwd=code,
                env={**env, "INSTANCE": f"127.0.0.1:{command.port}"},
                ready=processes.http_ready(f"http://127.0.0.1:{port}/healthz"),
            )
        except (RuntimeError, TimeoutError) as error:
            said = run.short(str(error)).strip().splitlines()
            run.show("\n".join(said[-3:]))
            problem(run, f"gunicorn did not start: {said[-1] if said else error}")
            return None
    run.step("Your site config, placed on this machine")
    placed = places.place(site_text)
    places.show(run)
    nginx.configure(placed)
    binary = run.need("nginx", [" ".join(nginx.command("-t"))])
    tested = run.sh([binary, *nginx.command("-t")[1:]], check=False)
    run.fact("config_ok", tested.returncode == 0, "nginx -t")
    if tested.returncode != 0:
        said = (tested.stdout + tested.stderr).strip().splitlines()[0]
        said = re.sub(r"^.*?\[emerg\] [\d#]+: ", "", said).replace(str(nginx.site), "your site")
        problem(run, f"nginx -t rejects the site config: {run.short(said)}")
        return None
    nginx.start()
    return running


def visit(run: Run, site: Site, path: str, timeout: float = 30) -> dict:
    """GET ``path`` through nginx: status, who answered, how long, what nginx logged."""
    logged = len(site.nginx.errors())
    started = time.monotonic()
    response = requests.get(site.nginx.url(path), timeout=timeout)
    seconds = round(time.monotonic() - started, 1)
    by_app = "X-App" in response.headers
    who = f"the app ({response.headers['X-App']})" if by_app else "not the app (no X-App)"
    run.say(f"$ curl -i {site.nginx.url(path)}")
    run.show(f"HTTP/1.1 {response.status_code} {response.reason}   ← {who}, {seconds} s")
    errors = [line.split("] ", 1)[-1] for line in site.nginx.errors()[logged:]]
    for line in errors[-2:]:
        run.show(run.short(f"error.log: {line}"))
    return {
        "status": response.status_code,
        "by_app": by_app,
        "seconds": seconds,
        "error": run.short(errors[-1]) if errors else "",
    }


def start_site(
    run: Run, site: str | Path, gunicorn: str | Path | None, **app_vars: str
) -> Site | None:
    """Read the learner's files and serve them; a file the lab cannot run is a problem."""
    try:
        site_text = read_source(site, "site config")
        gunicorn_text = read_source(gunicorn, "gunicorn command") if gunicorn is not None else None
        return serve(run, site_text, gunicorn_text, **app_vars)
    except LabInputError as error:
        problem(run, str(error))
        return None
