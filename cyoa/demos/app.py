"""The company's app: its git repository (standing in for GitHub) and the clone on the server.

Demos ``app`` (the app running on a laptop, Flask's development server) and ``git-clone``
(the code arrives on the server with ``git clone``).
"""

from __future__ import annotations

import os
import shutil
import sys
from importlib import resources
from pathlib import Path

from cyoa.demos import processes
from cyoa.demos.runner import PRODUCTS, Run, demo

PRODUCT_NAMES = PRODUCTS  # the name each product shows (kept for older imports)
#: Each product's repository name and company domain: git and mail show them.
SLUGS = {"dachshund": "dachshund-doc-send", "pets": "tinder-for-pets"}
#: Where the server keeps the app, whichever product it is.
APP_DIR = "app"
SOURCE_FILES = (
    "wsgi.py",
    "company.py",
    "storage.py",
    "tasks.py",
    "test_app.py",
    "deploy.py",
    "nginx-site.conf",
)
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}


def git_identity(product: str) -> dict[str, str]:
    """The company's commit identity: the product's own name and domain."""
    who, email = f"{PRODUCTS[product]} HQ", f"dev@{SLUGS[product]}.example"
    return {
        "GIT_AUTHOR_NAME": who,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": who,
        "GIT_COMMITTER_EMAIL": email,
    }


def source_dir() -> Path:
    """Where the app's files live inside cyoa."""
    return Path(str(resources.files("cyoa.demos") / "company"))


def copy_source(dest: Path, product: str = "dachshund") -> Path:
    """The app's files, laid out as in its own repository."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in SOURCE_FILES:
        shutil.copy(source_dir() / name, dest / name)
    shutil.copytree(source_dir() / "static", dest / "static", dirs_exist_ok=True)
    (dest / "requirements.txt").write_text("flask\ngunicorn\npsycopg[binary]\nredis\nrq\n")
    workflows = dest / ".github" / "workflows"
    workflows.mkdir(parents=True, exist_ok=True)
    workflow = (source_dir() / "ci-workflow.yml").read_text()
    (workflows / "deploy.yml").write_text(workflow.replace("{domain}", f"{SLUGS[product]}.example"))
    (dest / ".gitignore").write_text("*.db\n__pycache__/\n")
    return dest


def git(run: Run, *args: str | Path, cwd: Path, show: bool = True) -> str:
    """Run git with a fixed identity, without reading the machine's git configuration."""
    gitpath = run.need("git", [f"git {' '.join(map(str, args))}"])
    env = {**os.environ, **GIT_ENV, **git_identity(run.product)}
    if show:
        return run.sh([gitpath, *args], cwd=cwd, env=env).stdout
    return run.sh([gitpath, *args], cwd=cwd, env=env, show_output=False).stdout


def make_repo(run: Run, show: bool = True) -> Path:
    """The app's repository (it stands in for the GitHub one), with one commit."""
    repo = copy_source(run.scratch / "github" / SLUGS[run.product], run.product)
    git(run, "init", "-q", "-b", "main", cwd=repo, show=show)
    git(run, "add", ".", cwd=repo, show=show)
    message = f"{PRODUCTS[run.product]}: first version"
    git(run, "commit", "-q", "-m", message, cwd=repo, show=show)
    return repo


def checkout(run: Run, show: bool = False) -> Path:
    """The repository, cloned where the server keeps the app: ``$SCRATCH/srv/...``."""
    repo = make_repo(run, show=show)
    dest = run.scratch / "srv" / APP_DIR
    dest.parent.mkdir(parents=True, exist_ok=True)
    git(run, "clone", "-q", repo, dest, cwd=run.scratch, show=show)
    return dest


def app_env(run: Run, product: str | None = None, **extra: str) -> dict[str, str]:
    """The environment the app reads, as a server's process manager would set it."""
    return {
        "PRODUCT": product or run.product,
        "DATABASE_URL": f"sqlite:///{run.scratch / 'company.db'}",
        "PYTHONDONTWRITEBYTECODE": "1",
        **extra,
    }


def flask_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "wsgi", *args]


@demo("app", "The app on a laptop: Flask's development server")
def app_demo(run: Run) -> None:
    """Run the app the way it is developed: ``flask run`` on a laptop."""
    run.step(f"The company's app ({PRODUCTS[run.product]}): a few Python files")
    code = copy_source(run.scratch / "laptop" / SLUGS[run.product], run.product)
    run.say("files: " + ", ".join(sorted(p.name for p in code.iterdir())))
    env = app_env(run, SERVE_STATIC="1")
    run.sh(flask_cmd("init-db"), cwd=code, env={**os.environ, **env}, check=False)
    run.step("Start Flask's development server, the way we work on it every day")
    port = processes.free_port()
    server = run.start(
        "flask-dev-server",
        flask_cmd("run", "--port", str(port)),
        port=port,
        cwd=code,
        env=env,
        ready=processes.http_ready(f"http://127.0.0.1:{port}/healthz"),
    )
    run.show(server.log_tail(4))
    import requests

    page = requests.get(server.url("/"), timeout=5)
    run.say(f"GET / → {page.status_code}; the page's title:")
    title = page.text.split("<title>")[1].split("</title>")[0]
    run.fact("title", title)
    run.fact("status", page.status_code)
    css = requests.get(server.url("/static/style.css"), timeout=5)
    run.fact("css_status", css.status_code, "its CSS (served by Flask itself, in development)")
    run.say("It works on my machine. Now: how do other people use it?")


@demo("git-clone", "Getting the code onto the server: git clone")
def git_clone_demo(run: Run) -> None:
    """Clone the app's repository where the server keeps its apps."""
    run.step("The repository on 'GitHub' (a local repository stands in for it)")
    repo = make_repo(run, show=False)
    git(run, "log", "--oneline", cwd=repo)
    run.step("On the server: git clone")
    dest = run.scratch / "srv" / APP_DIR
    dest.parent.mkdir(parents=True, exist_ok=True)
    git(run, "clone", repo, dest, cwd=run.scratch)
    files = sorted(p.name for p in dest.iterdir() if p.name != ".git")
    run.say("the server now has: " + ", ".join(files))
    run.fact("cloned", "wsgi.py" in files, "the app is on the server")
    head = git(run, "rev-parse", "--short", "HEAD", cwd=dest, show=False).strip()
    run.fact("commit", head, "at commit")
