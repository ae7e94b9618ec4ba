"""Hands-on runs of the deck's demos with the learner's own site config and gunicorn command.

The deck writes nginx's site and gunicorn's command from code; a learner notebook holds the
same files in its own cells (``%%writefile launch-site.conf``) and hands them here. Each
entry point runs in the deck's frame (:func:`cyoa.demos.runner.demo`: a scratch directory,
real processes on free loopback ports, narrated steps, everything stopped at the end) with
the deck's building blocks (:class:`~cyoa.demos.nginx.Nginx`, the app's clone, gunicorn).

A learner's files name fixed addresses, as on a real server. The lab *places* them: every
``127.0.0.1:PORT`` (or ``localhost:PORT``) moves to a free port of its own (the same PORT to
the same free port, so a mismatch stays a mismatch), the app's folder ``/srv/app`` becomes
the clone's and ``/var/www/`` moves into the scratch directory. Nothing else is changed.

Entry points, each with a ``check_`` twin that ends in PASS or FAIL and the reasons:
:func:`launch` (chapter 1: nginx, gunicorn, static files), :func:`deploy` (chapter 2: the
deploy script or playbook, run, run again, and after a push), :func:`slow_report` (chapter 3:
which timeout runs out first), :func:`harden_ssh` (chapter 4: an sshd drop-in, a real sshd,
three logins), :func:`traction` (chapter 4: a weekly query against PostgreSQL) and
:func:`share_out` (chapter 5: an upstream of app servers). Chapters 2 and 4 reuse the deck
demo's own pieces (:mod:`~cyoa.demos.automation`, :mod:`~cyoa.demos.security`,
:mod:`~cyoa.demos.traction`), fed with the learner's files instead of the deck's.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import shlex
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from cyoa.demos import automation as changes
from cyoa.demos import processes
from cyoa.demos import security as guard
from cyoa.demos import traction as metrics
from cyoa.demos.app import app_env, checkout, git, make_repo
from cyoa.demos.automation import DEFAULT_SITE
from cyoa.demos.nginx import MAIN_CONF, Nginx
from cyoa.demos.postgres import TABLES
from cyoa.demos.runner import REGISTRY, DemoResult, Run, demo
from cyoa.demos.wsgi import gunicorn_cmd, init_db

#: Where the learner's files say the app's clone is, and the web server's files.
APP_DIR = "/srv/app"
WWW_DIR = "/var/www/"
#: The app's static files, copied where the web server reads them (as a deploy would).
STATIC_DIR = "/var/www/static"
ADDRESS = re.compile(r"\b(?:127\.0\.0\.1|localhost):(\d{1,5})\b")
LISTEN = re.compile(r"^\s*listen\s+([^;]*);", re.MULTILINE)


#: The MIME type of a lab run's facts in a notebook's outputs (a deck demo's is FACTS_MIME).
LAB_MIME = "application/vnd.cyoa.lab+json"


class LabResult(DemoResult):
    """A lab run's result: a demo result, shown under its own MIME type (not a deck demo)."""

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict:
        return {"text/plain": self.summary(), LAB_MIME: self.as_json()}

    def summary(self) -> str:
        if not self.ok or "passed" not in self.facts:
            return super().summary()
        verdict = "PASS" if self.facts["passed"] else "FAIL"
        return f"{self.name}: check {verdict} ({self.seconds:.1f} s)"


class LabInputError(ValueError):
    """A learner's file that the lab cannot run as given; the message says what to change."""


def unlisted(name: str, title: str) -> Callable[[Callable[..., None]], Callable[..., LabResult]]:
    """The deck's demo frame (narration, scratch, cleanup, missing tools), not a scene's demo.

    Registering would make it a demo the story and the deck must tag; these runs belong to
    the learner's notebook only.
    """

    def decorate(fn: Callable[..., None]) -> Callable[..., LabResult]:
        runner = demo(name, title)(fn)
        REGISTRY.pop(name, None)

        @functools.wraps(fn)
        def lab_runner(**options: object) -> LabResult:
            return LabResult(**vars(runner(**options)))

        return lab_runner

    return decorate


# -- reading the learner's files -----------------------------------------------------------
def read_source(source: str | Path, what: str) -> str:
    """A file's text: ``source`` names the file, or is the text itself (a space or newline)."""
    path = Path(source)
    if path.is_file():
        return path.read_text()
    if isinstance(source, str) and (" " in source or "\n" in source):
        return source
    raise LabInputError(f"{what}: no file {path} here (run the %%writefile cell above first)")


@dataclass
class Gunicorn:
    """The learner's gunicorn command line, parsed: the real argv and the port it binds."""

    argv: list[str]
    port: int
    timeout: int | None = None
    threads: int = 1


