"""The built wheel carries every file the packages read at run time; conda installs the same.

A data file left out of ``package-data`` works in a checkout and breaks only for whoever
installs the wheel (a playbook, a template, a story image missing), so build one and look.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("cyoa", "voteserver", "story")
NOT_SHIPPED = ("__pycache__", ".ipynb_checkpoints", ".pyc")

pytestmark = pytest.mark.slow


def source_files() -> set[str]:
    files = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            relative = path.relative_to(ROOT).as_posix()
            if path.is_file() and not any(part in relative for part in NOT_SHIPPED):
                files.add(relative)
    return files


def clean_copy(dest: Path) -> Path:
    """The sources without build leftovers: a stale ``build/`` would hide a missing file."""
    ignore = shutil.ignore_patterns(*NOT_SHIPPED, "*.egg-info", "build")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, dest / package, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dest / name)
    return dest


def test_the_wheel_holds_every_package_file(tmp_path: Path) -> None:
    source = clean_copy(tmp_path / "src")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    build = subprocess.run(
        [*pip_wheel, "--wheel-dir", str(tmp_path / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = (tmp_path / "dist").glob("cyoa-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())

    missing = sorted(source_files() - shipped)

    assert not missing, f"left out of the wheel (add them to package-data): {missing}"
    assert "cyoa/demos/company/deploy.yml" in shipped


def test_conda_installs_the_same_extras_as_the_test_command() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_extras = {m for line in pip for m in re.findall(r"\[([\w,]+)\]", line)}
    dev = (ROOT / "dev").read_text()
    test_extras = re.search(r"ensure_venv (\S+)\n\s+log \"ruff\"", dev).group(1)

    assert conda_extras == {test_extras}
