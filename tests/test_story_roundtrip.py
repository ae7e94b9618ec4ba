"""Any valid story written to files loads back as the same story (property-based)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cyoa.story.checker import check_story, errors
from cyoa.story.loader import load_story
from cyoa.story.model import Choice, Ending, Option, Scene, Story
from cyoa.story.paths import count_paths, enumerate_paths, reachable_from
from cyoa.story.votewords import refusals
from cyoa.story.writer import write_story

DEMOS = ("app", "gunicorn", "postgres")
words = (
    st.text(
        alphabet=st.characters(categories=("L", "N", "P", "Zs", "S"), exclude_characters="<`~"),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)
paragraphs = st.lists(
    st.text(alphabet="abcxyz ÄÖü0123456789.,!?*_-", min_size=1, max_size=40)
    .map(str.strip)
    .filter(bool),
    max_size=4,
).map("\n\n".join)
sms_words = st.lists(st.from_regex(r"[a-z]{2,8}", fullmatch=True), max_size=3, unique=True)


@st.composite
def stories(draw: st.DrawFn) -> Story:
    """A valid story: a spine 0 → 1 → … → last (an ending), with choices branching forward
    and sometimes looping back (the spine keeps every scene reachable and finishable)."""
    count = draw(st.integers(min_value=2, max_value=10))
    ids = draw(
        st.lists(
            st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
            min_size=count,
            max_size=count,
            unique=True,
        )
    )
    scenes = []
    used_sms: set[str] = set()
    for index, scene_id in enumerate(ids):
        fields = {
            "id": scene_id,
            "title": draw(words),
            "body": draw(paragraphs),
            "notes": draw(paragraphs),
            "demo": draw(st.none() | st.sampled_from(DEMOS)),
        }
        if index == count - 1:
            scenes.append(Scene(**fields, ending=Ending(draw(words))))
        elif draw(st.booleans()):
            scenes.append(Scene(**fields, next=ids[index + 1]))
        else:
            extra = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=4))
            options = []
            for number, target in enumerate([ids[index + 1], *extra], start=1):
                sms = tuple(word for word in draw(sms_words) if word not in used_sms)
                used_sms.update(sms)
                options.append(Option(str(number), draw(words), target, sms))
            default = draw(st.none() | st.sampled_from([option.key for option in options]))
            choice = Choice(draw(words), tuple(options), default)
            assume(not refusals(choice))  # e.g. two labels "0": a text "0" votes for one only
            scenes.append(Scene(**fields, choice=choice))
    return Story(
        name="random",
        title=draw(words),
        start=ids[0],
        scenes=tuple(scenes),
        description=draw(st.just("") | words),
    )


@settings(max_examples=60, deadline=None)
@given(story=stories())
def test_random_valid_story_round_trips(story: Story) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = write_story(story, Path(folder))
        (root / "demos.yaml").write_text("".join(f"{name}: a demo\n" for name in DEMOS))
        loaded = load_story(root)
        assert loaded == story
        assert errors(check_story(loaded)) == []


@settings(max_examples=40, deadline=None)
@given(story=stories())
def test_every_listed_path_goes_from_start_to_an_ending(story: Story) -> None:
    paths = enumerate_paths(story)
    assert paths, "a valid story has at least one path"
    for path in paths:
        assert path.scenes[0] == story.start
        assert story.scene(path.ending).ending is not None
        assert len(set(path.scenes)) == len(path.scenes)
    assert reachable_from(story, story.start) == {scene.id for scene in story.scenes}
    looping = any(
        ids.index(target) <= ids.index(scene.id)
        for ids in [[scene.id for scene in story.scenes]]
        for scene in story.scenes
        for target in scene.targets
    )
    if not looping:
        assert len(paths) == count_paths(story)
