"""The wheel is the product: built, installed into a fresh venv, and run from another folder.

A data file left out of ``package-data`` works in a checkout and breaks only for whoever
installs the wheel (a playbook, a template, a notebook missing), and so does a path that
assumes the repository around the package. So build the wheel, look inside, install it into
a new venv and run ``cyoa check``, ``export``, ``notebooks`` and ``present`` from elsewhere.

To stay fast and offline the new venv gets the wheel with ``--no-deps``, and sees the
dependencies through a ``.pth`` file pointing at a folder of links into the project venv
(the locked versions): only the distributions the wheel's own ``Requires-Dist`` reaches, so
a module imported but not declared fails here as it would for a user. The project's own
packages and its editable-install finder are left out: ``cyoa`` comes from the wheel only
(checked below).
"""

from __future__ import annotations

import contextlib
import email.parser
import importlib.metadata
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest
import requests
import yaml
from conftest import free_port
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cyoa", "voteserver", "story")  # the repository's folders
# The card's folders install under the one name cyoa (setup.py says why).
SHIPPED_AS = {"cyoa": "cyoa", "voteserver": "cyoa/voteserver", "story": "cyoa/story"}
NOT_SHIPPED = ("__pycache__", ".ipynb_checkpoints", ".pyc")
MARKER = "CYOA_PRESENT_ID"  # cyoa present marks every process it starts with it

pytestmark = pytest.mark.slow


def source_files() -> set[str]:
    """Every committed file the wheel must hold, by its path inside the wheel (files other
    tests or a learner leave in the folders are not the product's)."""
    files = set()
    folders = SHIPPED_AS | {"notebooks": "cyoa/notebooks"}
    tracked = subprocess.run(
        ["git", "ls-files", "-z", "--", *folders],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, tracked):
        folder, _, rest = name.partition("/")
        relative = f"{folders[folder]}/{rest}"
        if (ROOT / name).is_file() and not any(part in relative for part in NOT_SHIPPED):
            files.add(relative)
    return files


def clean_copy(dest: Path) -> Path:
    """The sources without build leftovers: a stale ``build/`` would hide a missing file."""
    ignore = shutil.ignore_patterns(*NOT_SHIPPED, "*.egg-info", "build")
    for folder in (*PACKAGES, "notebooks"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a clean copy with the project venv's (locked) setuptools."""
    work = tmp_path_factory.mktemp("wheel")
    source = clean_copy(work / "src")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    build = subprocess.run(
        [*pip_wheel, "--wheel-dir", str(work / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (built,) = (work / "dist").glob("cyoa-*.whl")
    return built


@dataclass
class Installed:
    """A fresh venv holding the wheel; commands run from a folder outside the repository."""

    venv: Path
    site_packages: Path
    elsewhere: Path
    env: dict[str, str]

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv, cwd=self.elsewhere, env=self.env, capture_output=True, text=True, timeout=300
        )

    def cyoa(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.venv / "bin" / "cyoa"), *args)


#: The extras the README's install line asks for (``cyoa[deck,demos]``).
README_EXTRAS = ("deck", "demos")


def declared_closure(wheel: Path) -> set[str]:
    """The distributions the wheel's ``Requires-Dist`` reaches, with the README's extras."""
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = email.parser.Parser().parsestr(archive.read(name).decode())
    declared = metadata.get_all("Requires-Dist") or []
    todo = [(Requirement(line), e) for line in declared for e in ("", *README_EXTRAS)]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        requirement, extra = todo.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        needs = importlib.metadata.distribution(requirement.name).requires or []
        for wanted in ["", *requirement.extras]:
            todo.extend((Requirement(line), wanted) for line in needs)
    return {name for name, _ in seen}


def dependencies_view(dest: Path, wheel: Path) -> Path:
    """Links to the files of the declared dependencies in the project venv, nothing else."""
    site = Path(sysconfig.get_paths()["purelib"])
    dest.mkdir()
    for name in declared_closure(wheel):
        dist = importlib.metadata.distribution(name)
        for top in {Path(str(file)).parts[0] for file in dist.files or []}:
            entry = site / top
            if top not in ("..", "__pycache__") and entry.exists() and not (dest / top).exists():
                (dest / top).symlink_to(entry)
    return dest


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("installed")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    subprocess.run(
        [*pip, "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True, timeout=300
    )
    (site_packages,) = (venv / "lib").glob("python3.*/site-packages")
    view = dependencies_view(work / "dependencies", wheel)
    (site_packages / "cyoa-test-dependencies.pth").write_text(f"{view}\n")
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CYOA_", "TWILIO_", "PYTHON", "VIRTUAL_ENV", "JUPYTER"))
        and k != "REDIS_URL"
    }
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        # Voilà's templates and the widgets' JavaScript are the dependencies' data files, under
        # the project venv's prefix: the new venv's Jupyter only looks under its own.
        JUPYTER_PATH=str(Path(sys.prefix) / "share" / "jupyter"),
    )
    return Installed(venv, site_packages, elsewhere, env)


def test_the_wheel_holds_every_package_file(wheel: Path) -> None:
    shipped = set(zipfile.ZipFile(wheel).namelist())

    missing = sorted(source_files() - shipped)

    assert not missing, f"left out of the wheel (add them to package-data): {missing}"
    assert "cyoa/demos/company/deploy.yml" in shipped
    top_level = {
        name.split("/")[0] for name in shipped if not name.split("/")[0].endswith(".dist-info")
    }
    assert top_level == {"cyoa"}, "the wheel must not install story or voteserver at the top"
    assert {"cyoa/notebooks/present.ipynb", "cyoa/notebooks/learn-1-launch.ipynb"} <= shipped


def test_the_venv_runs_the_wheels_code_not_the_repositorys(installed: Installed) -> None:
    code = (
        "import json, sys, cyoa, cyoa.notebooks, cyoa.story, cyoa.voteserver, voila\n"
        "mods = (cyoa, cyoa.notebooks, cyoa.story, cyoa.voteserver, voila)\n"
        "finders = [getattr(f, '__name__', type(f).__name__) for f in sys.meta_path]\n"
        "print(json.dumps({'files': [m.__file__ for m in mods], 'finders': finders}))"
    )
    result = installed.run(str(installed.venv / "bin" / "python"), "-c", code)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)

    *ours, voila = map(Path, found["files"])
    assert all(path.is_relative_to(installed.site_packages) for path in ours), ours
    assert not voila.is_relative_to(installed.site_packages)  # a dependency, from the view
    assert not any("Editable" in name for name in found["finders"]), found["finders"]


