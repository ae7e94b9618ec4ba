"""Chapter 4 (traction): the learner's weekly query, against PostgreSQL, drawn as a graph."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from cyoa.demos import traction as metrics
from cyoa.demos.lab.files import (
    read_source,
)
from cyoa.demos.lab.frame import (
    LabInputError,
    LabResult,
    could_not_start,
    problem,
    unlisted,
    verdict,
)
from cyoa.demos.postgres import TABLES
from cyoa.demos.runner import Run

TRACTION_GOAL = "the graph shows the customers active each week"
#: What a learner's numbers might be instead, each computed here from the same data (the
#: lab's own queries, never the learner's text).
WEEK = """to_char(date_trunc('week', created), 'IYYY-"W"IW')"""
OTHER_CURVES = {
    "signups": f"SELECT {WEEK} AS week, count(*) FROM users GROUP BY week",  # noqa: S608
    "cumulative": f"SELECT {WEEK} AS week, sum(count(*)) OVER (ORDER BY {WEEK}) "  # noqa: S608
    "FROM users GROUP BY week",
}


def one_select(text: str) -> str:
    """The learner's query, without its final semicolon: it goes inside ``COPY (...)``."""
    query = text.strip().rstrip(";").strip()
    if not query:
        raise LabInputError("the SQL file holds no query")
    if ";" in re.sub(r"--[^\n]*|'[^']*'", "", query):
        raise LabInputError("one SELECT only: the lab exports a single query's rows as CSV")
    return query


def _curve(db: object, query: str) -> list[int]:
    """A (week, number) query's numbers, oldest week first (for comparing with the learner's)."""
    agg = f"SELECT string_agg(n::bigint::text, ',' ORDER BY week) FROM ({query}) t(week, n)"  # noqa: S608
    return [int(n) for n in db.value(agg).split(",") if n]  # type: ignore[attr-defined]


def _learners_curve(rows: list[dict]) -> tuple[list[str], list[int], str] | str:
    """(weeks, numbers, the numbers' column) from the learner's rows, or what is wrong."""
    if not rows:
        return "your query returned no rows"
    columns = list(rows[0])
    if len(columns) != 2:
        named = ", ".join(columns)
        return f"your query returns {len(columns)} columns ({named}): give two, a week and a number"
    week, number = columns
    ordered = sorted(rows, key=lambda r: r[week])  # ISO weeks and dates sort as text
    try:
        numbers = [int(float(r[number])) for r in ordered]
    except ValueError:
        return f"the second column ({number}) must be a number"
    return [r[week] for r in ordered], numbers, number


def _traction_problems(yours: list[int], curves: dict[str, list[int]], weeks: list[str]) -> list:
    """Why the learner's curve is not the weekly active customers, as they would fix it."""
    active = curves["active"]
    if yours == active:
        return []
    if yours == curves["cumulative"]:
        return [
            "your curve is everyone who ever signed up, week by week: it can only go up, "
            "whatever the customers do. That is the vanity curve; investors ask how many "
            "customers used the product each week"
        ]
    if yours == curves["signups"]:
        return [
            "these are signups per week (rows of users): new accounts, not customers who "
            "used the product that week"
        ]
    if len(yours) != len(active):
        return [f"your query gives {len(yours)} weeks; the data holds {len(active)}"]
    n = next(i for i, (a, b) in enumerate(zip(yours, active, strict=True)) if a != b)
    return [f"week {weeks[n]}: your query says {yours[n]}, customers active that week: {active[n]}"]


@unlisted("lab-traction", "Your query: weekly active customers, from PostgreSQL")
def _traction(run: Run, sql: str | Path, weeks: int, check: bool) -> None:
    try:
        query = one_select(read_source(sql, "SQL query"))
    except LabInputError as error:
        problem(run, str(error))
        return could_not_start(run, check, TRACTION_GOAL)
    db = metrics.history(run, weeks)
    run.step("Your query, exported as CSV by psql (COPY (your query) TO STDOUT)")
    rows = metrics.export_csv(run, db, query, check=False)
    if isinstance(rows, str):
        said = next((line for line in rows.splitlines() if "ERROR" in line), rows)
        said = re.sub(r"^psql:[^:]*:\d+: ", "", said)
        problem(run, f"psql rejects your query: {run.short(said)}")
        return could_not_start(run, check, TRACTION_GOAL)
    learned = _learners_curve(rows)
    if isinstance(learned, str):
        problem(run, learned)
        return could_not_start(run, check, TRACTION_GOAL)
    labels, yours, column = learned
    run.show("\n".join(f"{w}  {n:>5}" for w, n in zip(labels[-4:], yours[-4:], strict=True)))
    table = TABLES[run.product][0]
    curves = {"active": _curve(db, metrics.WEEKLY_ACTIVE.format(table=table))}
    curves |= {name: _curve(db, query) for name, query in OTHER_CURVES.items()}
    run.fact("weeks", len(yours), "weeks in your graph")
    run.fact("yours_last_week", yours[-1], f"your {column}, last week")
    run.fact("active_last_week", curves["active"][-1], "customers active last week")
    run.fact(
        "only_up", all(a <= b for a, b in itertools.pairwise(yours)), "your curve only goes up"
    )
    run.fact("is_active_customers", yours == curves["active"], "your numbers are the actives")
    figure = metrics.growth_figure(labels, yours, run.product)
    figure.update_layout(title=f"Your query: {column} by week")  # type: ignore[attr-defined]
    metrics.display(figure)
    if check:
        verdict(run, _traction_problems(yours, curves, labels), TRACTION_GOAL)


def traction(sql: str | Path, weeks: int = 26, product: str = "dachshund") -> LabResult:
    """Your SQL, run against the app's data in a throwaway PostgreSQL, drawn as a graph."""
    return _traction(sql=sql, weeks=weeks, check=False, product=product)


def check_traction(sql: str | Path, weeks: int = 26, product: str = "dachshund") -> LabResult:
    """Pass when your query's numbers are the customers active each week."""
    return _traction(sql=sql, weeks=weeks, check=True, product=product)
