"""The presenter's view on the laptop, laid out as Keynote, PowerPoint and reveal.js do.

The slide now and what comes next (each option's first slide at a decision) as live
previews scaled down from the deck's own scene HTML, the speaker notes in large type, the
clock against the story's planned ``duration``, the room's phones and votes per second, and
the vote controls, each with a key. Like the slide view it only shows what a deck knows,
through its :class:`PresentedDeck` members, and ``render`` is cheap and idempotent.
"""

from __future__ import annotations

import html
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import anywidget
import ipywidgets as w

from cyoa.deck import render
from cyoa.story.variants import scene_on_path

if TYPE_CHECKING:
    from cyoa.deck.machine import Step, Talk
    from cyoa.story.model import Story

STATIC = Path(__file__).parent / "static"
AMBER_AT = 0.8  # share of the planned length after which the clock turns amber
RATE_WINDOW = 5.0  # seconds of tally reads behind the votes-per-second figure
# (key shown, what it does); the deck's keys are in controller.js, the view's own in
# presenter_keys.js.
KEYS = (
    ("→ Space PgDn", "next"),
    ("← PgUp", "back"),
    ("1–9", "pick option"),
    ("C", "close vote"),
    ("O", "reopen"),
    ("⇧R", "reset votes"),
    ("Z", "restart clock"),
    ("D", "run demo"),
    ("L", "lift cap"),
    ("X", "discard source"),
    ("G", "jump list"),
    ("J K", "scroll notes"),
    ("T", "theme"),
    ("F", "fullscreen"),
    ("?", "all keys"),
)


def _set(widget: w.Widget, **values: object) -> None:
    """Set traits only when they change: every tick renders, few things change."""
    for name, value in values.items():
        if getattr(widget, name) != value:
            setattr(widget, name, value)


