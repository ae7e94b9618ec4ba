"""The forgiving SMS parser and the reply texts, as pure functions (no server)."""

from __future__ import annotations

import pytest
from conftest import PET_OPTIONS
from hypothesis import given, settings
from hypothesis import strategies as st

from cyoa.voteserver.sms import GSM7, choices_text, gsm7, vote_reply
from cyoa.voteserver.sms_parse import HELP, OPT_IN, OPT_OUT, parse_choice
from cyoa.voteserver.store import Option


@pytest.mark.parametrize(
    "body",
    ["2", " 2 ", "#2", "option 2", "Option 2!", "B", "b", "dachshund", "DACHSHUND!!",
     "Dachshunds", "doc", "2️⃣", "２", "②", "🐶 2 🐶", "I vote for dachshund", "\t2\r\n",
     "Dachshund Doc Send", "vote b", "#B"],
)  # fmt: skip
def test_the_ways_people_text_option_two(body):
    assert parse_choice(body, PET_OPTIONS).key == "2"


@pytest.mark.parametrize(
    "body", ["1", "a", "A.", "tinder", "PETS", "option 1", "#1", "tïnder", "Tinder for Pets"]
)
def test_the_ways_people_text_option_one(body):
    assert parse_choice(body, PET_OPTIONS).key == "1"


@pytest.mark.parametrize(
    "body",
    ["", "   ", "🐶", "3", "0", "c", "1 or 2", "tinder dachshund", "for", "the", "12",
     "option", "I vote a or b", "2" * 5000, "<script>", "x" * 1600],
)  # fmt: skip
def test_anything_unclear_is_not_a_vote(body):
    assert parse_choice(body, PET_OPTIONS).kind == "unknown"


@pytest.mark.parametrize("word", sorted(OPT_OUT | OPT_IN | HELP))
def test_keywords_are_never_votes_even_when_they_are_option_words(word):
    options = [Option("1", word.title(), (word.lower(),)), Option("2", "Other")]
    for body in (word, word.lower(), f" {word.title()} ", f"{word}!"):
        assert parse_choice(body, options).kind in ("optout", "optin", "help")


def test_a_word_of_the_label_is_enough():
    assert parse_choice("I vote a dachshund", PET_OPTIONS).key == "2"


def test_a_keyword_inside_a_sentence_is_not_an_opt_out():
    assert parse_choice("stop and vote 2", PET_OPTIONS).kind == "vote"


def test_letter_and_number_keys_resolve_by_key_before_position():
    options = [Option("b", "Blue"), Option("a", "Amber"), Option("3", "Third")]
    assert parse_choice("a", options).key == "a"
    assert parse_choice("B", options).key == "b"
    assert parse_choice("3", options).key == "3"
    assert parse_choice("2", options).kind == "unknown"  # digits are keys here
    assert parse_choice("c", options).kind == "unknown"  # and so are letters
    positional = [Option("x", "Blue"), Option("y", "Amber")]
    assert parse_choice("2", positional).key == "y"


def test_a_compound_key_is_read_whole():
    options = [Option("opt-2", "Two"), Option("opt-1", "One")]
    assert parse_choice("opt-1", options).key == "opt-1"
    assert parse_choice("OPT 1", options).key == "opt-1"


def test_a_word_shared_by_two_labels_is_ambiguous():
    options = [Option("1", "Send email"), Option("2", "Send SMS")]
    assert parse_choice("send", options).kind == "unknown"
    assert parse_choice("send sms", options).key == "2"


def test_replies_fit_one_gsm7_segment():
    long = [Option(str(i), f"A very long option label number {i} with emoji 🚀 and ümlauts")
            for i in range(1, 10)]  # fmt: skip
    for text in (
        choices_text(long),
        vote_reply("counted", long[0], long),
        vote_reply("changed", long[8], long),
        vote_reply("unknown", None, long),
    ):
        assert len(text) <= 160 and set(text) <= GSM7, text
    assert gsm7("Zoë’s café 🎉") == "Zoes cafe"


labels = st.text(min_size=1, max_size=80)
ALNUM = "abcxyzABC0123456789"
option_keys = st.one_of(  # valid option ids: "2", "b", "opt-1", "Yes.2"
    st.sampled_from("123456789abcdef"),
    st.builds(str.__add__, st.sampled_from(ALNUM), st.text(ALNUM + "_.-", max_size=5)),
)
option_lists = st.lists(
    st.tuples(option_keys, labels),
    min_size=2,
    max_size=9,
    unique_by=lambda kv: kv[0],
).map(lambda kvs: [Option(k, label) for k, label in kvs])
messy = st.one_of(
    st.text(max_size=40),
    # Long bodies, up to Twilio's 1600 characters, built cheaply from a short messy piece.
    st.builds(
        lambda piece, n: (piece * n)[:1600], st.text(min_size=1, max_size=40), st.integers(1, 1600)
    ),
    st.builds(
        "{}{}{}".format,
        st.text(max_size=4),
        st.sampled_from(["2", "#2", "option 2", "B", "dachshund", "STOP", "help", "yes", "²"]),
        st.text(max_size=4),
    ),
)


@settings(max_examples=2000, deadline=None)
@given(body=messy, options=option_lists)
def test_the_parser_only_ever_names_an_option(body, options):
    parsed = parse_choice(body, options)
    assert parsed.kind in ("vote", "optout", "optin", "help", "unknown")
    if parsed.kind == "vote":
        assert parsed.key in {o.key for o in options}
    else:
        assert parsed.key == ""
    for text in (choices_text(options), vote_reply(parsed.kind, options[0], options)):
        assert len(text) <= 160 and set(text) <= GSM7
