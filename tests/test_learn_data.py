"""Chapter 5's data branch hands-on: the learner's backup and restore lines run for real
around the intern's ``DELETE`` (a throwaway PostgreSQL, the real ``pg_dump``, ``createdb``,
``pg_restore`` and ``psql``), and each break of the exercise shows what the tools say.

The helpers are chapter 1's (:mod:`tests.test_learn_notebooks`). As shipped (no
``createdb``) the chapter test checks it, in ``test_learn_notebooks.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_learn_notebooks import SCALING, copy_out, run_broken

pytestmark = pytest.mark.slow

BACKUP, RESTORE, CHECK = "backup.sh", "restore.sh", "lab-check:data"
DUMP = "pg_dump -Fc -f app.dump app"
RESTORE_LINE = "pg_restore -d app_restored app.dump"
CREATEDB = "createdb app_restored\n"


def check_with(tmp_path: Path, backup: str = DUMP, restore: str = RESTORE_LINE) -> dict:
    """The chapter's check cell, with the backup and restore lines replaced."""
    edits = [(BACKUP, DUMP, backup), (RESTORE, RESTORE_LINE, restore)]
    return run_broken(copy_out(tmp_path / "course"), SCALING, edits, CHECK)


def test_createdb_before_pg_restore_brings_every_user_back(tmp_path: Path) -> None:
    result = check_with(tmp_path, restore=CREATEDB + RESTORE_LINE)

    facts = result["facts"]
    assert facts["users_by_database"] == {"app": 0, "app_restored": 120}
    assert facts["restored_in"] == ["app_restored"]
    assert facts["passed"] is True
    assert "Check: PASS" in result["text"]


def test_pg_restore_refuses_a_plain_dump_and_says_to_use_psql(tmp_path: Path) -> None:
    result = check_with(
        tmp_path, "pg_dump app > app.sql", CREATEDB + "pg_restore -d app_restored app.sql"
    )

    assert result["facts"]["backup_format"] == "plain SQL"
    assert result["facts"]["restored_in"] == []
    assert "Restore it with psql" in result["text"]


def test_psql_restores_a_plain_dump(tmp_path: Path) -> None:
    facts = check_with(
        tmp_path, "pg_dump app > app.sql", CREATEDB + "psql -d app_restored -f app.sql"
    )["facts"]

    assert facts["restored_in"] == ["app_restored"]
    assert facts["passed"] is True


def test_a_dump_without_the_databases_name_backs_up_another_one(tmp_path: Path) -> None:
    result = check_with(tmp_path, "pg_dump -Fc -f app.dump", CREATEDB + RESTORE_LINE)

    assert result["facts"]["restored_in"] == []
    assert result["facts"]["passed"] is False
    assert "Without a name, pg_dump dumps the database named like its user" in result["text"]


def test_data_only_straight_into_the_apps_database_also_brings_them_back(tmp_path: Path) -> None:
    facts = check_with(tmp_path, restore="pg_restore --data-only -d app app.dump")["facts"]

    assert facts["users_by_database"] == {"app": 120}
    assert facts["passed"] is True


def test_a_restore_from_a_file_the_backup_never_wrote_says_which_it_did(tmp_path: Path) -> None:
    result = check_with(tmp_path, restore=CREATEDB + "pg_restore -d app_restored x.dump")

    assert result["facts"]["passed"] is False
    assert "names a file the backup did not write (the backup wrote app.dump)" in result["text"]


@pytest.mark.parametrize(
    ("backup", "says"),
    [
        ("pg_dump -h db.example.com -Fc -f app.dump app", "drop -h"),
        ("pg_dump -Fc -f /var/backups/app.dump app", "give a plain file name (app.dump)"),
        ("pg_dump -Fc app | gzip > app.dump.gz", "one command a line, without pipes"),
        ("rm -rf backups", "the lab runs pg_dump, pg_restore, createdb, dropdb, psql only"),
    ],
)
def test_a_line_the_lab_will_not_run_fails_the_check_before_anything_runs(
    tmp_path: Path, backup: str, says: str
) -> None:
    result = check_with(tmp_path, backup=backup)

    assert result["facts"]["passed"] is False
    assert "users_by_database" not in result["facts"]  # refused before a server started
    assert says in result["text"]
