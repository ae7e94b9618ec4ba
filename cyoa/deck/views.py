"""The projector's slide view (the presenter's is in presenter_view.py), kept thin.

A view only shows what a deck knows, and reads only its :class:`ShownDeck` members (the
:class:`~cyoa.deck.deck.Deck` is one); ``render`` is cheap and idempotent (ipywidgets sends
only values that changed), so it is called after every key press and every poll of the vote
server, from the kernel's thread or the sync thread.
"""

from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING, Any, Protocol

import ipywidgets as w

from cyoa.deck import render, youarehere

if TYPE_CHECKING:
    from cyoa.deck.machine import Talk
    from cyoa.story.model import Story

COLORS = {"dark": ("#f4f4f0", "#ffcc33", "#5ee08a"), "light": ("#111111", "#0b57d0", "#0a7a36")}


def _set(widget: w.Widget, **values: object) -> None:
    """Set traits only when they change (a FigureWidget would resend identical data)."""
    for name, value in values.items():
        if getattr(widget, name) != value:
            setattr(widget, name, value)


class ShownDeck(Protocol):
    """All the projector's view reads of a deck: the story, the talk, and its HTML parts."""

    story: Story
    talk: Talk
    controller: Any  # the page's key handler, a widget; its ``theme`` colours the chart
    problems: list[str]  # the checker's errors (--watch): the slide shows them, nothing else

    def scene_html(self, scene_id: str) -> str: ...

    def badge_html(self) -> str: ...

    def demo_html(self) -> str: ...

    def join_html(self) -> str: ...


class SlideView:
    """What the room sees: the scene, and at a decision the options, join panel and chart."""

    def __init__(self, deck: ShownDeck) -> None:
        import plotly.graph_objects as go  # here, so Deck.from_env can speed its import up

        from cyoa.deck.chart import DeckChart

        self.deck = deck
        self.badge = w.HTML().add_class("cyoa-badge")
        self.slide = w.HTML().add_class("cyoa-slide")
        self.options = w.HTML().add_class("cyoa-choices")
        self.join = w.HTML().add_class("cyoa-join-panel")
        self.status = w.HTML().add_class("cyoa-status")
        self.demo = w.HTML().add_class("cyoa-demo-panel")
        self.map = w.HTML().add_class("cyoa-map")  # shown or hidden by the page (key M)
        self.chart = DeckChart(  # draws whenever plotly's code arrives: chart.py
            data=[go.Bar(x=[], y=[], text=[], textposition="outside", cliponaxis=False)],
            layout=go.Layout(  # no size: Plotly fills the box CSS gives it (deck.css)
                margin={"l": 40, "r": 20, "t": 30, "b": 80},
                paper_bgcolor="rgba(0,0,0,0)",
                plot_bgcolor="rgba(0,0,0,0)",
                font={"size": 22},
                yaxis={"rangemode": "tozero", "tickformat": "d", "showgrid": False},
                bargap=0.3,
                showlegend=False,
                template="none",  # the deck sets every colour; and the state stays small
            ),
        )
        # hidden, not emptied, for hide-results votes; the class is the box's (a class added
        # to the FigureWidget itself stops its updates from reaching the page)
        self.chart_box = w.Box([self.chart]).add_class("cyoa-chart-box")
        self.decision = w.HBox(
            [
                w.VBox([self.options, self.join]).add_class("cyoa-decision-left"),
                w.VBox([self.chart_box, self.status]).add_class("cyoa-decision-right"),
            ]
        ).add_class("cyoa-decision")
        self.root = w.VBox(
            [deck.controller, self.badge, self.slide, self.decision, self.demo, self.map]
        ).add_class("cyoa-deck")
        self._bars: tuple = ()
        self._where: tuple = ()

    def render(self) -> None:
        deck, talk = self.deck, self.deck.talk
        scene, choice = talk.scene, talk.choice
        _set(self.slide, value=deck.scene_html(scene.id))
        _set(self.badge, value=deck.badge_html())
        _set(self.demo, value="" if deck.problems else deck.demo_html())
        self._map(None if choice is None else talk.decided())
        if choice is None or deck.problems:
            _set(self.decision.layout, display="none")
            return
        _set(self.decision.layout, display="flex")
        tally, decided, hidden = talk.tally(), talk.decided(), talk.hidden()
        chosen = decided.key if decided else None
        _set(self.options, value=render.options_html(choice, tally, chosen, scene.title, hidden))
        _set(self.join, value=deck.join_html())
        winner = decided.label if decided else None
        left = None if talk.is_closed() else tally.seconds_left()
        _set(self.status, value=render.status_html(tally, talk.message, winner, left, hidden))
        _set(self.chart_box.layout, display="none" if hidden else "flex")
        self._chart(deck.controller.theme, choice, tally, chosen, hidden)

    def _map(self, decided) -> None:
        """The "you are here" strip, drawn again only when the path or the pick changed."""
        deck = self.deck
        where = (deck.story, tuple(deck.talk.path), decided and decided.key, bool(deck.problems))
        if where == self._where:
            return
        self._where = where
        svg = "" if deck.problems else youarehere.map_svg(deck.story, where[1], where[2])
        _set(self.map, value=svg)

    def _chart(self, theme: str, choice, tally, chosen: str | None, hidden: bool) -> None:
        """The bars; a hidden vote's counts never reach the page, not even as zero-height
        bars' data."""
        labels = render.axis_labels([o.label for o in choice.options])
        votes = [0 if hidden else tally.votes.get(o.key, 0) for o in choice.options]
        fg, bar, win = COLORS.get(theme, COLORS["dark"])
        colors = [win if o.key == chosen else bar for o in choice.options]
        bars = (tuple(labels), tuple(votes), tuple(colors), fg)
        if bars == self._bars:
            return
        self._bars = bars
        with self.chart.batch_update():
            trace = self.chart.data[0]
            trace.x, trace.y, trace.text = labels, votes, [str(v) for v in votes]
            trace.marker.color = colors
            self.chart.layout.font.color = fg
            top = max([*votes, 1])
            self.chart.layout.yaxis.range = [0, top * 1.2]
            self.chart.layout.yaxis.dtick = max(1, math.ceil(top / 5))
        # A page that connects later (a reload, a pre-heated kernel) and a chart whose code
        # arrives after these updates (static/chart.js) draw the widget's state, which plotly
        # never updates: keep it equal to the chart.
        self.chart._widget_data = copy.deepcopy(self.chart._data)
        self.chart._widget_layout = copy.deepcopy(self.chart._layout)
