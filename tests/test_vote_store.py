"""The store's vote semantics, against a real Redis."""

from __future__ import annotations

import threading

import pytest
from conftest import PET_OPTIONS, steady_window

from cyoa.voteserver.store import Option, StoreError


def test_first_vote_is_counted_once(store, talk_id, open_poll):
    assert store.cast_vote(talk_id, open_poll, "w1", "2").outcome == "counted"
    assert store.cast_vote(talk_id, open_poll, "w1", "2").outcome == "unchanged"
    results = store.results(talk_id, open_poll)
    assert [o["votes"] for o in results["options"]] == [0, 1]
    assert results["total"] == 1


def test_changing_a_vote_moves_it(store, talk_id, open_poll):
    store.cast_vote(talk_id, open_poll, "w1", "1")
    result = store.cast_vote(talk_id, open_poll, "w1", "2")
    assert (result.outcome, result.previous) == ("changed", "1")
    assert [o["votes"] for o in store.results(talk_id, open_poll)["options"]] == [0, 1]


@pytest.mark.parametrize("status", ["draft", "closed"])
def test_votes_on_a_poll_that_is_not_open_are_refused(store, talk_id, status):
    store.define_poll(talk_id, "p", "Q?", PET_OPTIONS)
    if status == "closed":
        store.open_poll(talk_id, "p")
        store.close_poll(talk_id, "p")
    assert store.cast_vote(talk_id, "p", "w1", "1").outcome == "not_open"
    assert store.results(talk_id, "p")["total"] == 0


def test_unknown_poll_and_unknown_option_are_refused(store, talk_id, open_poll):
    assert store.cast_vote(talk_id, "nope", "w1", "1").outcome == "unknown_poll"
    assert store.cast_vote(talk_id, open_poll, "w1", "7").outcome == "bad_choice"
    assert store.cast_vote(talk_id, open_poll, "w1", "a b").outcome == "bad_choice"
    assert store.results(talk_id, open_poll)["total"] == 0


def test_message_sid_counts_once(store, talk_id, open_poll):
    first = store.cast_vote(talk_id, open_poll, "s1", "1", sid="SM123")
    again = store.cast_vote(talk_id, open_poll, "s1", "2", sid="SM123")
    assert (first.outcome, again.outcome) == ("counted", "duplicate")
    assert [o["votes"] for o in store.results(talk_id, open_poll)["options"]] == [1, 0]


def test_opening_a_poll_closes_the_one_before(store, talk_id, open_poll):
    store.define_poll(talk_id, "next", "Next?", PET_OPTIONS)
    store.open_poll(talk_id, "next")
    assert store.results(talk_id, open_poll)["status"] == "closed"
    assert store.get_state(talk_id).open_poll == "next"


def test_winner_only_once_closed_and_never_on_a_tie(store, talk_id, open_poll):
    store.cast_vote(talk_id, open_poll, "w1", "2")
    assert store.results(talk_id, open_poll)["winner"] is None
    store.close_poll(talk_id, open_poll)
    assert store.results(talk_id, open_poll)["winner"] == "2"
    store.open_poll(talk_id, open_poll)
    store.cast_vote(talk_id, open_poll, "w2", "1")
    store.close_poll(talk_id, open_poll)
    assert store.results(talk_id, open_poll)["winner"] is None


def test_redefining_options_of_a_poll_with_votes_is_refused(store, talk_id, open_poll):
    store.cast_vote(talk_id, open_poll, "w1", "1")
    with pytest.raises(StoreError) as error:
        store.define_poll(talk_id, open_poll, "Q", [Option("a", "A"), Option("b", "B")])
    assert error.value.code == 409
    # same keys, new wording: fine, votes stay
    assert store.define_poll(talk_id, open_poll, "Reworded?", PET_OPTIONS) == "updated"
    assert store.results(talk_id, open_poll)["total"] == 1


def test_reset_forgets_votes_but_keeps_options(store, talk_id, open_poll):
    store.cast_vote(talk_id, open_poll, "w1", "1")
    store.reset_poll(talk_id, open_poll)
    results = store.results(talk_id, open_poll)
    assert results["total"] == 0 and len(results["options"]) == 2
    assert store.cast_vote(talk_id, open_poll, "w1", "2").outcome == "counted"


def test_voter_rate_limit_stops_a_flood(store, talk_id, open_poll):
    window = steady_window()  # the eight votes never straddle two windows (10 s ones could)
    outcomes = [
        store.cast_vote(talk_id, open_poll, "w1", "12"[i % 2], voter_limit=5, window=window).outcome
        for i in range(8)
    ]
    assert outcomes[:5].count("rate_limited") == 0
    assert outcomes[5:] == ["rate_limited"] * 3


def test_a_room_behind_one_address_can_all_vote(store, talk_id, open_poll):
    """1,000 phones behind a venue's NAT vote within seconds: none is turned away."""
    outcomes = {
        store.cast_vote(talk_id, open_poll, f"w{i}", "1", address="venue").outcome
        for i in range(1000)
    }
    assert outcomes == {"counted"}


def test_concurrent_votes_from_threads_keep_totals_exact(store, talk_id, open_poll):
    def vote(n: int) -> None:
        for i in range(100):
            voter = f"w{n}-{i % 50}"  # each voter votes twice: once, then a change
            store.cast_vote(
                talk_id,
                open_poll,
                voter,
                "1" if i < 50 else "2",
                voter_limit=1000,
                address_limit=100000,
            )

    threads = [threading.Thread(target=vote, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = store.results(talk_id, open_poll)
    assert results["total"] == 8 * 50
    assert [o["votes"] for o in results["options"]] == [0, 400]


def test_export_has_every_poll_and_the_path(store, talk_id, open_poll):
    store.cast_vote(talk_id, open_poll, "w1", "2")
    store.close_poll(talk_id, open_poll)
    store.put_state(talk_id, "deploy", ["intro", "product", "deploy"])
    export = store.export(talk_id)
    assert export["path"] == ["intro", "product", "deploy"]
    assert export["polls"][0]["winner"] == "2"
    csv_text = store.export_csv(talk_id)
    assert "Dachshund Doc Send,1,1,2" in csv_text


def test_talks_keep_their_results_apart(store, talk_id, open_poll):
    store.cast_vote(talk_id, open_poll, "w1", "2")
    other = store.start_talk("other-" + talk_id)
    store.define_poll(other, open_poll, "What did you build?", PET_OPTIONS)
    assert store.results(other, open_poll)["total"] == 0
    assert store.results(talk_id, open_poll)["total"] == 1


def test_audience_counts_recent_phones(store, talk_id):
    for voter in ("w1", "w2", "w2"):
        store.mark_seen(talk_id, voter)
    assert store.audience(talk_id) == 2
