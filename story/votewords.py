"""Every way the room is told to vote must count for its option, as the vote server reads it.

The deck and the phones say: text the key, the letter, or a word. Each of those is run
through the vote server's own SMS parser (``voteserver.sms_parse.parse_choice``, the code the
SMS webhook runs) with the poll's options as the deck defines them, so a word that two
options share, or a keyword the SMS provider keeps for itself, is found before the talk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cyoa.story.model import Choice

if TYPE_CHECKING:  # imported where used: loading a story (the deck does) needs no voteserver
    from cyoa.voteserver.sms_parse import ParsedSms
    from cyoa.voteserver.store import Option as VoteOption

MAX_WORDS = 10
"""The vote server keeps an option's first 10 SMS words (``PUT /api/polls``)."""
MAX_WORD_CHARS = 40
"""...and the first 40 characters of each."""
MIN_LABEL_WORD = 3
"""The parser reads label words of 3 letters or more (and not "the", "for", ...)."""
KEYWORDS = {
    "optout": "the opt-out keyword (the SMS provider unsubscribes the phone)",
    "optin": "an opt-in keyword (the SMS provider answers it itself)",
    "help": "the help keyword (the vote server answers with instructions)",
}


@dataclass(frozen=True)
class Way:
    """One text the room may send for an option: its key, letter, label, a word of either."""

    option: int  # position in the choice
    kind: str  # key, letter, label, label word, sms word
    text: str

    @property
    def field(self) -> str:
        """The front-matter field to point the author at."""
        name = {"key": "key", "label": "label", "label word": "label", "sms word": "sms"}
        part = name.get(self.kind)
        return f"options.{self.option}.{part}" if part else f"options.{self.option}"


@dataclass(frozen=True)
class Refusal:
    """Why some texts would not vote as advertised, and which field to fix."""

    message: str
    field: str


def vote_options(choice: Choice) -> list[VoteOption]:
    """The poll's options as the deck defines them on the vote server: key, label, SMS words."""
    from cyoa.voteserver.store import Option as VoteOption

    return [VoteOption(option.key, option.label, option.sms) for option in choice.options]


def ways_to_vote(choice: Choice) -> list[Way]:
    """Every text the room is told it may send, per option.

    A label word counts only when no other option's label has it: "money" in "Accept the
    money" and "Reject the money" names neither, and nobody expects it to.
    """
    from cyoa.voteserver.sms_parse import FILLER, LETTERS, STOPWORDS, tokens

    options = choice.options
    letters = all(option.key.isdecimal() for option in options)
    label_tokens = [set(tokens(option.label)) for option in options]
    ways: list[Way] = []
    for index, option in enumerate(options):
        ways.append(Way(index, "key", option.key))
        if letters and index < len(LETTERS):
            ways.append(Way(index, "letter", LETTERS[index].upper()))
        ways.append(Way(index, "label", option.label))
        others = set().union(*(t for i, t in enumerate(label_tokens) if i != index))
        words = tokens(option.label)
        for word in dict.fromkeys(words if len(words) > 1 else ()):  # one word: the label
            readable = len(word) >= MIN_LABEL_WORD and word not in STOPWORDS | FILLER
            if readable and word not in others:
                ways.append(Way(index, "label word", word))
        ways.extend(Way(index, "sms word", word) for word in option.sms)
    return ways


def refusals(choice: Choice) -> list[Refusal]:
    """Each text that would not vote for the option it is advertised for, grouped by text."""
    from cyoa.voteserver.sms_parse import parse_choice, tokens

    options = choice.options
    keys = [option.key for option in options]
    if not options or len(set(keys)) != len(keys):  # duplicate keys have their own error
        return []
    found = _limits(choice)
    polled = vote_options(choice)
    groups: dict[str, list[Way]] = {}
    for way in ways_to_vote(choice):
        said = " ".join(tokens(way.text))
        if said:
            groups.setdefault(said, []).append(way)
        elif way.kind == "sms word":
            found.append(
                Refusal(
                    f"sms word '{way.text}' of option {keys[way.option]} has no letter or "
                    "digit: no text message can match it",
                    way.field,
                )
            )
    for group in groups.values():
        parsed = parse_choice(group[0].text, polled)
        failing = [way for way in group if not _votes_for(parsed, keys[way.option])]
        if failing:
            found.append(_refusal(group, failing, parsed, choice))
    return found


