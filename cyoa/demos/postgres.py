"""A throwaway PostgreSQL cluster: initdb in the scratch directory, a loopback port.

PostgreSQL refuses to run as root, so when the demos run as root (a container, CI) the
server programs run as ``nobody``. Demo ``postgres``: the delivery table, and the app
(under gunicorn) writing to it.
"""

from __future__ import annotations

import os
import subprocess

import requests

from cyoa.demos import processes, scratch
from cyoa.demos.app import app_env, checkout
from cyoa.demos.runner import Run, demo
from cyoa.demos.wsgi import init_db, start_gunicorn


class Cluster:
    """One PostgreSQL server: its data directory, its port, and psql against it."""

    def __init__(self, run: Run, name: str = "primary") -> None:
        self.run = run
        self.name = name
        self.root = run.scratch / "pg"
        self.data = self.root / name
        self.port = processes.free_port()
        self.service: processes.Service | None = None

    def _tool(self, tool: str, *args: str) -> list[str]:
        would = [f"{tool} {' '.join(args)}"]
        return [self.run.need(tool, would), *args]

    def init(self) -> None:
        """``initdb``: a new, empty cluster (as an unprivileged user when we are root)."""
        if os.geteuid() == 0:
            scratch.open_to(self.root, "nobody")
        argv = self._tool("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust")
        done = self.run.sh(
            processes.unprivileged([*argv, "-E", "UTF8", "--no-instructions"]),
            show_output=False,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
        )
        self.run.show(done.stdout.strip().splitlines()[-1])

    def start(self, *settings: str) -> processes.Service:
        """The server in the foreground on 127.0.0.1:port, its socket in the scratch dir."""
        argv = self._tool("postgres", "-D", str(self.data), "-p", str(self.port))
        extra = ["-k", str(self.root), "-c", "listen_addresses=127.0.0.1"]
        for setting in settings:
            extra += ["-c", setting]
        self.service = self.run.start(
            f"postgres-{self.name}",
            processes.unprivileged([*argv, *extra]),
            port=self.port,
            ready=self.ready,
            timeout=30,
        )
        return self.service

    def ready(self) -> bool:
        check = ["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port)]
        return subprocess.run(check, check=False).returncode == 0

    def psql(self, sql: str, db: str = "dachshund", check: bool = True) -> str:
        """Run SQL with psql, as a person would type it; returns what psql printed."""
        argv = self._tool("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres")
        argv += ["-d", db, "-v", "ON_ERROR_STOP=1", "-c", sql]
        done = self.run.sh(argv, check=check)
        return (done.stdout + done.stderr).strip()

    def value(self, sql: str, db: str = "dachshund") -> str:
        """One value, quietly (for the demo's own checks)."""
        argv = self._tool("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres")
        argv += ["-d", db, "-tAc", sql]
        done = subprocess.run(argv, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    def url(self, db: str = "dachshund") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"


@demo("postgres", "A database: PostgreSQL, and the app writing deliveries to it")
def postgres_demo(run: Run, deliveries: int = 3) -> None:
    """A throwaway cluster, the app's tables, and deliveries written through the app."""
    run.step("A throwaway PostgreSQL cluster (initdb, then the server on a loopback port)")
    db = Cluster(run)
    db.init()
    db.start()
    db.psql("CREATE DATABASE dachshund", db="postgres")
    run.step("The app creates its tables (DATABASE_URL points at PostgreSQL)")
    code = checkout(run)
    env = app_env(run, DATABASE_URL=db.url())
    init_db(run, code, env, show=True)
    db.psql(r"\d deliveries")
    run.step("The app, under gunicorn, takes delivery requests")
    server = start_gunicorn(run, code, workers=2, env=env)
    for n in range(1, deliveries + 1):
        form = {"sender": f"customer{n}@example.com", "recipient": "hq@example.com"}
        form["document"] = "nda.pdf"
        response = requests.post(server.url("/deliveries"), data=form, timeout=10)
        run.show(f"POST /deliveries → {response.status_code}")
    run.step("What is in the delivery table now")
    db.psql("SELECT id, sender, recipient, document FROM deliveries ORDER BY id")
    run.fact("rows", int(db.value("SELECT count(*) FROM deliveries")), "deliveries stored")
    run.fact("engine", db.value("SELECT version()").split(" on ")[0], "database")
