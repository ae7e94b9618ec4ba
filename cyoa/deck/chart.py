"""The deck's vote chart: a plotly ``FigureWidget`` whose browser code cannot miss an update.

plotly's widget module (5 MB) is anywidget's ``_esm``, and anywidget gives a module 2 s to
load: past that, every later update from the kernel is dropped and the chart stays empty for
the talk (it happened when the presenter pressed keys while plotly was still loading, on a
busy laptop). Here ``_esm`` is the small ``static/chart.js``, which loads plotly's module in
the background and draws once it is there; see that file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import plotly
import plotly.graph_objects as go
import traitlets

STATIC = Path(__file__).parent / "static"


@cache
def plotly_bundle() -> str:
    """plotly's own widget module, as the ``plotly`` package on this machine ships it."""
    path = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
    return path.read_text(encoding="utf-8")


class DeckChart(go.FigureWidget):
    """A ``FigureWidget`` loaded by ``static/chart.js`` instead of by anywidget directly."""

    _esm = STATIC / "chart.js"
    _plotly_bundle = traitlets.Unicode().tag(sync=True)

    @traitlets.default("_plotly_bundle")
    def _default_bundle(self) -> str:
        return plotly_bundle()
