"""Chapter 2: the learner's deploy script or playbook, each on a fresh pretend server."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from cyoa.demos import automation as changes
from cyoa.demos import processes
from cyoa.demos.app import app_env, git, make_repo
from cyoa.demos.automation import DEFAULT_SITE
from cyoa.demos.lab.files import (
    APP_DIR,
    STATIC_DIR,
    read_source,
)
from cyoa.demos.lab.frame import (
    LabInputError,
    LabResult,
    conclude,
    could_not_start,
    problem,
    unlisted,
)
from cyoa.demos.nginx import MAIN_CONF, Nginx
from cyoa.demos.runner import Run
from cyoa.demos.wsgi import gunicorn_cmd

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
    conclude(run, problems, check, DEPLOY_GOAL)


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
