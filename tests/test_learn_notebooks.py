"""The learner notebooks' hands-on cells run as shipped, and each exercise's break shows its
symptom for real: real nginx, real gunicorn, a real kernel.

Every test copies the notebooks out with ``cyoa notebooks DIR`` (nothing from the
repository beside them), executes cells in a fresh python3 kernel whose working directory is
that folder, and reads each lab run's facts from the outputs (``LAB_MIME``). Afterwards no
process the runs started may be left, nor any port they listened on.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest
from click.testing import CliRunner
from nbclient import NotebookClient

from cyoa.cli import main
from cyoa.demos import exercises, nginx
from cyoa.demos.exercises import CHECK_TAG, FILE_TAG, RUN_TAG
from cyoa.demos.lab import LAB_MIME
from cyoa.demos.processes import OWNER_VAR

pytestmark = pytest.mark.slow

LAUNCH, TIMEOUTS = "learn-1-launch.ipynb", "learn-3-timeouts.ipynb"
SCALING = "learn-5-data-or-scaling.ipynb"
HYPERGROWTH, SECURITY_OR_TRACTION = (
    "learn-2-hypergrowth.ipynb",
    "learn-4-security-or-traction.ipynb",
)


def copy_out(folder: Path) -> Path:
    result = CliRunner().invoke(main, ["notebooks", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


def tags(cell: nbformat.NotebookNode) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def execute(nb: nbformat.NotebookNode, folder: Path, token: str) -> nbformat.NotebookNode:
    """Run ``nb`` in a fresh kernel working in ``folder``; any cell error fails the test."""
    client = NotebookClient(
        nb, kernel_name="python3", timeout=240, resources={"metadata": {"path": str(folder)}}
    )
    client.execute(env={**os.environ, OWNER_VAR: token})
    return nb


def lab_runs(nb: nbformat.NotebookNode) -> dict[str, dict]:
    """Each tagged lab cell's result (facts, services...) and printed text, by its tag."""
    found = {}
    for cell in nb.cells:
        for tag in tags(cell):
            if tag.startswith((RUN_TAG, CHECK_TAG)):
                outputs = cell.get("outputs", [])
                data = [o["data"][LAB_MIME] for o in outputs if LAB_MIME in o.get("data", {})]
                assert len(data) == 1, f"{tag}: no lab result in its outputs"
                text = "".join(o.get("text", "") for o in outputs)
                found[tag] = {**data[0], "text": text}
    return found


def leftovers(token: str) -> list[str]:
    """Processes still running, or ports still listened on, that the lab runs started."""
    left = []
    for proc in psutil.process_iter(["pid", "name"]):
        try:
            if proc.environ().get(OWNER_VAR) == token:
                left.append(f"{proc.info['pid']} {proc.info['name']}")
        except psutil.Error:
            continue
    return left


def assert_nothing_left(token: str, runs: dict[str, dict]) -> None:
    assert leftovers(token) == []
    for run in runs.values():
        for service in run["services"]:
            assert not psutil.pid_exists(service["pid"]), service


def run_chapter(folder: Path, name: str) -> dict[str, dict]:
    """The whole chapter as shipped, top to bottom; its lab runs, all ended cleanly."""
    token = f"test-{uuid.uuid4().hex[:8]}"
    nb = execute(nbformat.read(folder / name, as_version=4), folder, token)
    runs = lab_runs(nb)
    assert_nothing_left(token, runs)
    failed = {tag: r["error"] or r["missing"] for tag, r in runs.items() if not r["ok"]}
    assert failed == {}
    return runs


def run_broken(
    folder: Path, name: str, edits: list[tuple[str, str, str]], check: str | None = None
) -> dict:
    """The chapter's files (their last cells) with ``edits`` made, then its check cell (the
    one tagged ``check``, in a chapter whose two branches end with a check each)."""
    shipped = nbformat.read(folder / name, as_version=4)
    files: dict[str, nbformat.NotebookNode] = {}
    for cell in shipped.cells:
        for tag in tags(cell):
            if tag.startswith(FILE_TAG):
                files[tag.removeprefix(FILE_TAG)] = cell
    for file, old, new in edits:
        assert old in files[file].source, f"{file} no longer holds {old!r}: update the test"
        files[file].source = files[file].source.replace(old, new)
    wanted = (lambda t: t == check) if check else (lambda t: t.startswith(CHECK_TAG))
    (check_cell,) = [c for c in shipped.cells if any(wanted(t) for t in tags(c))]
    nb = nbformat.v4.new_notebook(metadata=shipped.metadata)
    nb.cells = [*files.values(), check_cell]
    token = f"test-{uuid.uuid4().hex[:8]}"
    runs = lab_runs(execute(nb, folder, token))
    assert_nothing_left(token, runs)
    (result,) = runs.values()
    assert result["ok"], result["error"] or result["missing"]
    return result


