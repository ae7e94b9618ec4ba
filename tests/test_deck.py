"""The talk state machine, as a presenter drives it: fast, no browser, no server."""

from __future__ import annotations

import pytest

from cyoa.deck.machine import Talk, poll_id
from cyoa.story.model import Choice, Ending, Option, Scene, Story


def make_story(default: str | None = None) -> Story:
    """start -> pick (1: left, 2: right, 3: middle) -> each ends."""
    options = (
        Option("1", "Left", "left"),
        Option("2", "Right", "right"),
        Option("3", "Middle", "middle"),
    )
    return Story(
        name="tiny",
        title="Tiny",
        start="start",
        scenes=(
            Scene("start", "Start", body="Hello", next="pick"),
            Scene("pick", "Pick", choice=Choice("Which way?", options, default=default)),
            Scene("left", "Left", ending=Ending("went left")),
            Scene("right", "Right", ending=Ending("went right")),
            Scene("middle", "Middle", ending=Ending("stayed")),
        ),
    )


def results(status: str, **votes: int) -> dict:
    options = [{"key": k, "label": k, "votes": votes.get(k, 0)} for k in ("1", "2", "3")]
    return {"status": status, "options": options, "total": sum(votes.values())}


@pytest.fixture
def talk() -> Talk:
    talk = Talk(make_story())
    assert talk.next().outcome == "moved"
    assert talk.scene.id == "pick"
    return talk


def test_next_and_back_walk_the_path() -> None:
    talk = Talk(make_story())
    assert talk.scene.id == "start"
    assert talk.back().outcome == "stay"
    talk.next()
    assert talk.path == ["start", "pick"]
    assert talk.poll == poll_id("pick") == "pick"
    talk.back()
    assert talk.path == ["start"]


def test_next_at_an_open_vote_closes_it_then_follows_the_winner(talk: Talk) -> None:
    talk.update("pick", results("open", **{"1": 2, "2": 5}))
    assert talk.next().outcome == "closing"
    assert "pick" in talk.closing
    assert talk.next().outcome == "closing"  # the final count has not arrived yet
    talk.update("pick", results("closed", **{"1": 2, "2": 6}))
    assert talk.decided().key == "2"
    assert talk.next().outcome == "moved"
    assert talk.path == ["start", "pick", "right"]


def test_without_the_final_count_next_asks_for_a_pick_and_never_uses_an_old_tally(
    talk: Talk,
) -> None:
    talk.update("pick", results("open", **{"3": 4}))  # the last tally polled before the close
    talk.close_vote()
    step = talk.next(online=False)
    assert step.outcome == "pick" and "No final count" in step.message and "1-3" in step.message
    assert talk.scene.id == "pick" and talk.decided() is None
    assert talk.next(online=False).outcome == "pick"  # pressing again never guesses either
    talk.update("pick", results("closed", **{"3": 4, "1": 7}))  # the close's answer arrives
    assert talk.next().outcome == "moved"
    assert talk.scene.id == "left"


def test_reset_forgets_the_votes_and_the_pick_and_opens_the_vote_again(talk: Talk) -> None:
    talk.update("pick", results("closed", **{"1": 40}))
    talk.pick(1)
    talk.back()
    assert talk.reset().outcome == "reset"
    assert not talk.is_closed() and talk.decided() is None
    assert talk.tally().total == 0 and talk.tally().status == "open"
    assert talk.next().outcome == "closing"  # next closes the fresh vote, as at the start


@pytest.mark.parametrize("votes", [{}, {"1": 3, "2": 3}], ids=["empty", "tie"])
def test_a_tie_or_no_votes_asks_the_presenter_to_pick(talk: Talk, votes: dict) -> None:
    talk.update("pick", results("closed", **votes))
    step = talk.next()
    assert step.outcome == "pick" and "1-3" in step.message
    assert talk.next().outcome == "pick"  # next alone never guesses
    assert talk.pick(1).outcome == "moved"
    assert talk.scene.id == "left"


def test_a_tie_takes_the_default_only_after_confirmation() -> None:
    talk = Talk(make_story(default="2"), scene="pick", path=["start", "pick"])
    talk.update("pick", results("closed", **{"1": 1, "3": 1}))
    step = talk.next()
    assert step.outcome == "confirm" and "Right" in step.message
    assert talk.scene.id == "pick"
    assert talk.next().outcome == "moved"
    assert talk.scene.id == "right"


def test_number_keys_pick_by_hand_and_close_an_open_vote(talk: Talk) -> None:
    talk.update("pick", results("open", **{"1": 9}))
    assert talk.pick(7).outcome == "stay"  # no option 7
    talk.pick(3)
    assert talk.scene.id == "middle"
    assert "pick" in talk.closing  # the sync loop tells the server
    talk.back()
    assert talk.decided().key == "3"  # back at the decision, the pick still stands
    talk.next()
    assert talk.scene.id == "middle"


def test_reopen_forgets_the_close_and_the_pick(talk: Talk) -> None:
    talk.update("pick", results("closed", **{"1": 1}))
    talk.reopen()
    assert not talk.is_closed()
    assert talk.next().outcome == "closing"


def test_jump_and_resume_keep_a_valid_path() -> None:
    talk = Talk(make_story(), scene="left", path=["start", "pick", "left"])
    assert talk.path == ["start", "pick", "left"]
    assert talk.jump("nowhere").outcome == "stay"
    talk.jump("right")
    assert talk.path[-1] == "right"
    talk.jump("pick", ["start", "ghost", "pick"])  # unknown ids from an old story are dropped
    assert talk.path == ["start", "pick"]


def test_endings_stay_put() -> None:
    talk = Talk(make_story(), scene="left", path=["start", "pick", "left"])
    assert talk.next().outcome == "end"
    assert talk.scene.id == "left"


def test_poll_ids_are_valid_for_the_vote_server() -> None:
    assert poll_id("a scene/with spaces") == "a-scene-with-spaces"
    assert len(poll_id("x" * 100)) == 64


def test_the_join_panel_shows_the_url_the_sms_number_and_a_scalable_qr() -> None:
    from cyoa.deck.render import join_html

    choice = make_story().scene("pick").choice
    panel = join_html(
        "http://192.168.1.5:8000/", '<svg width="250" height="250"></svg>', "+1500", choice
    )
    assert "192.168.1.5:8000" in panel and "http://" not in panel  # large type: no scheme
    assert "+1500" in panel and "<b>1</b>–<b>3</b>" in panel
    assert 'viewBox="0 0 250 250"' in panel
