"""A throwaway PostgreSQL cluster: initdb in the scratch directory, a loopback port.

PostgreSQL refuses to run as root, so when the demos run as root (a container, CI) the
server programs run as ``nobody``. The superuser connects only through the socket in the
scratch directory; TCP needs a password (SCRAM). Demo ``postgres``: the app's own role and
database, the product's table, and the app (under gunicorn) writing to it.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess

import requests

from cyoa.demos import processes, scratch
from cyoa.demos.app import app_env, checkout
from cyoa.demos.runner import Run, demo
from cyoa.demos.wsgi import init_db, start_gunicorn

#: Each product's own table (the app's company.py says the same) and its columns.
TABLES = {
    "dachshund": ("deliveries", ("customer", "recipient", "document")),
    "pets": ("playdates", ("customer", "pet", "park")),
}
EXAMPLES = {
    "dachshund": lambda n: (f"customer{n}@example.com", "hq@example.com", "nda.pdf"),
    "pets": lambda n: (f"owner{n}@example.com", ("Rex", "Biscuit", "Luna")[n % 3], "the park"),
}


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
        # As Debian sets it up: the superuser only through the local socket (here in the
        # scratch dir, trusted); every TCP connection needs a password, checked with SCRAM.
        argv = self._tool("initdb", "-D", str(self.data), "-U", "postgres", "--auth-local=trust")
        argv += ["--auth-host=scram-sha-256"]
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

    def admin(self, tool: str, *args: str) -> list[str]:
        """A client tool as the superuser, through the server's socket (``sudo -u postgres``)."""
        return self._tool(tool, "-h", str(self.root), "-p", str(self.port), "-U", "postgres", *args)

    def psql(self, sql: str, db: str = "app", check: bool = True) -> str:
        """Run SQL with psql, as a person would type it; returns what psql printed."""
        argv = self.admin("psql", "-d", db, "-v", "ON_ERROR_STOP=1", "-c", sql)
        done = self.run.sh(argv, check=check)
        return (done.stdout + done.stderr).strip()

    def value(self, sql: str, db: str = "app") -> str:
        """One value, quietly (for the demo's own checks)."""
        argv = self.admin("psql", "-d", db, "-tAc", sql)
        done = subprocess.run(argv, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    def create_app_role(self, role: str = "app") -> str:
        """A login role of the app's own with a random password, and a database it owns.

        Returns the app's ``DATABASE_URL`` (TCP, so the password is checked with SCRAM);
        the password is never printed.
        """
        password = secrets.token_urlsafe(18)
        self.run.say(f"$ psql -c \"CREATE ROLE {role} LOGIN PASSWORD '…'\"   (a random one)")
        self.value(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'", db="postgres")
        self.psql(f"CREATE DATABASE {role} OWNER {role}", db="postgres")
        return f"postgresql://{role}:{password}@127.0.0.1:{self.port}/{role}"

    def url(self, db: str = "app") -> str:
        """The superuser's URL, through the socket (for tools run by the demo itself)."""
        return f"postgresql://postgres@/{db}?host={self.root}&port={self.port}"


def masked(url: str) -> str:
    """A connection URL with its password hidden, for the slide."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:…@", url)


@demo("postgres", "A database: PostgreSQL, a role of the app's own, and the app writing to it")
def postgres_demo(run: Run, rows: int = 3) -> None:
    """A throwaway cluster, the app's own role and database, and rows written by the app."""
    table, fields = TABLES[run.product]
    run.step("A throwaway PostgreSQL cluster (initdb, then the server on a loopback port)")
    db = Cluster(run)
    db.init()
    db.start()
    run.step("A role of the app's own, with a password, owning only its own database")
    url = db.create_app_role()
    db.psql(
        "SELECT rolname, rolsuper, left(rolpassword, 13) AS password FROM pg_authid"
        " WHERE rolname = 'app'",
        db="postgres",
    )
    run.fact("app_role_superuser", db.value("SELECT rolsuper FROM pg_roles WHERE rolname = 'app'"))
    stored = db.value("SELECT left(rolpassword, 13) FROM pg_authid WHERE rolname = 'app'")
    run.fact("password_stored_as", stored, "the password is stored as")
    db.psql(
        "SELECT type, address, auth_method FROM pg_hba_file_rules WHERE type = 'host'"
        " AND NOT 'replication' = ANY(database)"
    )
    run.step("A wrong password is refused")
    wrong = re.sub(r":[^:@]*@", ":not-the-password@", url, count=1)
    refused = db.run.sh([db.run.need("psql"), wrong, "-c", "SELECT 1"], check=False)
    run.fact("wrong_password_refused", refused.returncode != 0, "refused")
    run.step("The app creates its tables, connecting as that role (DATABASE_URL)")
    run.say(f"DATABASE_URL={masked(url)}")
    code = checkout(run)
    env = app_env(run, DATABASE_URL=url)
    init_db(run, code, env, show=True)
    db.psql(rf"\d {table}")
    run.step("The app, under gunicorn, takes requests")
    server = start_gunicorn(run, code, workers=2, env=env)
    for n in range(1, rows + 1):
        form = dict(zip(fields, EXAMPLES[run.product](n), strict=True))
        response = requests.post(server.url(f"/{table}"), data=form, timeout=10)
        run.show(f"POST /{table} → {response.status_code}")
    run.step(f"What is in the {table} table now, and who owns it")
    db.psql(f"SELECT id, {', '.join(fields)} FROM {table} ORDER BY id")  # noqa: S608
    run.fact("table", table)
    run.fact("rows", int(db.value(f"SELECT count(*) FROM {table}")), f"{table} stored")  # noqa: S608
    owner = db.value(f"SELECT tableowner FROM pg_tables WHERE tablename = '{table}'")  # noqa: S608
    run.fact("table_owner", owner, "the table belongs to")
    run.fact("engine", db.value("SELECT version()").split(" on ")[0], "database")