class PresenterKeys(anywidget.AnyWidget):
    """Zero-size widget: the presenter view's keys beyond the deck's, sent to ``on_action``."""

    _esm = STATIC / "presenter_keys.js"

    def __init__(self, on_action: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_action = on_action
        self.on_msg(self._message)

    def _message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        if content.get("type") == "key" and isinstance(content.get("action"), str):
            self.on_action(content["action"])


class VoteRate:
    """Votes per second over the last few reads of one poll's total."""

    def __init__(self, window: float = RATE_WINDOW) -> None:
        self.window = window
        self.poll: str | None = None
        self.reads: deque[tuple[float, int]] = deque()

    def observe(self, poll: str | None, total: int, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        if poll != self.poll or (self.reads and total < self.reads[-1][1]):  # new poll, reset
            self.poll, self.reads = poll, deque()
        self.reads.append((now, total))
        while len(self.reads) > 2 and now - self.reads[1][0] >= self.window:
            self.reads.popleft()
        first_at, first = self.reads[0]
        return (total - first) / (now - first_at) if now > first_at else 0.0


def clock_text(seconds: float) -> str:
    """``12:05``, or ``1:02:05`` past an hour."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    text = f"{rest // 60:02d}:{rest % 60:02d}"
    return f"{hours}:{text}" if hours else text


def time_state(elapsed: float, planned: int | None) -> str:
    """``ok``, ``amber`` past :data:`AMBER_AT` of the planned length, ``red`` past all of it
    (in whole seconds, as the clock shows them)."""
    elapsed = int(elapsed)
    if not planned:
        return "ok"
    if elapsed > planned:
        return "red"
    return "amber" if elapsed >= AMBER_AT * planned else "ok"


def timer_html(elapsed: float, planned: int | None, now: float | None = None) -> str:
    """The time of day, and the time elapsed against the planned length, coloured."""
    wall = time.strftime("%H:%M", time.localtime(now))
    plan = (
        f'<span class="cyoa-pv-planned">of {clock_text(planned)}</span>'
        if planned
        else '<span class="cyoa-pv-planned" title="duration: in story.yaml">no planned length'
        "</span>"
    )
    state = time_state(elapsed, planned)
    return (
        f'<div class="cyoa-pv-timer"><span class="cyoa-pv-wall">{wall}</span>'
        f'<span class="cyoa-pv-elapsed cyoa-time-{state}" data-state="{state}">'
        f"{clock_text(elapsed)}</span>{plan}</div>"
    )


def preview_html(scene_html: str, scene_id: str, caption: str, scale: float) -> str:
    """One slide as the projector shows it at 1280x720, scaled down by CSS (deck.css)."""
    return (
        f'<figure class="cyoa-pv-preview" data-scene="{html.escape(scene_id)}" '
        f'style="--cyoa-pv-scale: {scale}"><div class="cyoa-pv-frame">'
        f'<div class="cyoa-pv-stage">{scene_html}</div></div>'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def next_scale(count: int) -> tuple[float, int]:
    """The previews' scale and columns for ``count`` ways on, so they fit the right column."""
    if count <= 1:
        return 0.4, 1
    if count == 2:
        return 0.23, 2
    return (0.15, 3) if count <= 6 else (0.12, 3)


def keys_html() -> str:
    items = "".join(f"<li><kbd>{html.escape(k)}</kbd> {html.escape(d)}</li>" for k, d in KEYS)
    return f'<ul class="cyoa-pv-keys">{items}</ul>'


class PresentedDeck(Protocol):
    """All the presenter's view reads of a deck: the story and the talk, the room, the
    clock, the sources, and one entry point for every control (``act``)."""

    story: Story
    talk: Talk
    controller: Any  # the page's key handler, a widget
    problems: list[str]  # the checker's errors (--watch)
    talk_started: float  # when (time.time) the talk's clock started; 0 when not yet
    audience: int | None  # phones with the page open, from the vote server

    def act(self, action: str) -> Step: ...

    def scene_html(self, scene_id: str) -> str: ...

    def badge_html(self) -> str: ...

    def sources_html(self) -> str: ...

    def suspects(self) -> list[str]: ...

    def problems_html(self) -> str: ...

    def phones_html(self, now: float | None = None) -> str: ...


class PresenterView:
    """The laptop's view: previews, notes, the clock, live numbers and the controls."""

    def __init__(self, deck: PresentedDeck) -> None:
        self.deck = deck
        self.started = time.time()
        self.rate = VoteRate()
        self.keys = PresenterKeys(self.key)
        self.clock = w.HTML().add_class("cyoa-clock")
        self.badge = w.HTML().add_class("cyoa-pv-badge")
        self.now = w.HTML().add_class("cyoa-pv-now")
        self.current = w.HTML().add_class("cyoa-pv-notes")
        self.upcoming = w.HTML().add_class("cyoa-pv-next")
        self.live = w.HTML().add_class("cyoa-status").add_class("cyoa-pv-live")
        self.phones = w.HTML().add_class("cyoa-pv-phones")
        self.votes_per_second = w.HTML().add_class("cyoa-pv-rate")
        self.sources = w.HTML().add_class("cyoa-pv-sources")
        self.suspects = w.Dropdown(options=[]).add_class("cyoa-suspects")
        lift = self._button("Lift the cap (L)", "lift-cap")
        discard = self._button("Discard source (X)", "discard-selected")
        self.moderation = w.HBox([lift, self.suspects, discard]).add_class("cyoa-pv-row")
        buttons = [
            self._button(label, action)
            for label, action in [
                ("◀ Back ←", "back"),
                ("Next ▶ →", "next"),
                ("Close vote C", "close"),
                ("Reopen O", "reopen"),
                ("Reset votes ⇧R", "reset"),
                ("Run demo D", "demo"),
                ("Restart clock Z", "clock"),
            ]
        ]
        self.picks = w.HBox().add_class("cyoa-pv-row")
        self.jump_to = w.Dropdown(
            options=[(f"{s.title} ({s.id})", s.id) for s in deck.story.scenes]
        ).add_class("cyoa-jump")
        go_button = w.Button(description="Jump G ↵").add_class("cyoa-jump-go")
        go_button.on_click(lambda _b: deck.act("jump:" + str(self.jump_to.value)))
        left = w.VBox([self.now, self.current]).add_class("cyoa-pv-left")
        right = w.VBox(
            [
                w.HBox([self.clock, self.badge]).add_class("cyoa-pv-top"),
                w.HBox([self.phones, self.votes_per_second]).add_class("cyoa-pv-numbers"),
                self.upcoming,
                w.VBox([self.live, self.sources, self.moderation, self.picks]).add_class(
                    "cyoa-pv-vote"
                ),
                w.HBox(buttons).add_class("cyoa-pv-row"),
                w.HBox([self.jump_to, go_button]).add_class("cyoa-pv-row"),
            ]
        ).add_class("cyoa-pv-right")
        self.root = w.VBox(
            [
                deck.controller,
                self.keys,
                w.HBox([left, right]).add_class("cyoa-pv-main"),
                w.HTML(keys_html()).add_class("cyoa-pv-legend"),
            ]
        ).add_class("cyoa-presenter")
        self._pick_scene = ""
        self._story = deck.story

    def _button(self, label: str, action: str) -> w.Button:
        button = w.Button(description=label)
        button.on_click(lambda _b: self.key(action))
        return button

    def key(self, action: str) -> None:
        """An action from a key or button of this view; the rest go to the deck as they are."""
        if action == "discard-selected":
            if self.suspects.value:
                self.deck.act(f"discard:{self.suspects.value}")
            return
        self.deck.act(action)

    def render(self) -> None:
        deck, talk = self.deck, self.deck.talk
        scene = scene_on_path(deck.story, talk.scene.id, talk.path)  # this path's variant
        elapsed = time.time() - (deck.talk_started or self.started)
        _set(self.clock, value=timer_html(elapsed, deck.story.duration))
        _set(self.badge, value=deck.badge_html())
        self._numbers()
        _set(self.sources, value=deck.sources_html())
        suspects = tuple(deck.suspects())
        if tuple(self.suspects.options) != suspects:
            self.suspects.options = suspects
        _set(self.moderation.layout, display="flex" if talk.choice else "none")
        notes = render.markdown(scene.notes) if scene.notes else "<p><i>no notes</i></p>"
        problems = deck.problems_html() if deck.problems else ""
        _set(
            self.current,
            value=f"<h2>{html.escape(scene.title)} <small>({html.escape(scene.id)}, "
            f"step {len(talk.path)})</small></h2>{problems}<div class='cyoa-notes'>{notes}</div>",
        )
        if self._story is not deck.story:  # the story was edited (--watch)
            self._story = deck.story
            self.jump_to.options = [(f"{s.title} ({s.id})", s.id) for s in deck.story.scenes]
            self._pick_scene = ""
        self._previews()
        self._vote()

    def _numbers(self) -> None:
        deck, talk = self.deck, self.deck.talk
        phones = deck.phones_html()
        if not phones and deck.audience is not None:
            count = deck.audience
            phones = f'<p class="cyoa-phones">{count} phone{"" if count == 1 else "s"}</p>'
        _set(self.phones, value=phones)
        if talk.choice is None:
            _set(self.votes_per_second, value="")
            return
        tally = talk.tally()
        rate = self.rate.observe(talk.poll, tally.total)
        _set(
            self.votes_per_second,
            value=f'<p><b class="cyoa-pv-rate-value">{rate:.1f}</b> votes/s · '
            f"{tally.total} vote{'' if tally.total == 1 else 's'}</p>",
        )

    def _previews(self) -> None:
        deck, talk = self.deck, self.deck.talk
        scene = talk.scene
        body = deck.scene_html(scene.id)
        if talk.choice is not None and not deck.problems:
            body += render.options_html(talk.choice, talk.tally(), None, scene.title, True)
        _set(self.now, value=preview_html(body, scene.id, "<b>Now</b> on the screen", 0.5))
        ways = [(k, t) for k, t in talk.upcoming() if t in deck.story.by_id]
        scale, columns = next_scale(len(ways))
        figures = []
        for number, (key, target) in enumerate(ways, 1):
            title = html.escape(deck.story.by_id[target].title)
            if key is None:
                caption = f"<b>Next</b> {title}"
            else:
                option = talk.choice.option(key) if talk.choice else None
                label = html.escape(option.label if option else key)
                caption = f'<span class="cyoa-num">{number}</span> {label}'
            figures.append(preview_html(deck.scene_html(target), target, caption, scale))
        head = "Next" if len(ways) <= 1 else "Each option's first slide"
        if not ways:
            figures.append('<p class="cyoa-pv-end">The end: no slide after this one.</p>')
        _set(
            self.upcoming,
            value=f'<h3>{head}</h3><div class="cyoa-pv-ways" style="--cyoa-pv-columns: '
            f'{columns}">{"".join(figures)}</div>',
        )

    def _vote(self) -> None:
        deck, talk = self.deck, self.deck.talk
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
        if self._pick_scene != talk.scene.id:
            self._pick_scene = talk.scene.id
            picks = []
            for number, option in enumerate(choice.options if choice else (), 1):
                button = w.Button(description=f"Pick {number}", tooltip=option.label)
                button.on_click(lambda _b, n=number: deck.act(f"pick:{n}"))
                picks.append(button)
            self.picks.children = picks
