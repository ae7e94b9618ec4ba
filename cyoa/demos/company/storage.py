"""The app's database: SQLite for a laptop, PostgreSQL (psycopg) in production.

``DATABASE_URL`` picks one: ``postgresql://...`` or ``sqlite:///path/to/file.db``.
Queries are written with ``?`` placeholders and adapted for psycopg.
"""

from __future__ import annotations

import os
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

SCHEMA = {
    "sqlite": """
        CREATE TABLE IF NOT EXISTS users (
            id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT UNIQUE NOT NULL, created TEXT);
        CREATE TABLE IF NOT EXISTS deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT, customer TEXT NOT NULL, recipient TEXT NOT NULL,
            document TEXT NOT NULL, created TEXT);
        CREATE TABLE IF NOT EXISTS playdates (
            id INTEGER PRIMARY KEY AUTOINCREMENT, customer TEXT NOT NULL, pet TEXT NOT NULL,
            park TEXT NOT NULL, created TEXT);
    """,
    "postgresql": """
        CREATE TABLE IF NOT EXISTS users (
            id SERIAL PRIMARY KEY, email TEXT UNIQUE NOT NULL,
            created TIMESTAMPTZ NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS deliveries (
            id SERIAL PRIMARY KEY, customer TEXT NOT NULL, recipient TEXT NOT NULL,
            document TEXT NOT NULL, created TIMESTAMPTZ NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS playdates (
            id SERIAL PRIMARY KEY, customer TEXT NOT NULL, pet TEXT NOT NULL,
            park TEXT NOT NULL, created TIMESTAMPTZ NOT NULL DEFAULT now());
    """,
}
#: What each product's table holds besides its customer, for the made-up history.
SEED_ROWS = {
    "deliveries": ("someone@example.com", "contract.pdf"),
    "playdates": ("Rex", "the park"),
}


class Database:
    """A tiny wrapper: one connection per call, the same SQL for both engines."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or os.environ.get("DATABASE_URL", "sqlite:///company.db")
        self.engine = "postgresql" if self.url.startswith("postgres") else "sqlite"

    def connect(self) -> Any:
        if self.engine == "postgresql":
            import psycopg

            return psycopg.connect(self.url, autocommit=True)
        conn = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
        return conn

    def execute(self, sql: str, *params: Any) -> list[tuple]:
        if self.engine == "postgresql":
            sql = sql.replace("?", "%s")
        conn = self.connect()
        try:
            cursor = conn.execute(sql, params)
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            conn.close()

    def executemany(self, sql: str, rows: list[tuple]) -> None:
        """Many rows in one transaction (one disk sync instead of one per row)."""
        conn = self.connect()
        try:
            if self.engine == "postgresql":
                with conn.transaction():
                    conn.cursor().executemany(sql.replace("?", "%s"), rows)
            else:
                conn.execute("BEGIN")
                conn.executemany(sql, rows)
                conn.execute("COMMIT")
        finally:
            conn.close()

    def init(self) -> None:
        conn = self.connect()
        try:
            for statement in filter(str.strip, SCHEMA[self.engine].split(";")):
                conn.execute(statement)
        finally:
            conn.close()

    def now(self) -> str:
        return datetime.now(UTC).isoformat(timespec="seconds")

    def seed(self, weeks: int = 26, seed: int = 7, table: str = "deliveries") -> tuple[int, int]:
        """Made-up history for a young company: slow start, then TechCrunch, then growth.

        Customers come back some weeks and not others (fewer as time passes), so the weekly
        active customers are not simply everyone who ever signed up. Returns (users, rows).
        """
        rng = random.Random(seed)
        # Whole ISO weeks, ending with the last complete one: the graphs group by ISO week,
        # and a history that ended mid-week made "this week" look like a collapse (on a
        # Monday the last bar held a few hours of signups).
        now = datetime.now(UTC)
        monday = (now - timedelta(days=now.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        start = monday - timedelta(weeks=weeks)
        users, rows, n = [], [], 0
        extra = SEED_ROWS[table]
        for week in range(weeks):
            signups = int(3 + 1.35 ** min(week, 20) + rng.randint(0, 5))
            for _ in range(signups):
                n += 1
                email = f"user{n}@example.com"
                joined = start + timedelta(weeks=week, minutes=rng.randint(0, 7 * 24 * 60 - 1))
                users.append((email, joined.isoformat(timespec="seconds")))
                for later in range(week, weeks):
                    if rng.random() < 0.6 * 0.85 ** (later - week):
                        when = start + timedelta(weeks=later, minutes=rng.randint(0, 10079))
                        rows.append((email, *extra, max(when, joined).isoformat()))
        self.executemany("INSERT INTO users (email, created) VALUES (?, ?)", users)
        columns = {"deliveries": "recipient, document", "playdates": "pet, park"}[table]
        self.executemany(
            f"INSERT INTO {table} (customer, {columns}, created) VALUES (?, ?, ?, ?)",  # noqa: S608
            rows,
        )
        return len(users), len(rows)

    def weekly(self, table: str) -> dict[str, int]:
        """Rows per ISO week (``2024-W07``), oldest first: the traction graphs' data."""
        counts: dict[str, int] = {}
        for (created,) in self.execute(f"SELECT created FROM {table}"):  # noqa: S608
            day = created if isinstance(created, datetime) else datetime.fromisoformat(created)
            year, week, _ = day.isocalendar()
            key = f"{year}-W{week:02d}"
            counts[key] = counts.get(key, 0) + 1
        return dict(sorted(counts.items()))
