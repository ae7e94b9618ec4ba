"""The "you are here" map: drawn from the story graph, toggled with M, following the talk.

The drawing is checked on the shipped story in Python; then once in Chromium on a real deck
(``cyoa present`` with Voilà): the key hides and shows it, the current scene is marked, and
after a pick the path runs down the chosen branch.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from test_deck_fit import open_deck, settle, wait_title

from cyoa.deck import Deck
from cyoa.deck.youarehere import branches, map_svg
from cyoa.story.loader import default_story_path, load_story

STORY = load_story(default_story_path())
DECISION = STORY.decisions[0]


def states(svg: str, kind: str) -> dict[str, str]:
    """scene id -> taken/current/ahead for nodes; "from>to" -> state for edges."""
    if kind == "node":
        found = re.findall(r'class="cyoa-map-node cyoa-map-(\w+)[^"]*" data-scene="([^"]+)"', svg)
        return {scene: state for state, scene in found}
    found = re.findall(
        r'class="cyoa-map-edge cyoa-map-(\w+)" data-from="([^"]+)" data-to="([^"]+)"', svg
    )
    return {f"{a}>{b}": state for state, a, b in found}


def test_the_map_marks_the_path_so_far_the_current_scene_and_what_lies_ahead() -> None:
    deck = Deck(STORY, None)
    for _ in range(3):
        deck.act("next")
    path = list(deck.talk.path)
    nodes = states(deck.view.map.value, "node")
    assert set(nodes) == {scene.id for scene in STORY.scenes}  # every scene, drawn once
    assert [s for s, state in nodes.items() if state == "current"] == [path[-1]]
    assert {s for s, state in nodes.items() if state == "taken"} == set(path[:-1])
    edges = states(deck.view.map.value, "edge")
    assert all(edges[f"{a}>{b}"] == "taken" for a, b in itertools.pairwise(path))


def test_at_a_decision_each_option_numbers_its_own_branch_and_the_pick_is_drawn() -> None:
    deck = Deck(STORY, None)
    deck.act(f"jump:{DECISION.id}")
    svg = deck.view.map.value
    own = branches(STORY, DECISION.id)
    for number, option in enumerate(DECISION.choice.options, 1):
        assert option.goto in own[option.key]
        for scene in own[option.key]:  # the scenes only this option reaches carry its number
            assert re.search(rf'data-scene="{re.escape(scene)}" data-option="{number}"', svg)
        assert states(svg, "edge")[f"{DECISION.id}>{option.goto}"] == "option"
    assert not set.intersection(*own.values())  # a scene after the merge belongs to none

    chosen = DECISION.choice.options[1]
    deck.act("pick:2")
    deck.act("back")  # at the decision again: the pick stands and shows
    assert states(deck.view.map.value, "edge")[f"{DECISION.id}>{chosen.goto}"] == "chosen"


def test_the_map_is_a_self_contained_svg_with_the_scene_title_for_screen_readers() -> None:
    svg = map_svg(STORY, [STORY.start])
    assert svg.startswith("<svg") and "<script" not in svg and "http" not in svg
    assert f'aria-label="You are here: {STORY.scene(STORY.start).title}"' in svg


@pytest.mark.browser
@pytest.mark.slow
def test_m_toggles_the_map_and_it_follows_the_talk_in_chromium(tmp_path: Path, browser) -> None:
    before = next(s for s in STORY.scenes if s.next == DECISION.id)
    run, page = open_deck(tmp_path, browser, "--from", before.id)
    try:
        wait_title(page, before.title)
        strip = page.locator(".cyoa-deck > .cyoa-map")
        current = page.locator(".cyoa-map-node.cyoa-map-current")
        assert strip.is_visible() and current.get_attribute("data-scene") == before.id
        assert current.locator(".cyoa-map-ring").count() == 1

        page.keyboard.press("m")
        strip.wait_for(state="hidden")
        settle(page)  # the slide gets the room back, and still fits
        assert page.evaluate("document.documentElement.scrollHeight") <= 720
        page.keyboard.press("m")
        strip.wait_for(state="visible")

        page.keyboard.press("ArrowRight")
        wait_title(page, DECISION.title)
        chosen = DECISION.choice.options[1]
        page.wait_for_selector(f'.cyoa-map-node[data-scene="{chosen.goto}"][data-option="2"]')
        page.keyboard.press("2")
        wait_title(page, STORY.scene(chosen.goto).title)
        page.wait_for_selector(
            f'.cyoa-map-edge.cyoa-map-taken[data-from="{DECISION.id}"][data-to="{chosen.goto}"]'
        )
        assert current.get_attribute("data-scene") == chosen.goto
        other = DECISION.choice.options[0].goto
        edge = page.locator(f'.cyoa-map-edge[data-from="{DECISION.id}"][data-to="{other}"]')
        assert "cyoa-map-ahead" in edge.get_attribute("class")  # the branch not taken
        taken_width = page.locator(
            f'.cyoa-map-edge[data-from="{DECISION.id}"][data-to="{chosen.goto}"]'
        ).evaluate("e => parseFloat(getComputedStyle(e).strokeWidth)")
        assert taken_width > edge.evaluate("e => parseFloat(getComputedStyle(e).strokeWidth)")
    finally:
        page.close()
        run.kill()
