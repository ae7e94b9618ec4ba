"""Walking a story's paths is safe on loops: counting agrees with listing, nothing recurses,
and ``cyoa export`` maps a story that loops."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from hypothesis import given, settings
from story_helpers import write_story
from test_story_check_command import ASK_AGAIN, LOOP_BACK
from test_story_roundtrip import stories

from cyoa.cli import main
from cyoa.story.loader import load_story
from cyoa.story.model import Ending, Scene, Story
from cyoa.story.paths import count_paths, enumerate_paths, loop_links, reachable_from, reading_order


@settings(max_examples=80, deadline=None)
@given(story=stories())
def test_counting_agrees_with_listing_with_or_without_loops(story: Story) -> None:
    paths = enumerate_paths(story)
    assert count_paths(story) == len(paths)
    assert all(len(set(path.scenes)) == len(path.scenes) for path in paths)
    order = reading_order(story)
    assert sorted(order) == sorted(scene.id for scene in story.scenes)
    back = set(loop_links(story))
    for scene in story.scenes:  # every link that does not loop back goes forward
        for target in scene.targets:
            if (scene.id, target) not in back:
                assert order.index(target) > order.index(scene.id)
    for source, target in back:  # and every link back closes a loop
        assert source in reachable_from(story, target)


def test_a_long_story_is_walked_without_recursion() -> None:
    """5,000 scenes in a row: deeper than Python's recursion limit, still counted."""
    ids = [f"s{number}" for number in range(5000)]
    scenes = [Scene(id, id, next=after) for id, after in zip(ids, [*ids[1:], "end"], strict=True)]
    story = Story("long", "Long", ids[0], (*scenes, Scene("end", "End", ending=Ending("done"))))
    assert count_paths(story) == 1
    assert len(reading_order(story)) == 5001


def test_cyoa_export_maps_a_story_that_loops(tmp_path: Path) -> None:
    for number, scenes in enumerate((LOOP_BACK, ASK_AGAIN)):
        root = write_story(tmp_path / f"story-{number}", replace=scenes)
        out = tmp_path / f"site-{number}"
        result = CliRunner().invoke(main, ["export", str(root), str(out)])
        assert result.exit_code == 0, result.stderr
        page = (out / "index.html").read_text(encoding="utf-8")
        assert page.count("<svg") >= 1
        for scene in load_story(root).scenes:
            assert (out / "scenes" / f"{scene.id}.html").is_file()
