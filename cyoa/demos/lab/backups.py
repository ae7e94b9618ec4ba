"""Chapter 5 (data): the learner's backup and restore commands, around the intern's DELETE.

A throwaway PostgreSQL holds the app's database with its users. The lab runs the learner's
backup lines, then the intern's ``DELETE FROM users``, then the learner's restore lines, and
looks for the users in every database: a restore that never ran, ran into nothing or came
from the wrong kind of dump says so, with the tool's own words.

The learner's lines run as typed on the server (``pg_dump``, ``createdb``, ``pg_restore``,
``psql``, ``dropdb``; ``> file`` and ``< file`` too), against the lab's PostgreSQL through
``PGHOST``/``PGPORT``/``PGUSER``, as ``sudo -u postgres`` would on its local socket. Files
they name are kept in a folder of the lab's scratch directory.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cyoa.demos.lab.files import command_lines, read_source
from cyoa.demos.lab.frame import (
    LabInputError,
    LabResult,
    conclude,
    could_not_start,
    problem,
    unlisted,
)
from cyoa.demos.postgres import Cluster
from cyoa.demos.replication import USERS_SQL
from cyoa.demos.runner import Run

BACKUP_GOAL = "every user back after the intern's DELETE, from your backup"
TOOLS = ("pg_dump", "pg_restore", "createdb", "dropdb", "psql")
#: Options that would point a tool at another server: the lab points them at its own.
ELSEWHERE = {"-h", "--host", "-p", "--port"}
USERS = 120
#: Lines of a tool's output shown (a dump sent to the screen is thousands).
SHOWN = 12


@dataclass
class Line:
    """One command line of the learner's file: argv, and the files its redirections name."""

    text: str
    argv: list[str]
    stdout: str | None = None
    stdin: str | None = None


def parse_lines(text: str, what: str) -> list[Line]:
    """The file's command lines (comments and blank lines skipped), checked before any runs."""
    return [parse_line(line) for line in command_lines(text, what)]


def parse_line(text: str) -> Line:
    """One line: a known tool, no other server, plain file names, at most one ``>``/``<``."""
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise LabInputError(f"{text}: does not parse ({error})") from None
    if words[:1] == ["sudo"] and words[1:3] == ["-u", "postgres"]:
        words = words[3:]  # the lab's tools run as the database's superuser already
    if not words or words[0] not in TOOLS:
        raise LabInputError(f"{text}: the lab runs {', '.join(TOOLS)} only, one command a line")
    line = Line(text, [])
    words_iter = iter(words)
    for word in words_iter:
        if word in (">", "<"):
            target = next(words_iter, "")
            if not target:
                raise LabInputError(f"{text}: {word} names no file")
            if word == ">":
                line.stdout = _file_name(target, text)
            else:
                line.stdin = _file_name(target, text)
            continue
        if word.split("=", 1)[0] in ELSEWHERE or "://" in word:
            raise LabInputError(
                f"{text}: drop {word.split('=', 1)[0]}: the lab points every tool at its own "
                "PostgreSQL, as the server's local socket would"
            )
        if word.startswith(("|", "&", ";")) or word in ("&&", "||"):
            raise LabInputError(f"{text}: one command a line, without pipes or &&")
        line.argv.append(word)
        if word in ("-f", "--file"):  # the file a dump goes to, or psql reads
            line.argv.append(_file_name(next(words_iter, ""), text))
        elif word.startswith("--file="):
            _file_name(word.split("=", 1)[1], text)
    return line


def _file_name(name: str, text: str) -> str:
    if not name:
        raise LabInputError(f"{text}: -f names no file")
    if "/" in name or name.startswith("."):
        raise LabInputError(
            f"{text}: give a plain file name ({Path(name).name}): the lab keeps the files in a "
            "folder of its own"
        )
    return name


