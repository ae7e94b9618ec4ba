"""The widgets: the projector's slide view and the presenter's view, both thin.

A view only shows what the :class:`~cyoa.deck.deck.Deck` knows; ``render`` is cheap and
idempotent (ipywidgets sends only values that changed), so it is called after every key
press and every poll of the vote server, from the kernel's thread or the sync thread.
"""

from __future__ import annotations

import html
import math
import time
from typing import TYPE_CHECKING

import ipywidgets as w

from cyoa.deck import render

if TYPE_CHECKING:
    from cyoa.deck.deck import Deck

COLORS = {"dark": ("#f4f4f0", "#ffcc33", "#5ee08a"), "light": ("#111111", "#0b57d0", "#0a7a36")}


def _set(widget: w.Widget, **values: object) -> None:
    """Set traits only when they change (a FigureWidget would resend identical data)."""
    for name, value in values.items():
        if getattr(widget, name) != value:
            setattr(widget, name, value)


class SlideView:
    """What the room sees: the scene, and at a decision the options, join panel and chart."""

    def __init__(self, deck: Deck) -> None:
        import plotly.graph_objects as go  # here, so Deck.from_env can speed its import up

        self.deck = deck
        self.badge = w.HTML().add_class("cyoa-badge")
        self.slide = w.HTML().add_class("cyoa-slide")
        self.options = w.HTML().add_class("cyoa-choices")
        self.join = w.HTML().add_class("cyoa-join-panel")
        self.status = w.HTML().add_class("cyoa-status")
        self.demo = w.HTML().add_class("cyoa-demo-panel")
        self.chart = go.FigureWidget(
            data=[go.Bar(x=[], y=[], text=[], textposition="outside", cliponaxis=False)],
            layout=go.Layout(
                height=360,
                margin={"l": 40, "r": 20, "t": 20, "b": 80},
                paper_bgcolor="rgba(0,0,0,0)",
                plot_bgcolor="rgba(0,0,0,0)",
                font={"size": 22},
                yaxis={"rangemode": "tozero", "tickformat": "d", "showgrid": False},
                bargap=0.3,
                showlegend=False,
            ),
        )
        self.chart_box = w.Box([self.chart])  # hidden, not emptied, for hide-results votes
        self.decision = w.HBox(
            [w.VBox([self.options, self.join]), w.VBox([self.chart_box, self.status])]
        ).add_class("cyoa-decision")
        self.root = w.VBox(
            [deck.controller, self.badge, self.slide, self.decision, self.demo]
        ).add_class("cyoa-deck")
        self._bars: tuple = ()

    def render(self) -> None:
        deck, talk = self.deck, self.deck.talk
        scene, choice = talk.scene, talk.choice
        _set(self.slide, value=deck.scene_html(scene.id))
        _set(self.badge, value=deck.badge_html())
        _set(self.demo, value="" if deck.problems else deck.demo_html())
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

    def _chart(self, theme: str, choice, tally, chosen: str | None, hidden: bool) -> None:
        """The bars; a hidden vote's counts never reach the page, not even as zero-height
        bars' data."""
        labels = [f"{n}. {o.label[:24]}" for n, o in enumerate(choice.options, 1)]
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


