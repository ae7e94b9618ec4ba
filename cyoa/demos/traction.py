"""Traction for the VCs: growth graphs in Plotly, from the app's own data.

Demo ``traction``: the app's database is filled with a made-up history (``flask seed``),
the app serves weekly counts at ``/api/stats/weekly``, and Plotly draws them.
"""

from __future__ import annotations

import os

import requests

from cyoa.demos import tools
from cyoa.demos.app import app_env, checkout, flask_cmd
from cyoa.demos.runner import Run, demo
from cyoa.demos.wsgi import start_gunicorn


def growth_figure(stats: dict[str, dict[str, int]]) -> object:
    """Weekly signups as bars, total users as a line: the slide investors want."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    weeks = list(stats["signups"])
    signups = [stats["signups"][w] for w in weeks]
    total, running = [], 0
    for count in signups:
        running += count
        total.append(running)
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    figure.add_trace(go.Bar(x=weeks, y=signups, name="signups per week"))
    deliveries = [stats["deliveries"].get(w, 0) for w in weeks]
    figure.add_trace(go.Bar(x=weeks, y=deliveries, name="deliveries per week"))
    figure.add_trace(go.Scatter(x=weeks, y=total, name="users", mode="lines"), secondary_y=True)
    figure.update_layout(title="Dachshund Doc Send: traction", barmode="group", height=420)
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


@demo("traction", "Traction: growth graphs for the VCs, from the app's own data")
def traction_demo(run: Run, weeks: int = 26) -> None:
    """Seed the app's data, ask the app for weekly numbers, draw them."""
    tools.need_module("plotly", ["pip install plotly"])
    code = checkout(run)
    env = app_env(run)
    run.step(f"{weeks} weeks of history in the app's database (made up for the demo)")
    run.sh(flask_cmd("seed", "--weeks", str(weeks)), cwd=code, env={**os.environ, **env})
    server = start_gunicorn(run, code, workers=1, env=env)
    run.step("The app's own numbers: GET /api/stats/weekly")
    stats = requests.get(server.url("/api/stats/weekly"), timeout=10).json()
    signups = list(stats["signups"].values())
    run.fact("weeks", len(signups), "weeks of data")
    run.fact("users", sum(signups), "users")
    run.fact("growth", round(signups[-1] / max(signups[0], 1), 1), "last week vs first (x)")
    figure = growth_figure(stats)
    run.result.extra["figure"] = figure
    display(figure)
