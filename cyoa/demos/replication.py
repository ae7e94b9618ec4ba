"""Data safety: a streaming read-only replica, a backup, and the intern's ``DELETE``.

Demo ``data-replication``: a PostgreSQL primary with a real streaming replica
(``pg_basebackup -R``); the replica refuses writes; a ``pg_dump`` backup; the intern's
``DELETE FROM users`` reaches the replica too (replication copies mistakes faithfully);
``pg_restore`` from the backup brings the users back, on both.
"""

from __future__ import annotations

from cyoa.demos import processes
from cyoa.demos.postgres import Cluster
from cyoa.demos.runner import Run, demo

USERS_SQL = (
    "CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE NOT NULL,"
    " created timestamptz NOT NULL DEFAULT now());"
    " INSERT INTO users (email) SELECT 'user' || n || '@example.com'"
    " FROM generate_series(1, {n}) AS n"
)


def wait_for(cluster: Cluster, sql: str, expected: str) -> str:
    """Replication is asynchronous: wait (briefly) until the replica shows ``expected``."""
    processes.wait_until(lambda: cluster.value(sql) == expected, timeout=10)
    return expected


@demo("data-replication", "Data: a read-only replica, a backup, and the intern's DELETE")
def replication_demo(run: Run, users: int = 120) -> None:
    """Primary + replica, write refused on the replica, backup, delete, restore."""
    run.step("The primary: every write goes here")
    primary = Cluster(run, "primary")
    primary.init()
    primary.start()
    primary.psql("CREATE DATABASE app", db="postgres")
    primary.psql(USERS_SQL.format(n=users))
    run.step("A replica: a copy of the primary that follows it (pg_basebackup -R)")
    replica = Cluster(run, "replica")
    base = primary.admin("pg_basebackup")
    run.sh(
        processes.unprivileged([*base, "-D", str(replica.data), "-R", "-X", "stream", "-c", "fast"])
    )
    replica.start()
    primary.psql("SELECT client_addr, state, sync_state FROM pg_stat_replication", db="postgres")
    count = "SELECT count(*) FROM users"
    run.fact("replica_users", int(wait_for(replica, count, str(users))), "users on the replica")
    run.fact("replica_read_only", replica.value("SELECT pg_is_in_recovery()") == "t")
    run.step("Reads can go to the replica; writes cannot")
    refused = replica.psql("INSERT INTO users (email) VALUES ('sneaky@example.com')", check=False)
    run.fact("replica_refused_write", "read-only transaction" in refused, "write refused")
    run.step("A backup (pg_dump), to a file kept somewhere else")
    backup = run.scratch / "backups" / "app.dump"
    backup.parent.mkdir()
    dump = primary.admin("pg_dump")
    run.sh([*dump, "-Fc", "-d", "app", "-f", str(backup)])
    run.say(f"backup: {backup.stat().st_size} bytes")
    run.step("The intern's first day")
    said = primary.psql("DELETE FROM users")
    run.fact("deleted", int(said.split()[-1]), "users deleted on the primary")
    run.fact("replica_after_delete", int(wait_for(replica, count, "0")), "users on the replica")
    run.say("The replica obeyed: replication protects against a dead server, not a bad query.")
    run.step("Restore the users from the backup")
    restore = primary.admin("pg_restore")
    run.sh([*restore, "--data-only", "--table=users", "-d", "app", str(backup)])
    run.fact("restored", int(primary.value(count)), "users on the primary")
    run.fact("replica_restored", int(wait_for(replica, count, str(users))), "on the replica")