class PresenterView:
    """The laptop's view: notes, what comes next, the clock, live numbers and controls."""

    def __init__(self, deck: Deck) -> None:
        self.deck = deck
        self.started = time.time()
        self.clock = w.HTML().add_class("cyoa-clock")
        self.badge = w.HTML()
        self.current = w.HTML()
        self.upcoming = w.HTML()
        self.live = w.HTML().add_class("cyoa-status")
        self.phones = w.HTML()
        self.sources = w.HTML()
        self.suspects = w.Dropdown(options=[], layout=w.Layout(width="16em")).add_class(
            "cyoa-suspects"
        )
        lift = w.Button(description="Lift the cap")
        lift.on_click(lambda _b: deck.act("lift-cap"))
        discard = w.Button(description="Discard source")
        discard.on_click(
            lambda _b: self.suspects.value and deck.act(f"discard:{self.suspects.value}")
        )
        self.moderation = w.HBox([lift, self.suspects, discard])
        buttons = []
        for label, action in [
            ("◀ Back", "back"),
            ("Next ▶", "next"),
            ("Close vote", "close"),
            ("Reopen vote", "reopen"),
            ("Reset votes", "reset"),
            ("Run demo", "demo"),
            ("Restart clock", "clock"),
        ]:
            button = w.Button(description=label)
            button.on_click(lambda _b, a=action: deck.act(a))
            buttons.append(button)
        self.picks = w.HBox()
        self.jump_to = w.Dropdown(
            options=[(f"{s.title} ({s.id})", s.id) for s in deck.story.scenes],
            layout=w.Layout(width="28em"),
        ).add_class("cyoa-jump")
        go_button = w.Button(description="Jump")
        go_button.on_click(lambda _b: deck.act("jump:" + str(self.jump_to.value)))
        self.root = w.VBox(
            [
                deck.controller,
                w.HBox([self.clock, self.badge]),
                self.current,
                self.live,
                self.phones,
                self.sources,
                self.moderation,
                self.picks,
                w.HBox(buttons),
                w.HBox([self.jump_to, go_button]),
                self.upcoming,
            ]
        ).add_class("cyoa-presenter")
        self._pick_scene = ""
        self._story = deck.story

    def render(self) -> None:
        deck, talk = self.deck, self.deck.talk
        scene = talk.scene
        elapsed = int(time.time() - (deck.talk_started or self.started))
        _set(self.clock, value=f"{elapsed // 60:02d}:{elapsed % 60:02d}")
        _set(self.badge, value=deck.badge_html())
        _set(self.phones, value=deck.phones_html())
        _set(self.sources, value=deck.sources_html())
        suspects = tuple(deck.suspects())
        if tuple(self.suspects.options) != suspects:
            self.suspects.options = suspects
        _set(self.moderation.layout, display="flex" if talk.choice else "none")
        notes = render.markdown(scene.notes) if scene.notes else "<p><i>no notes</i></p>"
        problems = deck.problems_html() if deck.problems else ""
        _set(
            self.current,
            value=f"{problems}<h2>{html.escape(scene.title)} <small>({html.escape(scene.id)}, "
            f"step {len(talk.path)})</small></h2><div class='cyoa-notes'>{notes}</div>",
        )
        if self._story is not deck.story:  # the story was edited (--watch)
            self._story = deck.story
            self.jump_to.options = [(f"{s.title} ({s.id})", s.id) for s in deck.story.scenes]
            self._pick_scene = ""
        rows = []
        for key, target in talk.upcoming():
            title = deck.story.by_id[target].title if target in deck.story.by_id else target
            rows.append(f"<li>{html.escape(key or '→')}: {html.escape(title)}</li>")
        _set(self.upcoming, value=f"<h3>Next</h3><ul>{''.join(rows) or '<li>the end</li>'}</ul>")
        choice = talk.choice
        if choice is None:
            _set(self.live, value=html.escape(talk.message))
        else:  # the laptop sees the counts even of a hide-results vote, and says so
            decided, tally = talk.decided(), talk.tally()
            left = None if talk.is_closed() else tally.seconds_left()
            status = render.status_html(tally, talk.message, decided and decided.label, left)
            if talk.hidden():
                status += '<p class="cyoa-hidden">The room sees no counts until the close.</p>'
            _set(self.live, value=render.options_html(choice, tally, None) + status)
        if self._pick_scene != scene.id:
            self._pick_scene = scene.id
            picks = []
            for number, option in enumerate(choice.options if choice else (), 1):
                button = w.Button(description=f"{number}. {option.label[:30]}")
                button.on_click(lambda _b, n=number: deck.act(f"pick:{n}"))
                picks.append(button)
            self.picks.children = picks