def parse_gunicorns(text: str) -> list[Gunicorn]:
    """One ``gunicorn ...`` command a line (comments, ``exec`` and ``\\`` breaks allowed)."""
    lines = text.replace("\\\n", " ").splitlines()
    commands = [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    if not commands:
        raise LabInputError("the gunicorn file holds no command line")
    parsed = [parse_gunicorn(command) for command in commands]
    ports = [command.port for command in parsed]
    if len(set(ports)) != len(ports):
        raise LabInputError("two gunicorn commands bind the same address: give each its own port")
    return parsed


def parse_gunicorn(line: str) -> Gunicorn:
    """One ``gunicorn ...`` command line, checked for what the lab can run safely."""
    try:
        words = shlex.split(line)
    except ValueError as error:
        raise LabInputError(f"the gunicorn command does not parse: {error}") from None
    if words[:1] == ["exec"]:
        words = words[1:]
    if words[:1] != ["gunicorn"]:
        raise LabInputError("the command must start with gunicorn")
    if {"-D", "--daemon"} & set(words):
        raise LabInputError("drop --daemon: the lab must be able to stop what it starts")
    bind = _option(words, "-b", "--bind")
    if bind is None or not ADDRESS.fullmatch(bind):
        raise LabInputError(
            f"give gunicorn --bind 127.0.0.1:PORT (got {bind or 'no --bind'}): "
            "the lab never opens a port beyond this machine"
        )
    timeout = _option(words, "-t", "--timeout")
    threads = _option(words, "--threads")
    return Gunicorn(
        argv=[sys.executable, "-m", "gunicorn", *_quiet_flags(), *words[1:]],
        port=int(bind.rsplit(":", 1)[1]),
        timeout=int(timeout) if timeout and timeout.isdigit() else None,
        threads=int(threads) if threads and threads.isdigit() else 1,
    )


def _option(words: list[str], *names: str) -> str | None:
    """The value of the last ``--name VALUE`` or ``--name=VALUE`` among ``words``."""
    found = None
    for n, word in enumerate(words):
        for name in names:
            if word == name and n + 1 < len(words):
                found = words[n + 1]
            elif word.startswith(f"{name}="):
                found = word.split("=", 1)[1]
    return found


def _quiet_flags() -> list[str]:
    """As the deck runs it: no control socket in ~/.gunicorn for a throwaway server."""
    from gunicorn.config import Config

    return ["--no-control-socket"] if "control_socket" in Config().settings else []


def listen_port(site: str) -> int:
    """The port the site's ``listen 127.0.0.1:PORT;`` names."""
    for value in LISTEN.findall(site):
        if match := ADDRESS.search(value):
            return int(match.group(1))
    raise LabInputError(
        "the site needs `listen 127.0.0.1:PORT;` (the lab never opens a port beyond this machine)"
    )


@dataclass
class Placement:
    """Where the learner's addresses land on this machine: free ports, the scratch dir."""

    app: Path
    www: Path
    ports: dict[int, int] = field(default_factory=dict)

    def port(self, yours: int, ours: int | None = None) -> int:
        """The free port standing for ``yours`` (``ours`` if given and not yet placed)."""
        return self.ports.setdefault(yours, ours or processes.free_port())

    def place(self, text: str) -> str:
        """``text`` with its addresses and server paths moved here."""
        text = ADDRESS.sub(lambda m: f"127.0.0.1:{self.port(int(m.group(1)))}", text)
        text = re.sub(re.escape(APP_DIR) + r"(?![\w.-])", str(self.app), text)
        return text.replace(WWW_DIR, f"{self.www}/")

    def show(self, run: Run) -> None:
        for yours, ours in sorted(self.ports.items()):
            run.say(f"your 127.0.0.1:{yours} is 127.0.0.1:{ours} here")


# -- running them --------------------------------------------------------------------------
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


def problem(run: Run, text: str) -> None:
    """Record one reason the learner's setup does not do what the chapter wants."""
    run.result.facts.setdefault("problems", []).append(text)


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


def verdict(run: Run, problems: list[str], goal: str) -> None:
    """Say pass or fail, with the reasons, and record it."""
    run.fact("passed", not problems, "check passed")
    run.step(f"Check: {'PASS' if not problems else 'FAIL'}: {goal}")
    for reason in problems:
        run.say(f"✘ {reason}")
    if not problems:
        run.say("✔ all good")


def could_not_start(run: Run, check: bool, goal: str) -> None:
    """The setup never came up: say why (as the check's verdict, when checking)."""
    problems = run.result.facts.get("problems", [])
    if check:
        verdict(run, problems, goal)
    else:
        for reason in problems:
            run.say(f"✘ {reason}")


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


# -- chapter 1: launch ---------------------------------------------------------------------
PAGE, CSS = "/", "/static/style.css"
LAUNCH_GOAL = "the page from the app, its CSS from nginx"


def _page_problem(page: dict) -> str | None:
    if page["status"] == 200 and page["by_app"]:
        return None
    if page["status"] == 502:
        return (
            f"GET / → 502 Bad Gateway: nginx could not reach the app ({page['error'] or 'no log'})."
            " Does proxy_pass point at the address gunicorn --bind listens on, and is it running?"
        )
    if page["status"] == 404 and not page["by_app"]:
        return (
            "GET / → 404 from nginx itself: the request never went to the app, so nginx looked "
            f"for a file on disk ({page['error'] or 'no log'}). Is proxy_pass in location /?"
        )
    return f"GET / → {page['status']}, answered by {'the app' if page['by_app'] else 'nginx'}"


def _css_problem(css: dict) -> str | None:
    if css["status"] == 200 and not css["by_app"]:
        return None
    if css["by_app"]:
        return (
            f"GET {CSS} → {css['status']} from the app: nginx passed it on, and in production "
            "the app serves no static files. Add location /static/ { alias ...; }."
        )
    if css["status"] == 404:
        return (
            f"GET {CSS} → 404 from nginx: no such file where it looked ({css['error']}). "
            f"The alias must name {STATIC_DIR}/ (with root, nginx appends the whole URI)."
        )
    return f"GET {CSS} → {css['status']} from nginx ({css['error'] or 'nothing logged'})"


@unlisted("lab-launch", "Your launch: your site config, your gunicorn command")
def _launch(run: Run, site: str | Path, gunicorn: str | Path | None, check: bool) -> None:
    running = start_site(run, site, gunicorn)
    if running is None:
        return could_not_start(run, check, LAUNCH_GOAL)
    run.step("A visitor opens the page, and its stylesheet")
    page = visit(run, running, PAGE)
    css = visit(run, running, CSS)
    run.fact("page_status", page["status"], "GET /")
    run.fact("page_by_app", page["by_app"], "page answered by the app")
    run.fact("css_status", css["status"], f"GET {CSS}")
    run.fact("css_by_app", css["by_app"], "stylesheet answered by the app")
    run.fact("nginx_error", page["error"] or css["error"], "nginx's error log")
    if check:
        problems = [p for p in (_page_problem(page), _css_problem(css)) if p]
        verdict(run, problems, LAUNCH_GOAL)


def launch(
    site: str | Path, gunicorn: str | Path | None = None, product: str = "dachshund"
) -> LabResult:
    """nginx with your site config (and gunicorn with your command line, if given)."""
    return _launch(site=site, gunicorn=gunicorn, check=False, product=product)


def check_launch(site: str | Path, gunicorn: str | Path, product: str = "dachshund") -> LabResult:
    """Pass when the page comes from the app through nginx and its CSS from nginx's disk."""
    return _launch(site=site, gunicorn=gunicorn, check=True, product=product)


# -- chapter 3: timeouts -------------------------------------------------------------------
REPORT = "/report"
REPORT_GOAL = "the slow report reaches the visitor"


def _who_gave_up(report: dict, worker_killed: bool, command: Gunicorn) -> str:
    if report["status"] == 200:
        return f"the report answered in {report['seconds']} s, before either timeout"
    if report["status"] == 502 and worker_killed:
        return (
            f"502 Bad Gateway after {report['seconds']} s: gunicorn's --timeout "
            f"({command.timeout or 30} s) ran out first, it killed the worker mid-request, and "
            "nginx, left with a closed connection, had no answer to pass on"
        )
    if report["status"] == 500 and worker_killed:
        return (
            f"500 Internal Server Error after {report['seconds']} s: gunicorn's --timeout "
            f"({command.timeout or 30} s) ran out first. It aborted the worker mid-request and "
            "gunicorn, not the app (no X-App header), answered 500 on the worker's way out. A "
            "worker stuck where the abort cannot reach it (inside C code) is SIGKILLed a second "
            "later, and then nginx, left with a closed connection, answers 502 Bad Gateway"
        )
    if report["status"] == 504:
        return (
            f"504 Gateway Time-out after {report['seconds']} s: nginx's proxy_read_timeout ran "
            "out first; the worker was still busy and finished the report for nobody"
        )
    return f"{report['status']} after {report['seconds']} s ({report['error'] or 'nothing logged'})"


@unlisted("lab-timeouts", "Your timeouts: a slow report, your nginx and gunicorn settings")
def _slow_report(
    run: Run, site: str | Path, gunicorn: str | Path, report_seconds: float, check: bool
) -> None:
    running = start_site(run, site, gunicorn, REPORT_SECONDS=f"{report_seconds}")
    if running is None:
        return could_not_start(run, check, REPORT_GOAL)
    command = parse_gunicorns(read_source(gunicorn, "gunicorn command"))[0]
    app_log = running.apps[command.port].log
    run.step(f"A visitor asks for the report, which takes {report_seconds} s to compute")
    report = visit(run, running, REPORT, timeout=report_seconds + 60)
    killed = [line for line in _log(app_log) if "WORKER TIMEOUT" in line]
    for line in killed[-1:]:
        run.show(run.short(f"gunicorn: {line.strip()}"))
    run.fact("status", report["status"], "the visitor got")
    run.fact("seconds", report["seconds"], "after (s)")
    run.fact("worker_killed", bool(killed), "gunicorn killed the worker (WORKER TIMEOUT)")
    run.fact("nginx_timed_out", "timed out" in report["error"], "nginx timed out waiting")
    if command.threads > 1:
        run.say(f"--threads {command.threads}: the gthread worker keeps telling the arbiter it")
        run.say("is alive while a thread works, so --timeout no longer limits a request.")
    explained = _who_gave_up(report, bool(killed), command)
    run.say(explained)
    if check:
        verdict(run, [] if report["status"] == 200 else [explained], REPORT_GOAL)


def _log(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines() if path.exists() else []


def slow_report(
    site: str | Path, gunicorn: str | Path, report_seconds: float = 5, product: str = "dachshund"
) -> LabResult:
    """Ask for a report that takes ``report_seconds``: who gives up first, nginx or gunicorn?"""
    return _slow_report(
        site=site, gunicorn=gunicorn, report_seconds=report_seconds, check=False, product=product
    )


def check_slow_report(
    site: str | Path, gunicorn: str | Path, report_seconds: float = 5, product: str = "dachshund"
) -> LabResult:
    """Pass when the slow report reaches the visitor (200) through your nginx and gunicorn."""
    return _slow_report(
        site=site, gunicorn=gunicorn, report_seconds=report_seconds, check=True, product=product
    )


# -- chapter 5: scaling --------------------------------------------------------------------
UPSTREAM_SERVER = re.compile(r"^\s*server\s+(?:127\.0\.0\.1|localhost):(\d+)([^;]*);", re.M)
SCALING_GOAL = "every app server takes a share of the requests"


def _share_problems(site_text: str, running: Site, shares: dict, statuses: dict) -> list[str]:
    """Why the requests were not shared by every app server, as a learner would fix it."""
    named = {int(port): flags.strip() for port, flags in UPSTREAM_SERVER.findall(site_text)}
    problems = [f"{n} request(s) got {status}" for status, n in statuses.items() if status != 200]
    for port, flags in sorted(named.items()):
        if port not in running.apps:
            problems.append(
                f"the upstream names 127.0.0.1:{port}, where no gunicorn runs: nginx tried it, "
                "could not connect, and passed those requests to the others. Its health checks "
                "are passive (max_fails, fail_timeout): open-source nginx never polls /healthz"
            )
        elif not shares.get(f"127.0.0.1:{port}"):
            why = f" (it is marked {flags})" if flags else ""
            problems.append(f"127.0.0.1:{port} runs but took none of the requests{why}")
    for port in sorted(set(running.apps) - set(named)):
        problems.append(
            f"gunicorn runs on 127.0.0.1:{port}, but the upstream block does not name it: "
            "nginx never sends it a request"
        )
    return problems


@unlisted("lab-scaling", "Your upstream: requests shared between your app servers")
def _share_out(run: Run, site: str | Path, gunicorn: str | Path, visits: int, check: bool) -> None:
    running = start_site(run, site, gunicorn)
    if running is None:
        return could_not_start(run, check, SCALING_GOAL)
    run.step(f"{visits} visitors, one after another: who answers each?")
    logged = len(running.nginx.errors())
    shares: dict[str, int] = {}
    statuses: dict[int, int] = {}
    for _ in range(visits):
        response = requests.get(running.nginx.url("/healthz"), timeout=10)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        if response.ok:
            instance = response.json().get("instance", "?")
            shares[instance] = shares.get(instance, 0) + 1
    refused = [line for line in running.nginx.errors()[logged:] if "connect() failed" in line]
    for line in refused[:1]:
        run.show(run.short("error.log: " + line.split("] ", 1)[-1]))
    run.fact("statuses", statuses, "what the visitors got")
    run.fact("shares", shares, "requests answered, by app server (your address)")
    run.fact("refused", len(refused), "connections nginx could not make (error log)")
    if check:
        site_text = read_source(site, "site config")
        verdict(run, _share_problems(site_text, running, shares, statuses), SCALING_GOAL)


def share_out(
    site: str | Path, gunicorn: str | Path, visits: int = 20, product: str = "dachshund"
) -> LabResult:
    """Your upstream and your app servers (one gunicorn line each): who answers what?"""
    return _share_out(site=site, gunicorn=gunicorn, visits=visits, check=False, product=product)


def check_share_out(
    site: str | Path, gunicorn: str | Path, visits: int = 20, product: str = "dachshund"
) -> LabResult:
    """Pass when every request gets a 200 and every app server in the upstream answers some."""
    return _share_out(site=site, gunicorn=gunicorn, visits=visits, check=True, product=product)


# -- chapter 4: traction -------------------------------------------------------------------
TRACTION_GOAL = "the graph shows the customers active each week"
#: What a learner's numbers might be instead, each computed here from the same data (the
#: lab's own queries, never the learner's text).
WEEK = """to_char(date_trunc('week', created), 'IYYY-"W"IW')"""
OTHER_CURVES = {
    "signups": f"SELECT {WEEK} AS week, count(*) FROM users GROUP BY week",  # noqa: S608
    "cumulative": f"SELECT {WEEK} AS week, sum(count(*)) OVER (ORDER BY {WEEK}) "  # noqa: S608
    "FROM users GROUP BY week",
}


def one_select(text: str) -> str:
    """The learner's query, without its final semicolon: it goes inside ``COPY (...)``."""
    query = text.strip().rstrip(";").strip()
    if not query:
        raise LabInputError("the SQL file holds no query")
    if ";" in re.sub(r"--[^\n]*|'[^']*'", "", query):
        raise LabInputError("one SELECT only: the lab exports a single query's rows as CSV")
    return query


def _curve(db: object, query: str) -> list[int]:
    """A (week, number) query's numbers, oldest week first (for comparing with the learner's)."""
    agg = f"SELECT string_agg(n::bigint::text, ',' ORDER BY week) FROM ({query}) t(week, n)"  # noqa: S608
    return [int(n) for n in db.value(agg).split(",") if n]  # type: ignore[attr-defined]


def _learners_curve(rows: list[dict]) -> tuple[list[str], list[int], str] | str:
    """(weeks, numbers, the numbers' column) from the learner's rows, or what is wrong."""
    if not rows:
        return "your query returned no rows"
    columns = list(rows[0])
    if len(columns) != 2:
        named = ", ".join(columns)
        return f"your query returns {len(columns)} columns ({named}): give two, a week and a number"
    week, number = columns
    ordered = sorted(rows, key=lambda r: r[week])  # ISO weeks and dates sort as text
    try:
        numbers = [int(float(r[number])) for r in ordered]
    except ValueError:
        return f"the second column ({number}) must be a number"
    return [r[week] for r in ordered], numbers, number


def _traction_problems(yours: list[int], curves: dict[str, list[int]], weeks: list[str]) -> list:
    """Why the learner's curve is not the weekly active customers, as they would fix it."""
    active = curves["active"]
    if yours == active:
        return []
    if yours == curves["cumulative"]:
        return [
            "your curve is everyone who ever signed up, week by week: it can only go up, "
            "whatever the customers do. That is the vanity curve; investors ask how many "
            "customers used the product each week"
        ]
    if yours == curves["signups"]:
        return [
            "these are signups per week (rows of users): new accounts, not customers who "
            "used the product that week"
        ]
    if len(yours) != len(active):
        return [f"your query gives {len(yours)} weeks; the data holds {len(active)}"]
    n = next(i for i, (a, b) in enumerate(zip(yours, active, strict=True)) if a != b)
    return [f"week {weeks[n]}: your query says {yours[n]}, customers active that week: {active[n]}"]


@unlisted("lab-traction", "Your query: weekly active customers, from PostgreSQL")
def _traction(run: Run, sql: str | Path, weeks: int, check: bool) -> None:
    try:
        query = one_select(read_source(sql, "SQL query"))
    except LabInputError as error:
        problem(run, str(error))
        return could_not_start(run, check, TRACTION_GOAL)
    db = metrics.history(run, weeks)
    run.step("Your query, exported as CSV by psql (COPY (your query) TO STDOUT)")
    rows = metrics.export_csv(run, db, query, check=False)
    if isinstance(rows, str):
        said = next((line for line in rows.splitlines() if "ERROR" in line), rows)
        said = re.sub(r"^psql:[^:]*:\d+: ", "", said)
        problem(run, f"psql rejects your query: {run.short(said)}")
        return could_not_start(run, check, TRACTION_GOAL)
    learned = _learners_curve(rows)
    if isinstance(learned, str):
        problem(run, learned)
        return could_not_start(run, check, TRACTION_GOAL)
    labels, yours, column = learned
    run.show("\n".join(f"{w}  {n:>5}" for w, n in zip(labels[-4:], yours[-4:], strict=True)))
    table = TABLES[run.product][0]
    curves = {"active": _curve(db, metrics.WEEKLY_ACTIVE.format(table=table))}
    curves |= {name: _curve(db, query) for name, query in OTHER_CURVES.items()}
    run.fact("weeks", len(yours), "weeks in your graph")
    run.fact("yours_last_week", yours[-1], f"your {column}, last week")
    run.fact("active_last_week", curves["active"][-1], "customers active last week")
    run.fact(
        "only_up", all(a <= b for a, b in itertools.pairwise(yours)), "your curve only goes up"
    )
    run.fact("is_active_customers", yours == curves["active"], "your numbers are the actives")
    figure = metrics.growth_figure(labels, yours, run.product)
    figure.update_layout(title=f"Your query: {column} by week")  # type: ignore[attr-defined]
    metrics.display(figure)
    if check:
        verdict(run, _traction_problems(yours, curves, labels), TRACTION_GOAL)


def traction(sql: str | Path, weeks: int = 26, product: str = "dachshund") -> LabResult:
    """Your SQL, run against the app's data in a throwaway PostgreSQL, drawn as a graph."""
    return _traction(sql=sql, weeks=weeks, check=False, product=product)


def check_traction(sql: str | Path, weeks: int = 26, product: str = "dachshund") -> LabResult:
    """Pass when your query's numbers are the customers active each week."""
    return _traction(sql=sql, weeks=weeks, check=True, product=product)


# -- chapter 4: security -------------------------------------------------------------------
SSH_GOAL = "root refused, passwords refused, Ada's key lets her in"
#: The pretend server's main sshd_config: the lab's own lines first (the first value sshd
#: reads wins, so no drop-in can move them), then the drop-ins, as Debian and Ubuntu ship it.
SSHD_MAIN = """\
# The lab's own: a free loopback port, and the server's files in the scratch directory.
ListenAddress 127.0.0.1
Port {port}
HostKey {etc}/ssh/ssh_host_ed25519_key
PidFile {etc}/sshd.pid
# As Debian and Ubuntu ship it: the drop-ins first, in name order; the first value wins.
Include {etc}/ssh/sshd_config.d/*.conf
KbdInteractiveAuthentication no
"""
#: What many cloud images ship (cloud-init's ssh_pwauth): passwords back on.
CLOUD_INIT_DROPIN = ("50-cloud-init.conf", "PasswordAuthentication yes\n")
#: Lines that add listeners rather than replace them: the lab picks the address.
SSH_LISTENERS = re.compile(r"^\s*(Port|ListenAddress)\b", re.IGNORECASE | re.MULTILINE)


def dropin_name(source: str | Path) -> str:
    """The drop-in's file name (it decides the order sshd reads it in)."""
    path = Path(source)
    return path.name if path.is_file() else "10-hardening.conf"


def _login_problems(facts: dict, dropin: str) -> list[str]:
    """Why the logins are not what a hardened server allows, as a learner would fix it."""
    problems = []
    ignored = "" if dropin.endswith(".conf") else f" (sshd reads only *.conf: {dropin} is ignored)"
    if facts.get("root_login") != "refused":
        problems.append(
            f"root got in with the key: sshd -T says permitrootlogin {facts['permitrootlogin']}. "
            "The default, prohibit-password (without-password to sshd -T), refuses root's "
            f"password, not root's key: say PermitRootLogin no{ignored}"
        )
    if facts.get("password_login") != "refused":
        problems.append(
            "Ada's password got her in, as it would any bot that guesses it: sshd -T says "
            f"passwordauthentication {facts['passwordauthentication']}. The cloud image's "
            "50-cloud-init.conf says yes, and the first value sshd reads wins: a drop-in that "
            f"sorts before it must say no{ignored}"
        )
    if facts.get("key_login") != "ada":
        problems.append("Ada's key did not let her in: keys are how she logs in now")
    return problems


@unlisted("lab-ssh", "Your sshd drop-in: a real sshd on a loopback port, three logins")
def _harden_ssh(run: Run, dropin: str | Path, check: bool) -> None:
    try:
        text, name = read_source(dropin, "sshd drop-in"), dropin_name(dropin)
        if found := SSH_LISTENERS.search(text):
            raise LabInputError(
                f"drop the {found.group(1)} line: the lab picks a free loopback port, and a "
                f"{found.group(1)} in a drop-in adds a listener, it does not move the first one"
            )
    except LabInputError as error:
        problem(run, str(error))
        return could_not_start(run, check, SSH_GOAL)
    root = run.scratch / "server"
    run.step("The pretend server: Ada's account, her key pair, the host key")
    (root / "root").mkdir(parents=True, mode=0o700)
    etc = guard.add_ada(run, root)
    key = guard.key_pair(run, root)
    host_key = guard.make_host_key(run, root)
    run.step(f"Your drop-in, beside the cloud image's, in {run.short(str(etc))}/ssh/sshd_config.d")
    port = processes.free_port()
    config = run.write(etc / "ssh" / "sshd_config", SSHD_MAIN.format(port=port, etc=etc))
    cloud_name, cloud_text = CLOUD_INIT_DROPIN
    run.write(etc / "ssh" / "sshd_config.d" / cloud_name, cloud_text)
    run.write(etc / "ssh" / "sshd_config.d" / name, text)
    sshd = run.need("sshd", [f"sshd -t -f {run.short(str(config))}"])
    if os.geteuid() != 0:
        problem(run, "logging in needs sshd running as root: run this notebook as root")
        return could_not_start(run, check, SSH_GOAL)
    private, env = guard.private_mounts(run, root)
    tested = run.sh([*private, sshd, "-t", "-f", config], check=False, env=env)
    run.fact("sshd_config_ok", tested.returncode == 0, "sshd -t")
    if tested.returncode != 0:
        said = (tested.stdout + tested.stderr).strip().splitlines() or ["no reason given"]
        problem(run, f"sshd -t rejects the config: {run.short(said[0])}")
        return could_not_start(run, check, SSH_GOAL)
    guard.effective_settings(run, [*private, sshd, "-T", "-f", config], env)
    run.step("A real sshd on a loopback port, and three tries at logging in")
    server = run.start("sshd", [*private, sshd, "-D", "-e", "-f", config], port=port, env=env)
    guard.try_logins(run, key, port, host_key)
    guard.show_sshd_log(run, server)
    if check:
        verdict(run, _login_problems(run.result.facts, name), SSH_GOAL)


def harden_ssh(dropin: str | Path, product: str = "dachshund") -> LabResult:
    """A real sshd with your drop-in (and the cloud image's): root, a password, the key."""
    return _harden_ssh(dropin=dropin, check=False, product=product)


def check_harden_ssh(dropin: str | Path, product: str = "dachshund") -> LabResult:
    """Pass when sshd refuses root and passwords and lets Ada in with her key."""
    return _harden_ssh(dropin=dropin, check=True, product=product)


# -- chapter 2: automation -----------------------------------------------------------------
DEPLOY_GOAL = "the site up, a second deploy changes nothing, a pushed change goes live"
#: The playbook's nginx template, as the chapter's %%writefile cell names it.
TEMPLATE = "nginx-site.conf.j2"


@dataclass
class Deployed:
    """One run of the learner's deploy: what it reported changed, and whether it failed."""

    changed: list[str]
    failed: str = ""


@dataclass
class Server:
    """A fresh pretend server: nginx running with its default site, the app's places."""

    root: Path
    nginx: Nginx
    http_port: int = field(default_factory=processes.free_port)
    app_port: int = field(default_factory=processes.free_port)

    @property
    def dest(self) -> Path:
        return self.root / APP_DIR.strip("/")

    @property
    def static(self) -> Path:
        return self.root / STATIC_DIR.strip("/")

    @property
    def site(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/"


def fresh_server(run: Run, name: str) -> Server:
    """nginx up with its default site only, as the init system started it on a new server."""
    root = run.scratch / name
    nginx = Nginx(run, root=root / "nginx")
    (nginx.root / "tmp").mkdir(parents=True)
    nginx.conf.write_text(MAIN_CONF.format(root=nginx.root))
    run.write(nginx.site.with_name("default.conf"), DEFAULT_SITE.format(port=nginx.port))
    nginx.start()
    return Server(root, nginx)


def _failure(output: str) -> str:
    """The line that says why a deploy failed (Ansible's ``fatal:``/``ERROR!``, a traceback's
    last line, a script's exit message)."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("fatal:", "ERROR!")):
            return line
    return lines[-1] if lines else "it exited with an error"


def script_deployer(run: Run, server: Server, repo: Path, text: str) -> Callable[[], Deployed]:
    """Your deploy script, run on the server with this server's places."""
    script = run.write(server.root / "deploy.py", text, show=False)
    nginx_cmd = " ".join([run.need("nginx", ["nginx -t"]), *server.nginx.command()[1:]])
    argv = [sys.executable, script, "--repo", repo, "--dest", server.dest]
    argv += ["--www", server.static, "--site", server.nginx.site]
    argv += ["--listen", str(server.http_port), "--app-port", str(server.app_port)]
    argv += ["--nginx", nginx_cmd, "--pids", server.nginx.root]
    env = {**os.environ, **app_env(run)}

    def deploy() -> Deployed:
        done = run.sh(argv, check=False, env=env, cwd=server.root)
        failed = _failure(done.stdout + done.stderr) if done.returncode else ""
        return Deployed(changes.changed_steps(done.stdout), failed)

    return deploy


def playbook_deployer(
    run: Run, server: Server, repo: Path, text: str, template: str
) -> Callable[[], Deployed]:
    """Your playbook (and its template), run with ansible-playbook against this server."""
    ops = server.root / "ops"  # where the playbook is run from: the ops checkout
    run.write(ops / "deploy.yml", text, show=False)
    run.write(ops / TEMPLATE, template, show=False)
    extra = {
        "repo": repo,
        "dest": server.dest,
        "static_dir": server.static,
        "nginx_site": server.nginx.site,
        "http_port": server.http_port,
        "app_port": server.app_port,
        "pid_dir": server.nginx.root,
        "ansible_python_interpreter": sys.executable,
    }
    argv = [run.need("ansible-playbook", ["ansible-playbook -i localhost, -c local deploy.yml"])]
    argv += ["-i", "localhost,", "-c", "local", "deploy.yml"]
    for key, value in extra.items():
        argv += ["-e", f"{key}={value}"]
    env = changes.ansible_env(run, ops)

    def deploy() -> Deployed:
        done = run.sh(argv, check=False, env=env, cwd=ops, timeout=120)
        failed = _failure(done.stdout + done.stderr) if done.returncode else ""
        return Deployed(changes.changed_tasks(done.stdout), failed)

    return deploy


def _site_status(url: str) -> tuple[int | None, str]:
    try:
        response = requests.get(url, timeout=5)
    except requests.RequestException:
        return None, ""
    return response.status_code, response.text


def _wait_for(check: Callable[[], bool], seconds: float) -> bool:
    """True once ``check`` holds; False if it still does not after ``seconds``."""
    try:
        processes.wait_until(check, timeout=seconds)
    except TimeoutError:
        return False
    return True


def _site_problem(status: int | None, text: str) -> str | None:
    if status == 200:
        return None
    if status is None:
        return (
            "nothing answers on the site's port after the first deploy: nginx never loaded the "
            "new site. A config nginx has not reloaded is only a file (the handler, notify:)"
        )
    if "no site here yet" in text:
        return "nginx answers with its default site: the app's site is not loaded"
    return f"the site answers {status} after the first deploy"


def note(run: Run, name: str, key: str, value: object, label: str) -> None:
    """A fact of one deploy file's round: ``facts["deploys"][name][key]``, printed."""
    run.result.facts.setdefault("deploys", {}).setdefault(name, {})[key] = value
    print(f"  ✔ {label}: {value}", flush=True)


def deploy_round(
    run: Run, name: str, deploy: Callable[[], Deployed], server: Server, repo: Path
) -> list[str]:
    """Deploy, start the app, deploy again, push a change, deploy: what went wrong, if any."""
    problems = []
    run.step(f"{name}, first run on a fresh server")
    first = deploy()
    note(run, name, "first_changed", first.changed, "changed")
    if first.failed:
        return [f"{name}: the first deploy failed: {run.short(first.failed)}"]
    if not (server.dest / "wsgi.py").is_file():
        return [f"{name}: after the first deploy there is no app in {APP_DIR}"]
    run.step("The init system starts the app server (the deploy only reloads it)")
    argv = gunicorn_cmd(server.app_port, 2, "--pid", str(server.nginx.root / "gunicorn.pid"))
    ready = processes.http_ready(f"http://127.0.0.1:{server.app_port}/healthz")
    app = run.start(
        f"gunicorn-{server.root.name}",
        argv,
        port=server.app_port,
        cwd=server.dest,
        env=app_env(run),
        ready=ready,
    )
    _wait_for(lambda: _site_status(server.site)[0] == 200, 10)
    status, text = _site_status(server.site)
    note(run, name, "status", status, f"GET {server.site}")
    if problem_text := _site_problem(status, text):
        problems.append(f"{name}: {problem_text}")
    run.step(f"{name}, second run: nothing new, so nothing should change")
    second = deploy()
    note(run, name, "second_changed", second.changed, "changed")
    if second.failed or second.changed:
        why = second.failed or f"changed: {', '.join(second.changed)}"
        problems.append(
            f"{name}: a second deploy with nothing new must change nothing ({why}). A deploy "
            "that cannot be run twice cannot be run from CI on every push"
        )
    run.step("A developer pushes a change")
    marker = f"(now deployed by {name})"
    company = repo / "company.py"
    company.write_text(company.read_text().replace("</h1></header>", f" {marker}</h1></header>"))
    git(run, "commit", "-q", "-am", f"New tagline, for {name}", cwd=repo)
    run.step(f"{name}, third run: only the code changes, and the app server reloads")
    third = deploy()
    note(run, name, "third_changed", third.changed, "changed")
    app_url = f"http://127.0.0.1:{server.app_port}/"
    reloaded = _wait_for(lambda: marker in _site_status(app_url)[1], 15)
    live = reloaded and marker in _site_status(server.site)[1]
    note(run, name, "new_version_live", live, "the site shows the new tagline")
    reloads = app.log.read_text(errors="replace").count("Handling signal: hup")
    note(run, name, "app_reloads", reloads, "gunicorn reloaded (HUP), all deploys")
    if third.failed:
        problems.append(f"{name}: the deploy after the push failed: {run.short(third.failed)}")
    elif not reloaded and not third.changed:
        problems.append(f"{name}: the deploy after the push changed nothing: no new code fetched")
    elif not reloaded:
        problems.append(
            f"{name}: after the push the code on disk changed, but the site still shows the old "
            "version: gunicorn keeps the code it loaded until it is told to reload (HUP, what "
            "systemctl reload app sends), and nothing told it"
        )
    return problems


@unlisted("lab-deploy", "Your deploy: run it, run it again, push a change, run it again")
def _deploy(run: Run, files: tuple[str | Path, ...], template: str | Path, check: bool) -> None:
    try:
        if not files or any(Path(f).suffix not in (".py", ".yml", ".yaml") for f in files):
            raise LabInputError("give deploy files by name: a script (.py) or a playbook (.yml)")
        texts = {Path(f).name: read_source(Path(f), "deploy file") for f in files}
        needs_template = any(Path(name).suffix != ".py" for name in texts)
        template_text = read_source(template, "nginx template") if needs_template else ""
    except LabInputError as error:
        problem(run, str(error))
        return could_not_start(run, check, DEPLOY_GOAL)
    repo = make_repo(run, show=False)
    problems = []
    for n, (name, text) in enumerate(texts.items(), start=1):
        run.step(f"A fresh server for {name}: nginx with its default site, nothing else")
        server = fresh_server(run, f"server{n}")
        if name.endswith(".py"):
            deploy = script_deployer(run, server, repo, text)
        else:
            deploy = playbook_deployer(run, server, repo, text, template_text)
        problems += deploy_round(run, name, deploy, server, repo)
    run.result.facts.setdefault("problems", []).extend(problems)
    for reason in problems if not check else []:
        run.say(f"✘ {reason}")
    if check:
        verdict(run, problems, DEPLOY_GOAL)


def deploy(
    *files: str | Path, template: str | Path = TEMPLATE, product: str = "dachshund"
) -> LabResult:
    """Your deploy script or playbook, each on a fresh server: run, again, change, again."""
    return _deploy(files=files, template=template, check=False, product=product)


def check_deploy(
    *files: str | Path, template: str | Path = TEMPLATE, product: str = "dachshund"
) -> LabResult:
    """Pass when each deploy brings the site up, changes nothing the second time, and puts a
    pushed change live."""
    return _deploy(files=files, template=template, check=True, product=product)