# -- as shipped ----------------------------------------------------------------------------
def test_each_hands_on_chapter_ends_with_its_check(tmp_path: Path) -> None:
    """The exercises hang off deck demo cells by name: a renamed demo must not drop one."""
    folder = copy_out(tmp_path / "course")
    checks = {}
    for name in (LAUNCH, HYPERGROWTH, TIMEOUTS, SECURITY_OR_TRACTION, SCALING):
        cells = nbformat.read(folder / name, as_version=4).cells
        checks[name] = [t for c in cells for t in tags(c) if t.startswith(CHECK_TAG)]
        assert all(not c.get("outputs") for c in cells if c.cell_type == "code")
    assert checks == {
        LAUNCH: ["lab-check:launch"],
        HYPERGROWTH: ["lab-check:automation", "lab-check:invitations"],
        TIMEOUTS: ["lab-check:async", "lab-check:timeouts"],
        SECURITY_OR_TRACTION: ["lab-check:security", "lab-check:traction"],
        SCALING: ["lab-check:data", "lab-check:scaling"],
    }


def test_the_launch_chapter_runs_the_learners_own_files(tmp_path: Path) -> None:
    folder = copy_out(tmp_path / "course")

    runs = run_chapter(folder, LAUNCH)

    nginx_only = runs["lab-run:launch-nginx"]["facts"]
    assert nginx_only["config_ok"] is True
    assert nginx_only["page_status"] == 502
    assert "connect() failed (111: Connection refused)" in nginx_only["nginx_error"]
    with_app = runs["lab-run:launch-gunicorn"]["facts"]
    assert (with_app["page_status"], with_app["page_by_app"]) == (200, True)
    assert (with_app["css_status"], with_app["css_by_app"]) == (404, True)  # no alias yet
    static = runs["lab-run:launch-static"]["facts"]
    assert (static["css_status"], static["css_by_app"]) == (200, False)
    check = runs["lab-check:launch"]
    assert check["facts"]["passed"] is True
    assert "Check: PASS" in check["text"]
    assert (folder / "launch-site.conf").read_text().count("alias /var/www/static/;") == 1


def test_the_timeouts_chapter_shows_gunicorns_timeout_first_and_its_check_says_why(
    tmp_path: Path,
) -> None:
    """As shipped gunicorn (2 s) gives up before nginx (8 s) on a 5 s report, and the async
    branch's worker runs no scheduler."""
    folder = copy_out(tmp_path / "course")

    runs = run_chapter(folder, TIMEOUTS)

    for tag in ("lab-run:timeouts", "lab-check:timeouts"):
        facts = runs[tag]["facts"]
        assert facts["worker_killed"] is True
        assert facts["status"] == 500  # gunicorn's answer as the aborted worker goes
        assert facts["nginx_timed_out"] is False
    check = runs["lab-check:timeouts"]
    assert check["facts"]["passed"] is False
    assert "Check: FAIL" in check["text"]
    assert "gunicorn's --timeout (2 s) ran out first" in check["text"]
    # The async branch's worker, as shipped: the crawl is done, the nightly job never runs.
    for tag in ("lab-run:async", "lab-check:async"):
        facts = runs[tag]["facts"]
        assert (facts["crawl_status"], facts["crawl_by_worker"]) == ("finished", True)
        assert facts["nightly_status"] == "scheduled"
    assert runs["lab-check:async"]["facts"]["passed"] is False
    assert "--with-scheduler" in runs["lab-check:async"]["text"]


# -- the launch exercise: each break and its symptom ---------------------------------------
SITE, COMMAND = "launch-site.conf", "launch-gunicorn.sh"
STATIC_BLOCK = (
    "    location /static/ {\n        alias /var/www/static/;\n        expires 1h;\n    }\n\n"
)


def test_upstream_on_a_port_where_nothing_listens_is_a_real_502(tmp_path: Path) -> None:
    edits = [(SITE, "server 127.0.0.1:8000;", "server 127.0.0.1:8001;")]

    result = run_broken(copy_out(tmp_path / "course"), LAUNCH, edits)

    facts = result["facts"]
    assert (facts["page_status"], facts["page_by_app"]) == (502, False)
    assert "connect() failed (111: Connection refused)" in facts["nginx_error"]
    assert facts["passed"] is False
    assert "GET / → 502 Bad Gateway: nginx could not reach the app" in result["text"]


