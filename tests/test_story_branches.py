"""Every branch true to itself: on each path, the slides, the notes and the recordings name
only what that path has introduced (terms.yaml), and a scene's per-branch variant follows
the path taken so far."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from story_helpers import write_story

from cyoa.story.branches import load_terms, strays
from cyoa.story.checker import check_story
from cyoa.story.export import export_site
from cyoa.story.loader import default_story_path, load_story
from cyoa.story.paths import enumerate_paths
from cyoa.story.problems import StoryError
from cyoa.story.variants import scene_on_path


@pytest.fixture(scope="module")
def shipped():
    return load_story(default_story_path())


def report(story, found) -> str:
    """One line per scene, place and term, with how many paths show it and one of them."""
    grouped: dict[tuple[str, str, str], list] = defaultdict(list)
    for stray in found:
        grouped[(stray.scene, stray.where, stray.term.text)].append(stray)
    return "\n".join(
        f"{len(paths)} paths: {paths[0].describe(story)}"
        for paths in (grouped[key] for key in sorted(grouped))
    )


def test_the_shipped_story_keeps_its_branch_terms(shipped) -> None:
    terms = load_terms(shipped.root)
    owners = {term.text: term.introduced_by for term in terms}
    assert owners["Tinder for Pets"] == ("pets",)
    assert owners["deliveries"] == ("doc-send",)
    assert owners["send_invitations"] == ("invites",)
    for term in terms:
        assert set(term.introduced_by) <= set(shipped.by_id), term


def test_every_slide_and_note_on_every_path_names_only_what_the_path_introduced(
    shipped,
) -> None:
    paths = enumerate_paths(shipped)
    assert len(paths) == 64
    found = list(strays(shipped, load_terms(shipped.root)))
    assert not found, "text that belongs to another path:\n" + report(shipped, found)


def test_every_recording_on_every_path_shows_only_its_own_branch(shipped) -> None:
    """The recording the deck shows on each path (the branch's own, else the default)."""
    found = [
        stray
        for stray in strays(shipped, load_terms(shipped.root), recordings=True)
        if stray.where.startswith("recording")
    ]
    assert not found, "recordings that show another path:\n" + report(shipped, found)


def test_each_product_sees_its_own_slow_page_and_the_cache_is_per_customer(shipped) -> None:
    for product, route, other in (("pets", "/matches", "/dashboard"),
                                  ("doc-send", "/dashboard", "/matches")):  # fmt: skip
        path = next(p for p in enumerate_paths(shipped) if {product, "cache"} <= set(p.scenes))
        so_far = path.scenes[: path.scenes.index("cache-layers") + 1]
        slide = scene_on_path(shipped, "cache-layers", so_far).body
        assert route in slide and other not in slide
        assert "key_prefix=per_customer" in slide and "current_user.id" in slide


def test_the_pets_photos_promised_at_launch_arrive_at_the_static_files(shipped) -> None:
    pets = next(p for p in enumerate_paths(shipped) if "pets" in p.scenes)
    docs = next(p for p in enumerate_paths(shipped) if "doc-send" in p.scenes)
    assert "photos" in shipped.scene("pets").notes
    on_pets = scene_on_path(shipped, "static-files", pets.scenes[:12])
    on_docs = scene_on_path(shipped, "static-files", docs.scenes[:12])
    assert "client_max_body_size" in on_pets.body and "client_max_body_size" in on_pets.notes
    assert "client_max_body_size" not in on_docs.body + on_docs.notes


# -- the check itself, on small stories written for it ----------------------------------------

BRANCHED = {
    "01-start.md": """
        ---
        id: start
        title: Pick a product
        choice:
          question: Which product?
          options:
            - label: Tinder for Pets
              goto: pets
            - label: Dachshund Doc Send
              goto: docs
        ---

        Pets or dachshunds?
        """,
    "02-pets.md": "---\nid: pets\ntitle: Pets\nnext: shared\n---\n\nSwipe right.\n",
    "03-docs.md": "---\nid: docs\ntitle: Docs\nnext: shared\n---\n\nA dachshund delivers.\n",
    "04-shared.md": """
        ---
        id: shared
        title: Shared
        demo: hello
        ending: The end
        ---

        Everybody sees this.

        ::: on pets
        The pets' photos.
        :::
        ::: on docs
        The dachshund's deliveries.
        :::

        ## Speaker notes

        Notes for all.
        """,
}
TERMS = "dachshund: docs\ndeliveries: docs\nphotos: pets\n"


def branched(tmp_path: Path, shared: str | None = None, terms: str = TERMS) -> Path:
    root = write_story(tmp_path, BRANCHED, replace={"04-shared.md": shared} if shared else None)
    (root / "terms.yaml").write_text(terms, encoding="utf-8")
    return root


def test_a_shared_scene_shows_the_variant_of_the_path_taken(tmp_path: Path) -> None:
    story = load_story(branched(tmp_path))
    assert check_story(story, demos={"hello"}) == []
    pets = scene_on_path(story, "shared", ["start", "pets", "shared"])
    docs = scene_on_path(story, "shared", ["start", "docs", "shared"])
    assert pets.body == "Everybody sees this.\n\nThe pets' photos."
    assert docs.body == "Everybody sees this.\n\nThe dachshund's deliveries."
    assert pets.notes == docs.notes == "Notes for all."
    every = scene_on_path(story, "shared", None).body  # the export: every variant, marked
    assert "*On paths through “Pets”:*\n\nThe pets' photos." in every
    assert "*On paths through “Docs”:*\n\nThe dachshund's deliveries." in every


def test_the_export_shows_every_variant_marked(tmp_path: Path) -> None:
    story = load_story(branched(tmp_path / "story"))
    out = tmp_path / "site"
    export_site(story, out)
    page = (out / "scenes" / "shared.html").read_text(encoding="utf-8")
    assert "<em>On paths through “Pets”:</em></p>\n<p>The pets' photos.</p>" in page
    assert "<em>On paths through “Docs”:</em></p>\n<p>The dachshund's deliveries.</p>" in page
    assert ":::" not in page


def test_a_term_of_the_other_branch_is_found_on_the_path_that_never_introduced_it(
    tmp_path: Path,
) -> None:
    leak = BRANCHED["04-shared.md"].replace("Notes for all.", "Mind the dachshund.")
    story = load_story(branched(tmp_path, leak))
    found = list(strays(story, load_terms(story.root)))
    assert [(s.path.scenes[1], s.scene, s.where, s.term.text) for s in found] == [
        ("pets", "shared", "speaker notes", "dachshund")
    ]
    assert "never went through docs" in found[0].describe(story)
    warnings = [str(p) for p in check_story(story, demos={"hello"})]
    assert len(warnings) == 1
    assert (
        "04-shared.md:2: warning: scene 'shared': speaker notes names 'dachshund'" in (warnings[0])
    )
    assert "Tinder for Pets" in warnings[0]


def test_a_term_used_before_the_scene_that_introduces_it_is_found(tmp_path: Path) -> None:
    story = load_story(branched(tmp_path, terms="Everybody sees: shared\nSwipe: pets\n"))
    found = {(s.scene, s.term.text) for s in strays(story, load_terms(story.root))}
    assert found == set()  # a scene may name what it introduces itself
    early = load_story(branched(tmp_path / "b", terms="Pets or dachshunds: pets\n"))
    assert {(s.scene, s.term.text) for s in strays(early, load_terms(early.root))} == set(), (
        "a decision may name what its options introduce"
    )
    late = load_story(branched(tmp_path / "c", terms="Swipe right: shared\n"))
    found = {(s.scene, s.term.text) for s in strays(late, load_terms(late.root))}
    assert found == {("pets", "Swipe right")}


def test_a_recording_of_the_other_branch_is_found(tmp_path: Path) -> None:
    root = branched(tmp_path)
    (root / "recordings").mkdir()
    recording = {"code": "run_demo('hello')", "output": "Dachshund on the way"}
    (root / "recordings" / "hello.json").write_text(json.dumps(recording), encoding="utf-8")
    story = load_story(root)
    found = [s for s in strays(story, load_terms(root), recordings=True)]
    assert [(s.path.scenes[1], s.where, s.term.text) for s in found] == [
        ("pets", "recording recordings/hello.json", "dachshund")
    ]
    pets = dict(recording, output="Pets on the way")  # the branch's own recording fixes it
    (root / "recordings" / "hello.pets.json").write_text(json.dumps(pets), encoding="utf-8")
    assert list(strays(story, load_terms(root), recordings=True)) == []


@pytest.mark.parametrize(
    ("block", "line", "message"),
    [
        ("::: on pets\nnever closed\n", 7, "never closes"),
        ("::: on pets\n::: on docs\n:::\n", 8, "inside another variant block"),
        (":::: wrong\n", 7, "is not a variant line"),
    ],
)
def test_a_malformed_variant_is_refused_with_its_line(
    tmp_path: Path, block: str, line: int, message: str
) -> None:
    text = "---\nid: shared\ntitle: Shared\nending: The end\n---\n\n" + block
    root = branched(tmp_path, text)
    with pytest.raises(StoryError) as refused:
        load_story(root)
    (problem,) = refused.value.problems
    assert (problem.file.name, problem.line, problem.scene) == ("04-shared.md", line, "shared")
    assert message in problem.message


@pytest.mark.parametrize(("ids", "message"), [("nowhere", "no such scene"), ("pets", None)])
def test_a_variant_must_name_a_scene(tmp_path: Path, ids: str, message: str | None) -> None:
    text = f"---\nid: shared\ntitle: Shared\nending: The end\n---\n\n::: on {ids}\nSome.\n:::\n"
    story = load_story(branched(tmp_path, text, terms="{}"))
    problems = [str(p) for p in check_story(story, demos={"hello"})]
    if message is None:
        assert problems == []
    else:
        assert len(problems) == 1
        assert (
            "04-shared.md:2: error: scene 'shared': variant '::: on nowhere': no such scene"
            in (problems[0])
        )


def test_a_variant_that_can_never_show_is_refused(tmp_path: Path) -> None:
    text = "---\nid: pets\ntitle: Pets\nnext: shared\n---\n\n::: on docs\nNever.\n:::\n"
    root = write_story(tmp_path, BRANCHED, replace={"02-pets.md": text})
    problems = [str(p) for p in check_story(load_story(root), demos={"hello"})]
    assert len(problems) == 1
    assert "'docs' never comes before this scene, so the block never shows" in problems[0]


def test_the_deck_shows_the_variant_of_the_rooms_path(tmp_path: Path) -> None:
    """The slide follows the path the room took, and a different path later gets its own."""
    from cyoa.deck import Deck

    story = load_story(branched(tmp_path))
    deck = Deck(story, None)
    assert deck.act("pick:1").outcome == "moved"  # Tinder for Pets
    assert deck.act("next").outcome == "moved"
    slide = deck.view.slide.value
    assert "The pets' photos." in slide and "deliveries" not in slide
    deck.talk.jump("shared", ["start", "docs", "shared"])  # the presenter goes the other way
    deck.refresh()
    slide = deck.view.slide.value
    assert "The dachshund's deliveries." in slide and "photos" not in slide
