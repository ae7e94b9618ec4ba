"""Automation: an idempotent deploy script, and a CI workflow that tests then deploys.

Demo ``automation``: the deploy script (``deploy.py``, kept in the app's repository) does
what we did by hand over SSH. Its first run changes everything; a second run changes
nothing; after a new commit, it updates only the code and reloads the app server, and the
site shows the change. Then the CI workflow file, and its test step run here for real.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import requests
import yaml

from cyoa.demos import processes
from cyoa.demos.app import app_env, git, make_repo
from cyoa.demos.nginx import MAIN_CONF, Nginx
from cyoa.demos.runner import Run, demo
from cyoa.demos.wsgi import gunicorn_cmd


def changed_steps(output: str) -> list[str]:
    return [
        line.split("changed", 1)[1].strip() for line in output.splitlines() if "changed" in line
    ]


@demo("automation", "Automation: a deploy script you can run twice, and CI")
def automation_demo(run: Run) -> None:
    """Deploy, deploy again (nothing changes), push a change, deploy (only that changes)."""
    repo = make_repo(run, show=False)
    nginx = Nginx(run)
    binary = run.need("nginx", [" ".join(nginx.command())])
    nginx_cmd = " ".join([binary, *nginx.command()[1:]])
    (nginx.root / "tmp").mkdir(parents=True)
    nginx.conf.write_text(MAIN_CONF.format(root=nginx.root))
    pids = nginx.root  # nginx.pid is there; gunicorn.pid joins it
    dest = run.scratch / "srv" / "dachshund-doc-send"
    app_port = processes.free_port()
    deploy = [sys.executable, "deploy.py", "--repo", str(repo), "--dest", str(dest)]
    deploy += ["--www", str(run.scratch / "var" / "www" / "static"), "--site", str(nginx.site)]
    deploy += ["--listen", str(nginx.port), "--app-port", str(app_port), "--nginx", nginx_cmd]
    deploy += ["--pids", str(pids)]
    env = {**os.environ, **app_env(run)}
    # The script ships in the repository; its first run must come from a copy of it.
    bootstrap = run.scratch / "deploy.py"
    bootstrap.write_text((repo / "deploy.py").read_text())
    run.step("First deploy on a fresh server: everything changes")
    first = run.sh([sys.executable, bootstrap, *deploy[2:]], env=env, cwd=run.scratch).stdout
    run.fact("first_changed", len(changed_steps(first)), "steps changed")
    run.step("The init system starts the services (once)")
    argv = gunicorn_cmd(app_port, 2, "--pid", str(pids / "gunicorn.pid"))
    env_app = app_env(run)
    ready = processes.http_ready(f"http://127.0.0.1:{app_port}/healthz")
    run.start("gunicorn", argv, port=app_port, cwd=dest, env=env_app, ready=ready)
    nginx.start()
    run.say(f"GET / → {requests.get(nginx.url('/'), timeout=5).status_code}")
    run.step("Deploy again: nothing to do, nothing touched")
    second = run.sh(deploy, env=env, cwd=dest).stdout
    run.fact("second_changed", changed_steps(second), "steps changed")
    run.step("A developer pushes a change")
    company = repo / "company.py"
    company.write_text(company.read_text().replace("with analytics.", "now with tracking!"))
    git(run, "commit", "-q", "-am", "New tagline", cwd=repo)
    run.step("Deploy: only the code changes, and gunicorn reloads its workers")
    third = run.sh(deploy, env=env, cwd=dest).stdout
    run.fact("third_changed", changed_steps(third), "steps changed")
    processes.wait_until(
        lambda: "now with tracking" in requests.get(nginx.url("/"), timeout=5).text
    )
    run.fact("new_version_live", True, "the site shows the new tagline")
    ci(run, dest)


def ci(run: Run, dest: os.PathLike) -> None:
    """Show the CI workflow, check its shape, and run its test step here."""
    run.step("CI: a workflow that runs the tests, then the deploy script")
    workflow_path = os.path.join(dest, ".github", "workflows", "deploy.yml")
    with open(workflow_path) as file:
        text = file.read()
    run.show(text, indent="    │ ")
    workflow = yaml.safe_load(text)
    run.fact("ci_deploy_needs_test", workflow["jobs"]["deploy"]["needs"] == "test")
    if importlib.util.find_spec("pytest") is None:
        run.say("(pytest is not installed here: `pip install pytest` to run the test step)")
        return
    tests = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_app.py"]
    done = run.sh(tests, cwd=dest, check=False, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    run.fact("ci_tests_pass", done.returncode == 0, "the CI test step, run here")
