"""The deck's views read only their protocols of a deck (issue 10: each readable and testable
alone): :class:`~cyoa.deck.views.ShownDeck` for the projector's slide view and
:class:`~cyoa.deck.presenter_view.PresentedDeck` for the presenter's. A bare stand-in deck
(no page, no vote server, no sync loop) drives the real slide view here."""

from __future__ import annotations

from dataclasses import dataclass, field

import ipywidgets as w
import pytest
from deck_protocols import deck_members_used, protocol_members

from cyoa.deck import Deck, load_story
from cyoa.deck import presenter_view as presenter_module
from cyoa.deck import views as views_module
from cyoa.deck.machine import Talk
from cyoa.deck.presenter_view import PresentedDeck
from cyoa.deck.views import ShownDeck, SlideView
from cyoa.story.model import Story


@pytest.mark.parametrize(
    ("module", "protocol"), [(views_module, ShownDeck), (presenter_module, PresentedDeck)]
)
def test_each_view_uses_nothing_of_a_deck_beyond_its_protocol(module, protocol) -> None:
    assert deck_members_used(module) == protocol_members(protocol)


def test_the_real_deck_offers_both_protocols() -> None:
    deck = Deck(load_story(), None)
    assert {name for name in protocol_members(PresentedDeck) if not hasattr(deck, name)} == set()
    assert deck.controller.theme in ("dark", "light")


@dataclass
class BareDeck:
    """Nothing but what the slide view reads: a story, a talk and plain HTML parts."""

    story: Story
    talk: Talk = field(init=False)
    controller: w.Widget = field(default_factory=w.HTML)
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.talk = Talk(self.story)
        self.controller.theme = "light"

    def scene_html(self, scene_id: str) -> str:
        return f"<h1>{self.story.by_id[scene_id].title}</h1>"

    def badge_html(self) -> str:
        return "<span>bare</span>"

    def demo_html(self) -> str:
        return ""

    def join_html(self) -> str:
        return "<p>join at example</p>"


def test_the_slide_view_draws_a_decision_from_a_bare_deck() -> None:
    deck = BareDeck(load_story())
    view = SlideView(deck)
    view.render()
    assert deck.story.by_id[deck.story.start].title in view.slide.value
    assert view.decision.layout.display == "none"  # no decision on the first slide

    decision = next(scene for scene in deck.story.scenes if scene.choice)
    deck.talk.jump(decision.id)
    options = decision.choice.options
    votes = {options[0].key: 3, options[1].key: 5}
    results = {"status": "open", "options": [{"key": k, "votes": v} for k, v in votes.items()]}
    deck.talk.update(deck.talk.poll, results)
    view.render()

    assert decision.title in view.slide.value
    assert view.decision.layout.display == "flex"
    assert "join at example" in view.join.value
    bars = view.chart.data[0]
    assert list(bars.y) == [3, 5] + [0] * (len(options) - 2)
    assert len(bars.x) == len(options)
    assert all(option.label.split()[0] in view.options.value for option in options)
