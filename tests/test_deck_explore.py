"""The learner's notebook: it runs headless without a vote server, and every ending is reachable."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

from cyoa.deck import load_story
from cyoa.deck.explore import Player, levels, story_map

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "explore.ipynb"


def test_the_explore_notebook_runs_headless(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("CYOA_VOTE_URL", raising=False)
    book = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(book, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in book.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    mimes = {m for c in book.cells for o in c.get("outputs", []) for m in o.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" in mimes  # the player
    assert "application/vnd.plotly.v1+json" in mimes or "text/html" in mimes  # the map


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
    assert len(story_map(story).data[1].x) == len(seen)
