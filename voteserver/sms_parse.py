"""Reading a vote out of a text message, forgivingly.

People text ``2``, `` 2 ``, ``#2``, ``option 2``, ``B``, ``2️⃣`` or ``dachshund!``; all of
them mean the same option. This module is a pure function of the body and the poll's
options, so it is tested without a server. It only ever answers with the key of one of the
options it was given (never with text from the body), or with "not a vote".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cyoa.voteserver.store import Option

# Whole-message keywords that Twilio handles itself (Advanced Opt-Out); never votes.
OPT_OUT = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN = frozenset({"START", "YES", "UNSTOP"})
HELP = frozenset({"HELP", "INFO"})

# Words people wrap around a choice ("I vote for option 2 please"): they name no option.
FILLER = frozenset(
    "an and answer choice choose for go id im is it my no nr num number opt option pick "  # noqa: SIM905
    "please pls plz the to vote voting want with".split()
)
# Label words too common to name an option by themselves.
STOPWORDS = frozenset("a an and at by for in of on or the to with".split())  # noqa: SIM905
LETTERS = "abcdefghi"  # "B" is the second option; polls have at most 9 options
MAX_SCAN = 1600  # Twilio's longest body; anything longer is not read further
TOKEN = re.compile(r"\d+|[^\W\d_]+")


@dataclass(frozen=True)
class ParsedSms:
    """What a text message asks for: ``kind`` is vote, optout, optin, help or unknown."""

    kind: str
    key: str = ""


def normalize(text: str) -> str:
    """Fold width, circled digits, accents and case, so ``２``, ``②`` and ``2`` agree."""
    text = unicodedata.normalize("NFKD", text[:MAX_SCAN])
    text = "".join(c for c in text if not unicodedata.combining(c))
    return unicodedata.normalize("NFKC", text).casefold()


def tokens(text: str) -> list[str]:
    """Runs of letters or of digits; emoji, punctuation and whitespace separate them."""
    found = TOKEN.findall(normalize(text))
    return [str(int(t)) if t.isdecimal() and len(t) <= 4 else t for t in found]


def keyword(body: str) -> str:
    """The opt-out/opt-in/help kind when the whole message is one such keyword, else ""."""
    found = tokens(body)
    word = found[0].upper() if len(found) == 1 else ""
    if word in OPT_OUT:
        return "optout"
    if word in OPT_IN:
        return "optin"
    if word in HELP:
        return "help"
    return ""


def _label_words(option: Option) -> set[str]:
    words = {w for w in tokens(option.label) if len(w) >= 3 and w not in STOPWORDS | FILLER}
    words |= {" ".join(tokens(w)) for w in option.words if tokens(w)}
    return words


def _index(options: Sequence[Option]) -> dict[str, set[int]]:
    """Word -> the options (by position) it names: label words, then keys and positions."""
    index: dict[str, set[int]] = {}
    for i, option in enumerate(options):
        for word in _label_words(option):
            index.setdefault(word, set()).add(i)
    keys = {" ".join(tokens(o.key)): i for i, o in enumerate(options)}
    if not any(k.isdecimal() and len(k) == 1 for k in keys):  # digit keys win over positions
        index.update({str(i + 1): {i} for i in range(len(options))})
    index.update({k: {i} for k, i in keys.items()})  # a key names its own option only
    return index


def parse_choice(body: str | None, options: Sequence[Option]) -> ParsedSms:
    """Read one option out of ``body``; anything unclear is ``unknown`` (never a guess)."""
    body = body or ""
    kind = keyword(body)
    if kind:
        return ParsedSms(kind)
    words = tokens(body)
    if not words or not options:
        return ParsedSms("unknown")
    whole = " ".join(words)
    for option in options:  # the whole key ("opt-1") or label, even a short one ("No")
        if whole in (" ".join(tokens(option.key)), " ".join(tokens(option.label))):
            return ParsedSms("vote", option.key)
    index = _index(options)
    named: set[int] = set()
    for word in set(words):
        named |= index.get(word, set())
        if len(word) > 3 and word.endswith("s"):  # "dachshunds"
            named |= index.get(word[:-1], set())
    for phrase, owners in index.items():  # multi-word keys and extra words ("doc send")
        if " " in phrase and f" {phrase} " in f" {whole} ":
            named |= owners
    meaningful = [w for w in words if w not in FILLER]
    letters = LETTERS[: len(options)]
    if any(len(o.key) == 1 and o.key.isalpha() for o in options):
        letters = ""  # letter keys are keys, not positions
    if not named and len(meaningful) == 1 and len(meaningful[0]) == 1 and meaningful[0] in letters:
        named = {LETTERS.index(meaningful[0])}  # "B", "option b": the second option
    if len(named) == 1:
        return ParsedSms("vote", options[named.pop()].key)
    return ParsedSms("unknown")