def test_check_export_and_new_work_from_another_folder(installed: Installed) -> None:
    check = installed.cyoa("check", "--quiet")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "OK: no errors, 0 warnings." in check.stdout
    assert str(installed.site_packages) in check.stdout  # the shipped story, from the wheel

    export = installed.cyoa("export", "site")
    assert export.returncode == 0, export.stdout + export.stderr
    index = installed.elsewhere / "site" / "index.html"
    assert "Choose Your Own WSGI Deployment Adventure" in index.read_text()

    new = installed.cyoa("new", "talk")
    assert new.returncode == 0, new.stdout + new.stderr
    doc = Path(new.stdout.rsplit("The story format: ", 1)[1].strip())
    assert doc.is_relative_to(installed.site_packages) and doc.is_file()
    assert installed.cyoa("check", "--quiet", "talk").returncode == 0


def test_cyoa_notebooks_copies_the_learners_notebooks_out(installed: Installed) -> None:
    first = installed.cyoa("notebooks", "course")
    again = installed.cyoa("notebooks", "course")

    assert first.returncode == 0, first.stderr
    copied = sorted(p.name for p in (installed.elsewhere / "course").iterdir())
    expected = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert copied == [name for name in expected if name not in ("present.ipynb", "presenter.ipynb")]
    for name in copied:
        assert (installed.elsewhere / "course" / name).read_bytes() == (
            ROOT / "notebooks" / name
        ).read_bytes()
    assert again.returncode == 0 and "wrote" not in again.stdout


def run_processes(marker: str, pids: list[int]) -> list[psutil.Process]:
    """Live processes of one ``cyoa present`` run: marked by it, or started by it."""
    found = {}
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            if process.environ().get(MARKER) == marker or process.pid in pids:
                found[process.pid] = process
    return list(found.values())


def listening(ports: tuple[int | None, ...]) -> list[int]:
    connections = psutil.net_connections(kind="inet")
    return sorted({c.laddr.port for c in connections if c.status == "LISTEN"} & set(ports))


@pytest.fixture
def presenting(installed: Installed, tmp_path: Path) -> Iterator[tuple[subprocess.Popen, Path]]:
    """``cyoa present`` from the wheel, in its own process group, as a terminal starts it."""
    state, out = tmp_path / "state", tmp_path / "present.out"
    ports = [str(free_port()), str(free_port())]
    argv = [str(installed.venv / "bin" / "cyoa"), "present", "--no-browser", "--state-dir"]
    with out.open("wb") as log:
        process = subprocess.Popen(
            [*argv, str(state), "--port", ports[0], "--deck-port", ports[1]],
            cwd=installed.elsewhere,
            env={**installed.env, "CYOA_PRESENTER_TOKEN": "presenter-test-token"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process, state
    finally:  # a failed test must not leave a talk running
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        with contextlib.suppress(OSError, ValueError):
            marker = json.loads((state / "present.json").read_text())["marker"]
            for leftover in run_processes(marker, []):
                with contextlib.suppress(psutil.Error):
                    leftover.kill()


def wait_announced(process: subprocess.Popen, out: Path) -> dict:
    """The run's ``present.json``, once it printed its URLs; fail with its output if it died."""

    def announced() -> bool:
        assert process.poll() is None, f"cyoa present exited:\n{out.read_text()}"
        return "Press Ctrl-C" in out.read_text(errors="replace")

    wait_until(announced, "cyoa present's URLs", timeout=240)
    return json.loads((out.parent / "state" / "present.json").read_text())


def test_cyoa_present_serves_the_deck_and_ctrl_c_leaves_nothing(presenting) -> None:
    process, state = presenting
    out = state.parent / "present.out"
    info = wait_announced(process, out)
    ports = (urlsplit(info["vote_url"]).port, urlsplit(info["deck_url"]).port)
    started = run_processes(info["marker"], list(info["children"].values()))
    assert len(started) >= 4, started  # the vote server, Voilà and a kernel per notebook

    deck = requests.get(info["deck_url"], timeout=120)
    assert deck.status_code == 200
    assert "<title>present</title>" in deck.text
    assert "cyoa.deck.controller.Controller" in deck.text  # the deck ran in its kernel
    assert "cdn.jsdelivr.net" not in deck.text  # the wheel's Voilà template is in use

    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the foreground group
    assert process.wait(timeout=120) == 0, out.read_text()

    left = run_processes(info["marker"], [p.pid for p in started])
    _, alive = psutil.wait_procs(left, timeout=30)
    assert alive == [], alive
    assert listening(ports) == []


def test_conda_installs_the_same_extras_as_the_test_command() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_extras = {m for line in pip for m in re.findall(r"\[([\w,]+)\]", line)}
    dev = (ROOT / "dev").read_text()
    test_extras = re.search(r"ensure_venv (\S+)\n\s+log \"ruff\"", dev).group(1)

    assert conda_extras == {test_extras}