def run_line(run: Run, cluster: Cluster, line: Line, folder: Path) -> tuple[int, str]:
    """Run one of the learner's lines against the lab's server: exit status, what it said."""
    env = {"PGHOST": str(cluster.root), "PGPORT": str(cluster.port), "PGUSER": "postgres"}
    binary = run.need(line.argv[0], [line.text])
    print(f"  $ {line.text}", flush=True)
    out = (folder / line.stdout).open("wb") if line.stdout else None
    into = (folder / line.stdin).open("rb") if line.stdin else subprocess.DEVNULL
    try:
        done = subprocess.run(
            [binary, *line.argv[1:]],
            cwd=folder,
            env={**{k: v for k, v in os.environ.items() if not k.startswith("PG")}, **env},
            stdin=into,
            stdout=out or subprocess.PIPE,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    except FileNotFoundError:
        return 1, f"{line.stdin}: No such file"
    finally:
        for handle in (out, into):
            if hasattr(handle, "close"):
                handle.close()  # type: ignore[union-attr]
    said = (done.stderr or b"").decode(errors="replace")
    if out is None:
        said = (done.stdout or b"").decode(errors="replace") + said
    shown = said.strip().splitlines()
    if len(shown) > SHOWN:
        shown = [*shown[: SHOWN // 2], f"… ({len(shown) - SHOWN} lines)", *shown[-SHOWN // 2 :]]
    if shown:
        run.show(run.short("\n".join(shown)))
    return done.returncode, said


def users_by_database(cluster: Cluster) -> dict[str, int]:
    """How many users each database holds (those without a users table left out)."""
    names = cluster.value(
        "SELECT string_agg(datname, ',') FROM pg_database WHERE NOT datistemplate", db="postgres"
    ).split(",")
    found = {}
    for name in names:
        has = cluster.value("SELECT to_regclass('public.users') IS NOT NULL", db=name)
        if has == "t":
            found[name] = int(cluster.value("SELECT count(*) FROM users", db=name))
    return found


def _first_error(said: str) -> str:
    """The tool's first error line, without its prefix noise."""
    for line in said.splitlines():
        if "error" in line.lower() or "FATAL" in line or "No such file" in line:
            return re.sub(r"^\w+: (error: )?", "", line.strip())
    return said.strip().splitlines()[-1] if said.strip() else "it failed"


def _restore_problem(tool: str, said: str, dump: Path | None) -> str:
    """Why a restore line failed, as a learner would fix it."""
    if "text format dump" in said:
        return (
            "pg_restore: the input file is a plain (SQL text) dump, and pg_restore reads only "
            "the archive formats. Restore it with psql (psql -d DB -f FILE), or make the dump "
            "with -Fc"
        )
    if missing := re.search(r'database "([^"]+)" does not exist', said):
        name = missing.group(1)
        return (
            f'{tool}: database "{name}" does not exist. A restore fills a database, it does '
            f"not make one: createdb {name} first"
        )
    if "No such file" in said or "could not open input file" in said:
        named = f" (the backup wrote {dump.name})" if dump else " (the backup wrote no file)"
        return f"{tool}: the restore names a file the backup did not write{named}"
    return f"{tool}: {_first_error(said)}"


def _backup_problem(found: dict[str, int]) -> str:
    """Why no database holds every user again, when no line said why."""
    partial = [f"{name} holds {n}" for name, n in found.items() if n]
    if partial:
        return f"not every user is back: {', '.join(partial)} of {USERS}"
    return (
        "no database holds the users again. Did the dump name the app's database "
        "(pg_dump ... app)? Without a name, pg_dump dumps the database named like its user "
        "(postgres), which has no users; and did the dump keep the rows (no --schema-only)?"
    )


@unlisted("lab-backups", "Your backup and restore: the intern's DELETE, and back again")
def _backups(run: Run, backup: str | Path, restore: str | Path, check: bool) -> None:
    try:
        backup_lines = parse_lines(read_source(backup, "backup commands"), "backup")
        restore_lines = parse_lines(read_source(restore, "restore commands"), "restore")
    except LabInputError as error:
        problem(run, str(error))
        return could_not_start(run, check, BACKUP_GOAL)
    run.step(f"The app's database: PostgreSQL, {USERS} users")
    cluster = Cluster(run, "primary")
    cluster.init()
    cluster.start()
    cluster.psql("CREATE DATABASE app", db="postgres")
    cluster.psql(USERS_SQL.format(n=USERS))
    folder = run.scratch / "backups"
    folder.mkdir()
    problems: list[str] = []
    run.step("Your backup")
    for line in backup_lines:
        status, said = run_line(run, cluster, line, folder)
        if status:
            problems.append(f"the backup failed: {line.argv[0]}: {_first_error(said)}")
            break
    dumps = sorted(p for p in folder.iterdir() if p.is_file())
    dump = dumps[0] if dumps else None
    run.fact("backup_files", {p.name: p.stat().st_size for p in dumps}, "files (bytes)")
    if dump is not None:
        custom = dump.read_bytes()[:5] == b"PGDMP"
        run.fact("backup_format", "custom" if custom else "plain SQL", f"{dump.name} is")
    run.step("The intern's first day")
    cluster.psql("DELETE FROM users")
    failed = ""
    if not problems:
        run.step("Your restore")
        for line in restore_lines:
            status, said = run_line(run, cluster, line, folder)
            if status:
                failed = _restore_problem(line.argv[0], said, dump)
                break
    found = users_by_database(cluster)
    run.fact("users_by_database", found, "users, by database")
    restored = [name for name, n in found.items() if n == USERS]
    run.fact("restored_in", restored, f"databases with all {USERS} users")
    if failed:
        run.fact("restore_error", failed, "your restore stopped at")
    if not restored and not problems:  # the users back despite an error: the error is shown
        problems.append(failed or _backup_problem(found))
    conclude(run, problems, check, BACKUP_GOAL)


def backup_and_restore(
    backup: str | Path, restore: str | Path, product: str = "dachshund"
) -> LabResult:
    """Your backup lines, the intern's DELETE, then your restore lines: are the users back?"""
    return _backups(backup=backup, restore=restore, check=False, product=product)


def check_backup_and_restore(
    backup: str | Path, restore: str | Path, product: str = "dachshund"
) -> LabResult:
    """Pass when, after your restore, a database holds every user the DELETE took."""
    return _backups(backup=backup, restore=restore, check=True, product=product)
