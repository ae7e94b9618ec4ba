"""requirements.lock agrees with pyproject.toml, and what installs the project installs from it.

The lock pins every version (``./dev lock`` refreshes it); pyproject.toml says what the
project needs. When they drift apart, a dependency is installed unpinned, or a pin is kept
that nothing needs, and a presenter who installs twice can get two different decks.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
PYTHONS = ("3.11.0", "3.11.9", "3.12.8", "3.13.1")  # the lock holds at least on 3.11 Linux


def pyproject_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines += extra
    return [Requirement(line) for line in lines]


def locked() -> list[Requirement]:
    """Every pin of the lock, with its environment marker (a universal lock has some)."""
    lines = LOCK.read_text().splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith((" ", "#"))]


def linux(python: str) -> dict[str, str]:
    """The marker environment of CPython ``python`` on Linux x86_64."""
    return {
        **default_environment(),
        "python_version": ".".join(python.split(".")[:2]),
        "python_full_version": python,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": "x86_64",
    }


def pins_for(environment: dict[str, str]) -> dict[str, Requirement]:
    """The lock's pins that apply in ``environment``; two for one package is an error."""
    pins: dict[str, Requirement] = {}
    for pin in locked():
        if pin.marker is None or pin.marker.evaluate(environment):
            name = canonicalize_name(pin.name)
            assert name not in pins, f"{name} is pinned twice for {environment['python_version']}"
            pins[name] = pin
    return pins


def version(pin: Requirement) -> str:
    (spec,) = pin.specifier
    assert spec.operator == "==", f"{pin} is not a pin"
    return spec.version


@pytest.mark.parametrize("python", PYTHONS)
def test_every_dependency_of_pyproject_is_pinned_within_its_specifier(python: str) -> None:
    pins = pins_for(linux(python))
    for wanted in pyproject_requirements():
        name = canonicalize_name(wanted.name)
        assert name in pins, f"{wanted} is not in requirements.lock: run ./dev lock"
        assert wanted.specifier.contains(version(pins[name]), prereleases=True), (
            f"requirements.lock pins {pins[name]}, outside pyproject.toml's {wanted}: "
            "run ./dev lock"
        )


def installed(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def needed_here() -> set[str]:
    """Every distribution pyproject.toml needs here (extras included), from the installed
    packages' own metadata: what a resolver would have to install in this environment."""
    environment = default_environment()
    seen: set[tuple[str, frozenset[str]]] = set()
    stack = [(r.name, frozenset(r.extras)) for r in pyproject_requirements()]
    while stack:
        name, extras = stack.pop()
        if (canonicalize_name(name), extras) in seen:
            continue
        seen.add((canonicalize_name(name), extras))
        assert installed(name), f"{name} is needed but not installed: run ./dev test"
        for line in importlib.metadata.requires(name) or []:
            sub = Requirement(line)
            wanted = ("", *sorted(extras))
            if sub.marker is None or any(
                sub.marker.evaluate({**environment, "extra": extra}) for extra in wanted
            ):
                stack.append((sub.name, frozenset(sub.extras)))
    return {name for name, _ in seen}


def test_the_lock_holds_what_is_needed_and_nothing_else() -> None:
    pins = pins_for(default_environment())
    needed = needed_here()
    assert not pins.keys() - needed, f"locked, needed by nothing: {sorted(pins.keys() - needed)}"
    assert not needed - pins.keys(), f"needed but not locked: {sorted(needed - pins.keys())}"

    stale = {n: (version(p), installed(n)) for n, p in pins.items() if installed(n) != version(p)}

    assert not stale, f"not the locked versions (locked, installed): {stale}; run ./dev test"


def test_dev_and_conda_install_from_the_lock() -> None:
    dev = (ROOT / "dev").read_text()
    assert re.search(r"^LOCK=requirements\.lock$", dev, re.M)
    install = re.search(r'pip install -q (.*) -e "\.\[\$1\]"', dev)
    assert install, "./dev no longer installs the project with pip"
    assert install.group(1).split() == ["-c", '"$LOCK"', "--build-constraint", '"$LOCK"']

    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    (pip,) = (d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-c requirements.lock" in pip
    assert "python=3.11" in env["dependencies"]  # a version the lock holds for
