"""Chapter 1: the learner's site config and gunicorn command, one page and its CSS."""

from __future__ import annotations

from pathlib import Path

from cyoa.demos.lab.files import (
    STATIC_DIR,
)
from cyoa.demos.lab.frame import (
    LabResult,
    could_not_start,
    unlisted,
    verdict,
)
from cyoa.demos.lab.site import start_site, visit
from cyoa.demos.runner import Run

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