def test_gunicorn_bound_elsewhere_is_a_502_too(tmp_path: Path) -> None:
    edits = [(COMMAND, "--bind 127.0.0.1:8000", "--bind 127.0.0.1:9000")]

    facts = run_broken(copy_out(tmp_path / "course"), LAUNCH, edits)["facts"]

    assert facts["page_status"] == 502
    assert facts["passed"] is False


def test_without_proxy_pass_nginx_answers_404_itself(tmp_path: Path) -> None:
    edits = [(SITE, "        proxy_pass http://app_servers;\n", "")]

    result = run_broken(copy_out(tmp_path / "course"), LAUNCH, edits)

    facts = result["facts"]
    assert (facts["page_status"], facts["page_by_app"]) == (404, False)
    assert "No such file or directory" in facts["nginx_error"]
    assert (facts["css_status"], facts["css_by_app"]) == (200, False)
    assert "Is proxy_pass in location /?" in result["text"]


def test_without_the_alias_the_css_is_a_404_from_the_app(tmp_path: Path) -> None:
    edits = [(SITE, STATIC_BLOCK, "")]

    result = run_broken(copy_out(tmp_path / "course"), LAUNCH, edits)

    facts = result["facts"]
    assert (facts["page_status"], facts["page_by_app"]) == (200, True)
    assert (facts["css_status"], facts["css_by_app"]) == (404, True)
    assert facts["passed"] is False
    assert "from the app: nginx passed it on" in result["text"]


def test_root_instead_of_alias_looks_for_static_twice(tmp_path: Path) -> None:
    edits = [(SITE, "alias /var/www/static/;", "root /var/www/static/;")]

    facts = run_broken(copy_out(tmp_path / "course"), LAUNCH, edits)["facts"]

    assert (facts["css_status"], facts["css_by_app"]) == (404, False)
    assert "/var/www/static/static/style.css" in facts["nginx_error"]
    assert facts["passed"] is False


# -- the timeouts exercise -----------------------------------------------------------------
T_SITE, T_COMMAND = "timeouts-site.conf", "timeouts-gunicorn.sh"
T_CHECK = "lab-check:timeouts"  # the chapter's other branch ends with lab-check:async


def test_a_proxy_read_timeout_shorter_than_the_report_is_a_real_504(tmp_path: Path) -> None:
    edits = [(T_SITE, "proxy_read_timeout 8s;", "proxy_read_timeout 1s;")]

    result = run_broken(copy_out(tmp_path / "course"), TIMEOUTS, edits, T_CHECK)

    facts = result["facts"]
    assert facts["status"] == 504
    assert facts["nginx_timed_out"] is True
    assert facts["worker_killed"] is False
    assert "nginx's proxy_read_timeout ran out first" in result["text"]


def test_a_gunicorn_timeout_longer_than_the_report_passes_the_check(tmp_path: Path) -> None:
    edits = [(T_COMMAND, "--timeout 2", "--timeout 10")]

    result = run_broken(copy_out(tmp_path / "course"), TIMEOUTS, edits, T_CHECK)

    assert result["facts"]["status"] == 200
    assert result["facts"]["passed"] is True
    assert "Check: PASS" in result["text"]


def test_with_threads_gunicorns_timeout_no_longer_cuts_the_request(tmp_path: Path) -> None:
    edits = [(T_COMMAND, "--timeout 2", "--timeout 2 --threads 2")]

    facts = run_broken(copy_out(tmp_path / "course"), TIMEOUTS, edits, T_CHECK)["facts"]

    assert facts["status"] == 200
    assert facts["worker_killed"] is False


# -- what the learner gets wrong in the files themselves -----------------------------------
def test_a_file_the_lab_cannot_run_is_a_failed_check_that_says_what_to_change(
    tmp_path: Path,
) -> None:
    edits = [(COMMAND, "--bind 127.0.0.1:8000", "--bind 0.0.0.0:8000")]

    result = run_broken(copy_out(tmp_path / "course"), LAUNCH, edits)

    assert result["facts"]["passed"] is False
    assert "give gunicorn --bind 127.0.0.1:PORT (got 0.0.0.0:8000)" in result["text"]


def test_a_config_nginx_rejects_fails_the_check_with_nginxs_reason(tmp_path: Path) -> None:
    edits = [(SITE, "proxy_pass http://app_servers;", "proxy_pass http://app_servers")]

    result = run_broken(copy_out(tmp_path / "course"), LAUNCH, edits)

    assert result["facts"]["config_ok"] is False
    assert result["facts"]["passed"] is False
    expected = 'nginx -t rejects the site config: invalid number of arguments in "proxy_pass"'
    assert expected in result["text"]


