"""Reading the learner's files, and placing their addresses and paths on this machine."""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from cyoa.demos import processes
from cyoa.demos.lab.frame import (
    LabInputError,
)
from cyoa.demos.runner import Run

#: Where the learner's files say the app's clone is, and the web server's files.
APP_DIR = "/srv/app"
WWW_DIR = "/var/www/"
#: The app's static files, copied where the web server reads them (as a deploy would).
STATIC_DIR = "/var/www/static"
ADDRESS = re.compile(r"\b(?:127\.0\.0\.1|localhost):(\d{1,5})\b")
LISTEN = re.compile(r"^\s*listen\s+([^;]*);", re.MULTILINE)


def read_source(source: str | Path, what: str) -> str:
    """A file's text: ``source`` names the file, or is the text itself (a space or newline)."""
    path = Path(source)
    if path.is_file():
        return path.read_text()
    if isinstance(source, str) and (" " in source or "\n" in source):
        return source
    raise LabInputError(f"{what}: no file {path} here (run the %%writefile cell above first)")


@dataclass
class Gunicorn:
    """The learner's gunicorn command line, parsed: the real argv and the port it binds."""

    argv: list[str]
    port: int
    timeout: int | None = None
    threads: int = 1


def command_lines(text: str, what: str) -> list[str]:
    """A shell file's command lines: ``\\`` breaks joined, comments and blank lines skipped."""
    lines = (ln.strip() for ln in text.replace("\\\n", " ").splitlines())
    commands = [ln for ln in lines if ln and not ln.startswith("#")]
    if not commands:
        raise LabInputError(f"the {what} file holds no command line")
    return commands


def command_words(line: str, program: list[str], what: str) -> list[str]:
    """A command line's words, ``exec`` dropped, checked to start with ``program``."""
    try:
        words = shlex.split(line)
    except ValueError as error:
        raise LabInputError(f"the {what} command does not parse: {error}") from None
    if words[:1] == ["exec"]:
        words = words[1:]
    if words[: len(program)] != program:
        raise LabInputError(f"the command must start with {' '.join(program)}")
    return words


def parse_gunicorns(text: str) -> list[Gunicorn]:
    """One ``gunicorn ...`` command a line (comments, ``exec`` and ``\\`` breaks allowed)."""
    commands = command_lines(text, "gunicorn")
    parsed = [parse_gunicorn(command) for command in commands]
    ports = [command.port for command in parsed]
    if len(set(ports)) != len(ports):
        raise LabInputError("two gunicorn commands bind the same address: give each its own port")
    return parsed


def parse_gunicorn(line: str) -> Gunicorn:
    """One ``gunicorn ...`` command line, checked for what the lab can run safely."""
    words = command_words(line, ["gunicorn"], "gunicorn")
    if {"-D", "--daemon"} & set(words):
        raise LabInputError("drop --daemon: the lab must be able to stop what it starts")
    bind = _option(words, "-b", "--bind")
    if bind is None or not ADDRESS.fullmatch(bind):
        raise LabInputError(
            f"give gunicorn --bind 127.0.0.1:PORT (got {bind or 'no --bind'}): "
            "the lab never opens a port beyond this machine"
        )
    timeout = _option(words, "-t", "--timeout")
    threads = _option(words, "--threads")
    return Gunicorn(
        argv=[sys.executable, "-m", "gunicorn", *_quiet_flags(), *words[1:]],
        port=int(bind.rsplit(":", 1)[1]),
        timeout=int(timeout) if timeout and timeout.isdigit() else None,
        threads=int(threads) if threads and threads.isdigit() else 1,
    )


def _option(words: list[str], *names: str) -> str | None:
    """The value of the last ``--name VALUE`` or ``--name=VALUE`` among ``words``."""
    found = None
    for n, word in enumerate(words):
        for name in names:
            if word == name and n + 1 < len(words):
                found = words[n + 1]
            elif word.startswith(f"{name}="):
                found = word.split("=", 1)[1]
    return found


def _quiet_flags() -> list[str]:
    """As the deck runs it: no control socket in ~/.gunicorn for a throwaway server."""
    from gunicorn.config import Config

    return ["--no-control-socket"] if "control_socket" in Config().settings else []


def listen_port(site: str) -> int:
    """The port the site's ``listen 127.0.0.1:PORT;`` names."""
    for value in LISTEN.findall(site):
        if match := ADDRESS.search(value):
            return int(match.group(1))
    raise LabInputError(
        "the site needs `listen 127.0.0.1:PORT;` (the lab never opens a port beyond this machine)"
    )


@dataclass
class Placement:
    """Where the learner's addresses land on this machine: free ports, the scratch dir."""

    app: Path
    www: Path
    ports: dict[int, int] = field(default_factory=dict)

    def port(self, yours: int, ours: int | None = None) -> int:
        """The free port standing for ``yours`` (``ours`` if given and not yet placed)."""
        return self.ports.setdefault(yours, ours or processes.free_port())

    def place(self, text: str) -> str:
        """``text`` with its addresses and server paths moved here."""
        text = ADDRESS.sub(lambda m: f"127.0.0.1:{self.port(int(m.group(1)))}", text)
        text = re.sub(re.escape(APP_DIR) + r"(?![\w.-])", str(self.app), text)
        return text.replace(WWW_DIR, f"{self.www}/")

    def show(self, run: Run) -> None:
        for yours, ours in sorted(self.ports.items()):
            run.say(f"your 127.0.0.1:{yours} is 127.0.0.1:{ours} here")
