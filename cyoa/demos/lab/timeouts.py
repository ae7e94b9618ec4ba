"""Chapter 3: a slow report through the learner's nginx and gunicorn: who gives up first."""

from __future__ import annotations

from pathlib import Path

from cyoa.demos.lab.files import (
    Gunicorn,
    parse_gunicorns,
    read_source,
)
from cyoa.demos.lab.frame import (
    LabResult,
    could_not_start,
    unlisted,
    verdict,
)
from cyoa.demos.lab.site import start_site, visit
from cyoa.demos.runner import Run

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