# -- the scaling exercise ------------------------------------------------------------------
S_SITE, S_COMMANDS = "scaling-site.conf", "scaling-gunicorn.sh"
S_CHECK = "lab-check:scaling"  # the chapter's other branch ends with lab-check:data
SECOND_SERVER = "\ngunicorn --chdir /srv/app --bind 127.0.0.1:8001 --workers 1 wsgi:app"


def test_the_scaling_chapter_shares_requests_between_the_learners_app_servers(
    tmp_path: Path,
) -> None:
    folder = copy_out(tmp_path / "course")

    runs = run_chapter(folder, SCALING)

    for tag in ("lab-run:scaling", "lab-check:scaling"):
        facts = runs[tag]["facts"]
        assert facts["statuses"] == {"200": 20}
        assert sorted(facts["shares"]) == ["127.0.0.1:8000", "127.0.0.1:8001"]
        assert all(n > 0 for n in facts["shares"].values())
    assert runs["lab-check:scaling"]["facts"]["passed"] is True
    # The data branch, as shipped: the backup is made, the restore has no database to fill.
    for tag in ("lab-run:data", "lab-check:data"):
        facts = runs[tag]["facts"]
        assert facts["backup_format"] == "custom"
        assert facts["restored_in"] == []
        assert facts["users_by_database"] == {"app": 0}  # the intern's DELETE
    assert runs["lab-check:data"]["facts"]["passed"] is False
    assert "createdb app_restored first" in runs["lab-check:data"]["text"]


def test_a_stopped_app_server_is_skipped_by_nginxs_passive_checks(tmp_path: Path) -> None:
    edits = [(S_COMMANDS, SECOND_SERVER, "")]

    result = run_broken(copy_out(tmp_path / "course"), SCALING, edits, S_CHECK)

    facts = result["facts"]
    assert facts["statuses"] == {"200": 20}  # nginx passed each failed try to the other
    assert facts["shares"] == {"127.0.0.1:8000": 20}
    assert facts["refused"] > 0
    assert facts["passed"] is False
    assert "open-source nginx never polls /healthz" in result["text"]


def test_an_app_server_missing_from_the_upstream_gets_nothing(tmp_path: Path) -> None:
    edits = [(S_SITE, "    server 127.0.0.1:8001;\n", "")]

    result = run_broken(copy_out(tmp_path / "course"), SCALING, edits, S_CHECK)

    assert result["facts"]["shares"] == {"127.0.0.1:8000": 20}
    assert "the upstream block does not name it" in result["text"]


def test_a_backup_server_takes_nothing_while_the_first_one_answers(tmp_path: Path) -> None:
    edits = [(S_SITE, "server 127.0.0.1:8001;", "server 127.0.0.1:8001 backup;")]

    result = run_broken(copy_out(tmp_path / "course"), SCALING, edits, S_CHECK)

    assert result["facts"]["shares"] == {"127.0.0.1:8000": 20}
    assert (
        "127.0.0.1:8001 runs but took none of the requests (it is marked backup)"
        in (result["text"])
    )


def site_directives(text: str) -> set[str]:
    """An nginx site's lines, comments and blank lines dropped, template fields left out."""
    text = text.replace("{{", "{").replace("}}", "}")  # a str.format template's braces
    lines = (line.split("#")[0].strip() for line in text.splitlines())
    return {line for line in lines if line and not re.search(r"\{\w+\}", line)}


#: What differs by design: addresses and ports, the static files' folder, a chapter's timeout.
PER_MACHINE = re.compile(r"^(listen|alias|proxy_read_timeout|access_log) |^server \d")


@pytest.mark.parametrize("site", ["SITE_PROXY", "SITE_STATIC", "SITE_TIMEOUTS", "SITE_SCALING"])
def test_the_learners_nginx_site_is_the_one_the_room_saw(site: str) -> None:
    """The chapter's ``%%writefile`` site and the deck demos' site say the same things."""
    deck = site_directives(nginx.SITE_CONF + nginx.STATIC_BLOCK)
    learner = site_directives(getattr(exercises, site))
    assert {d for d in learner - deck if not PER_MACHINE.match(d)} == set()
    static = site_directives(nginx.STATIC_BLOCK)
    missing = {d for d in deck - learner - static if not PER_MACHINE.match(d)}
    assert missing == set(), f"the deck's site has these, the learner's {site} does not"
