"""Traction for the VCs: weekly active customers, queried from PostgreSQL, drawn in Plotly.

Demo ``traction``: a throwaway PostgreSQL holds the app's data (a made-up history written
by ``flask seed`` through the app's own role), psql's ``\\copy`` exports the weekly active
customers (customers who used the product that week, not signups piling up) to a CSV with
``COPY ... TO STDOUT`` (client-side, like ``\\copy``: no superuser rights needed), and
Plotly draws it.
"""

from __future__ import annotations

import csv
import os

from cyoa.demos import tools
from cyoa.demos.app import app_env, checkout, flask_cmd
from cyoa.demos.postgres import TABLES, Cluster
from cyoa.demos.runner import PRODUCTS, Run, demo

WEEKLY_ACTIVE = """\
SELECT to_char(date_trunc('week', created), 'IYYY-"W"IW') AS week,
       count(DISTINCT customer)                          AS active_customers
FROM   {table}
GROUP  BY week
ORDER  BY week"""


def growth_figure(weeks: list[str], active: list[int], product: str = "dachshund") -> object:
    """Weekly active customers as bars: the number investors ask about."""
    import plotly.graph_objects as go

    figure = go.Figure(go.Bar(x=weeks, y=active, name="weekly active customers"))
    figure.update_layout(
        title=f"{PRODUCTS[product]}: weekly active customers",
        yaxis_title="customers active that week",
        height=420,
    )
    return figure


def display(figure: object) -> None:
    """Show the figure in a notebook; outside one, say where it would appear."""
    try:
        from IPython import get_ipython
        from IPython.display import display as show
    except ImportError:
        get_ipython = None  # type: ignore[assignment]
    if get_ipython is not None and get_ipython() is not None:
        show(figure)
    else:
        print("  (the figure is shown when this runs in a notebook)")


def history(run: Run, weeks: int) -> Cluster:
    """A throwaway PostgreSQL holding ``weeks`` of the app's made-up history."""
    run.step("The production database (a throwaway PostgreSQL here)")
    db = Cluster(run)
    db.init()
    db.start()
    url = db.create_app_role()
    code = checkout(run)
    env = app_env(run, DATABASE_URL=url)
    run.step(f"{weeks} weeks of history, written through the app (made up for the demo)")
    run.sh(flask_cmd("seed", "--weeks", str(weeks)), cwd=code, env={**os.environ, **env})
    return db


def export_csv(run: Run, db: Cluster, query: str, check: bool = True) -> list[dict] | str:
    """``query``'s rows, exported by psql as CSV; psql's complaint instead when it fails."""
    sql = run.write(run.scratch / "weekly.sql", f"COPY (\n{query}\n) TO STDOUT CSV HEADER;\n")
    out = run.scratch / "weekly.csv"
    psql = db.admin("psql", "-d", "app", "-v", "ON_ERROR_STOP=1", "-f", sql.name)
    done = run.sh([*psql, "-o", out.name], cwd=run.scratch, check=check)
    if done.returncode != 0:
        return (done.stdout + done.stderr).strip()
    with out.open() as file:
        return list(csv.DictReader(file))


@demo("traction", "Traction: weekly active customers, from PostgreSQL, for the VCs")
def traction_demo(run: Run, weeks: int = 26) -> None:
    """The app's data in PostgreSQL, the weekly actives exported with \\copy, drawn."""
    tools.need_module("plotly", ["pip install plotly"])
    table = TABLES[run.product][0]
    db = history(run, weeks)
    run.step("Weekly active customers, exported as CSV by psql (COPY ... TO STDOUT)")
    rows = export_csv(run, db, WEEKLY_ACTIVE.format(table=table))
    if isinstance(rows, str):
        raise RuntimeError(rows)
    run.show("\n".join(f"{r['week']}  {r['active_customers']:>5}" for r in rows[-4:]))
    active = [int(r["active_customers"]) for r in rows]
    run.fact("weeks", len(rows), "weeks of data")
    run.fact("active_last_week", active[-1], "customers active last week")
    run.fact("users", int(db.value("SELECT count(*) FROM users")), "users signed up, ever")
    run.fact("database", db.value("SELECT split_part(version(), ' ', 1)"), "queried in")
    run.fact("growth", round(active[-1] / max(active[0], 1), 1), "last week vs first (x)")
    figure = growth_figure([r["week"] for r in rows], active, run.product)
    run.result.extra["figure"] = figure
    display(figure)