def _limits(choice: Choice) -> list[Refusal]:
    found = []
    for index, option in enumerate(choice.options):
        if len(option.sms) > MAX_WORDS:
            found.append(
                Refusal(
                    f"option {option.key} has {len(option.sms)} sms words: the vote server "
                    f"keeps the first {MAX_WORDS}",
                    f"options.{index}.sms",
                )
            )
        found.extend(
            Refusal(
                f"sms word '{word}' of option {option.key} is longer than {MAX_WORD_CHARS} "
                "characters: the vote server cuts it",
                f"options.{index}.sms",
            )
            for word in option.sms
            if len(word) > MAX_WORD_CHARS
        )
    return found


def _votes_for(parsed: ParsedSms, key: str) -> bool:
    return parsed.kind == "vote" and parsed.key == key


def _refusal(group: list[Way], failing: list[Way], parsed: ParsedSms, choice: Choice) -> Refusal:
    # Point at what the author wrote (an sms word before a label, a label before a key).
    editable = min(group, key=lambda way: (_PRIORITY.index(way.kind), -way.option))
    text, field = editable.text, editable.field
    owners = {way.option for way in group}
    if parsed.kind == "unknown" and all(way.kind == "sms word" for way in group):
        names = " and ".join(f"option {choice.options[i].key}" for i in sorted(owners))
        return Refusal(f"sms word '{text}' means both {names}", field)
    if parsed.kind == "vote":
        winners = [way for way in group if choice.options[way.option].key == parsed.key]
        why = f" (as {_list(winners, choice)})" if winners else ""
        return Refusal(
            f"a text '{text}' votes for option {parsed.key}{why}, yet it is also "
            f"{_list(failing, choice)}: that vote would go to the wrong option; change or "
            "drop it",
            field,
        )
    if parsed.kind in KEYWORDS:
        return Refusal(
            f"a text '{text}' is {KEYWORDS[parsed.kind]}, never a vote, yet it is "
            f"{_list(failing, choice)}; change or drop it",
            field,
        )
    claims = _list(group, choice)
    if len(owners) == 1:  # another option's words catch it too (a plural, a phrase)
        (owner,) = owners
        rivals = [f"option {choice.options[i].key}" for i in _rivals(text, owner, choice)]
        if rivals:
            claims += f", and it also matches the label or sms words of {' and '.join(rivals)}"
    return Refusal(
        f"a text '{text}' votes for no option (the vote server answers 'unknown' and the "
        f"vote is lost): it is {claims}; keep it to one option",
        field,
    )


def _rivals(text: str, owner: int, choice: Choice) -> list[int]:
    """The other options whose label and sms words, taken away, would let ``text`` vote for
    ``owner``: asked of the parser itself, so its plurals and phrases count too."""
    from cyoa.voteserver.sms_parse import parse_choice
    from cyoa.voteserver.store import Option as VoteOption

    polled = vote_options(choice)
    found = []
    for index, option in enumerate(polled):
        if index != owner:
            without = [*polled[:index], VoteOption(option.key, ""), *polled[index + 1 :]]
            if _votes_for(parse_choice(text, without), polled[owner].key):
                found.append(index)
    return found


_PRIORITY = ("sms word", "label word", "label", "letter", "key")


def _describe(way: Way, choice: Choice) -> str:
    option = choice.options[way.option]
    if way.kind == "label word":
        return f"a word of option {option.key}'s label '{option.label}'"
    if way.kind == "sms word":
        return f"an sms word of option {option.key}"
    return f"option {option.key}'s {way.kind}"


def _list(ways: Sequence[Way], choice: Choice) -> str:
    described = list(dict.fromkeys(_describe(way, choice) for way in ways))
    return " and ".join(described)
