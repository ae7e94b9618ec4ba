"""The learner's notebook: it runs headless without a vote server, and every ending is reachable."""

from __future__ import annotations

import html
from pathlib import Path
from xml.etree import ElementTree

import nbformat
from nbclient import NotebookClient

from cyoa.deck import load_story
from cyoa.deck.explore import Player, levels, story_map

SVG = {"svg": "http://www.w3.org/2000/svg"}
NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "explore.ipynb"


def test_the_explore_notebook_runs_headless(tmp_path: Path, monkeypatch) -> None:
    """Run as a learner would, without a vote server: the map shows every scene a learner
    can reach by its title, and the player opens on the story's first slide."""
    monkeypatch.delenv("CYOA_VOTE_URL", raising=False)
    story = load_story()
    book = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(book, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [(c.source, o) for c in book.cells for o in c.get("outputs", [])]
    assert [o for _source, o in outputs if o.output_type == "error"] == []

    (summary,) = [o.text for source, o in outputs if o.output_type == "stream"]
    assert summary.startswith(f"{story.title}: {len(story.scenes)} scenes")

    (map_html,) = [o.data["text/html"] for source, o in outputs if "story_map(story)" in source]
    svg_text = map_html[map_html.index("<svg") : map_html.rindex("</svg>") + len("</svg>")]
    svg = ElementTree.fromstring(svg_text)  # noqa: S314 - cyoa's own SVG, and it must parse
    boxes = svg.findall("svg:g", SVG)
    shown = {box.get("data-scene"): box.findtext("svg:title", namespaces=SVG) for box in boxes}
    assert shown == {scene: story.by_id[scene].title for scene in levels(story)}
    kinds = {box.get("data-scene"): box.get("class").split() for box in boxes}
    assert all("choice" in kinds[d.id] for d in story.decisions)
    assert all("ending" in kinds[e.id] for e in story.endings)

    (player,) = [o for source, o in outputs if "Player(story)" in source]
    assert "application/vnd.jupyter.widget-view+json" in player.data
    widgets = book.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    texts = [w["state"].get("value", "") for w in widgets.values()]
    texts += [w["state"].get("description", "") for w in widgets.values()]
    first = story.by_id[story.start]
    assert any(html.escape(first.title) in text for text in texts)  # the first slide
    assert "Next ▶" in texts  # and the button that moves on


def test_the_player_reaches_every_ending_with_its_buttons() -> None:
    story = load_story()
    player = Player(story)
    seen: set[str] = set()

    def walk(depth: int = 0) -> None:
        seen.add(player.talk.scene.id)
        assert depth < 200, "the player loops"
        for _label, action in player.actions():
            if action in ("back", "restart"):
                continue
            player.act(action)
            walk(depth + 1)
            player.act("back")

    walk()
    assert {s.id for s in story.endings} <= seen
    assert seen == set(levels(story))  # every reachable scene, by buttons alone
    assert len(story_map(story).nodes) == len(seen)
