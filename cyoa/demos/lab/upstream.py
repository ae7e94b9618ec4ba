"""Chapter 5: the learner's upstream block: is every app server given a share?"""

from __future__ import annotations

import re
from pathlib import Path

import requests

from cyoa.demos.lab.files import (
    read_source,
)
from cyoa.demos.lab.frame import (
    LabResult,
    could_not_start,
    unlisted,
    verdict,
)
from cyoa.demos.lab.site import Site, start_site
from cyoa.demos.runner import Run

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
