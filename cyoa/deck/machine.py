"""The talk as a plain-Python state machine: where we are, how we got here, what next does.

No widgets, no network: the deck, the presenter view and the tests all drive this one class,
and the vote server only feeds it tallies. Keeping it pure is what lets a clicker press, a
dead Wi-Fi and a reload all be tested in milliseconds.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cyoa.story.model import Choice, Option, Scene, Story

STATUSES = ("none", "draft", "open", "closed")


def poll_id(scene_id: str) -> str:
    """The vote server's poll id for a decision scene (ids are 1-64 of ``[A-Za-z0-9._-]``)."""
    return (re.sub(r"[^A-Za-z0-9._-]", "-", scene_id) or "poll")[:64]


@dataclass
class Tally:
    """What the deck knows about one poll, from the vote server or from the last good read."""

    status: str = "none"
    votes: dict[str, int] = field(default_factory=dict)
    total: int = 0
    final: bool = False  # the count read after the close: safe to decide on
    hide_results: bool = False  # the room sees no counts until the final one
    closes_in: float | None = None  # seconds left of the time limit when last read
    read_at: float = 0.0  # when (monotonic) that was read

    def seconds_left(self, now: float | None = None) -> int | None:
        """Whole seconds left of an open vote's time limit, counted on from the last read;
        None when the vote is not open or has no limit."""
        if self.status != "open" or self.closes_in is None:
            return None
        elapsed = (time.monotonic() if now is None else now) - self.read_at
        return max(0, math.ceil(self.closes_in - elapsed))

    def leader(self) -> str | None:
        """The single option with the most votes; None when nobody voted or on a tie."""
        if not self.votes:
            return None
        best = max(self.votes.values())
        leaders = [key for key, votes in self.votes.items() if votes == best]
        return leaders[0] if best > 0 and len(leaders) == 1 else None


@dataclass(frozen=True)
class Step:
    """What a key press did: ``moved``, ``closing``, ``pick``, ``confirm``, ``reopen``,
    ``reset``, ``end`` or ``stay``."""

    outcome: str
    message: str = ""


class Talk:
    """One run through a story: the current scene, the path so far, and every poll's tally."""

    def __init__(self, story: Story, scene: str | None = None, path: list[str] | None = None):
        self.story = story
        self.path: list[str] = [story.start]
        self.tallies: dict[str, Tally] = {}
        self.picks: dict[str, str] = {}  # poll -> option key chosen by hand
        self.closing: set[str] = set()  # polls closed here, not yet confirmed by the server
        self.confirm: str | None = None  # default option awaiting a second "next"
        self.message = ""
        if scene or path:
            self.jump(scene or path[-1], path)  # type: ignore[index]

    # -- where we are --------------------------------------------------------------------
    @property
    def scene(self) -> Scene:
        return self.story.scene(self.path[-1])

    @property
    def choice(self) -> Choice | None:
        return self.scene.choice

    @property
    def poll(self) -> str | None:
        """The poll of the current scene, if it is a decision."""
        return poll_id(self.scene.id) if self.choice else None

    def tally(self, poll: str | None = None) -> Tally:
        poll = poll or self.poll or ""
        return self.tallies.setdefault(poll, Tally())

    def is_closed(self, poll: str | None = None) -> bool:
        poll = poll or self.poll or ""
        return poll in self.closing or self.tally(poll).status == "closed" or poll in self.picks

    def upcoming(self) -> list[tuple[str | None, str]]:
        """(option key or None, scene id) for every way on from here: the presenter's preview."""
        return list(self.scene.edges)

    def option(self, number: int) -> Option | None:
        """Option ``number`` (1-based, as on screen and on the number keys)."""
        if self.choice and 1 <= number <= len(self.choice.options):
            return self.choice.options[number - 1]
        return None

    def hidden(self) -> bool:
        """Keep the counts off the projector: a hide-results decision before its final count."""
        choice, tally = self.choice, self.tally()
        hide = choice is not None and (choice.hide_results or tally.hide_results)
        return hide and not tally.final

    def decided(self) -> Option | None:
        """The option next would follow now: a pick by hand, else the winner of the final
        count (the server's tally after the close; never an earlier read)."""
        choice, poll = self.choice, self.poll
        if choice is None or poll is None:
            return None
        tally = self.tally(poll)
        key = self.picks.get(poll) or (tally.leader() if tally.final else None)
        return choice.option(key) if key else None

    # -- moving --------------------------------------------------------------------------
    def _go(self, scene_id: str) -> Step:
        if scene_id not in self.story.by_id:  # a story that does not check (--watch)
            self.message = f"No scene '{scene_id}': fix the story, then go on."
            return Step("stay", self.message)
        self.path.append(scene_id)
        self.confirm, self.message = None, ""
        return Step("moved")

    def next(self, online: bool = True) -> Step:
        """Advance: follow ``next``; at a decision, close the vote first, then follow the winner.

        A vote decides only on the server's final tally (read after the close). ``online``
        says whether that count can still arrive: online, next waits for it; offline, the
        presenter picks by hand. The last tally polled before the close is never used: one
        slow answer at that moment would pick a branch from old numbers.
        """
        scene, choice, poll = self.scene, self.choice, self.poll
        if choice is None or poll is None:
            if scene.next:
                return self._go(scene.next)
            self.message = "The end." if scene.ending else ""
            return Step("end", self.message)
        if poll in self.picks:
            return self._go(choice.option(self.picks[poll]).goto)  # type: ignore[union-attr]
        if not self.is_closed(poll):
            return self.close_vote()
        numbers = f"1-{len(choice.options)}"
        if not self.tally(poll).final:
            if online:
                self.message = "Counting the last votes…"
                return Step("closing", self.message)
            self.message = (
                f"No final count: the vote server is not answering. Press {numbers} to pick."
            )
            return Step("pick", self.message)
        option = self.decided()
        if option is not None:
            return self._go(option.goto)
        default = choice.option(choice.default) if choice.default else None
        if default is not None and self.confirm == default.key:
            self.picks[poll] = default.key
            return self._go(default.goto)
        why = "No votes" if not self.tally(poll).total else "A tie"
        if default is not None:
            self.confirm = default.key
            self.message = (
                f"{why}: press next again for the default, “{default.label}”, or {numbers} to pick."
            )
            return Step("confirm", self.message)
        self.message = f"{why}: press {numbers} to pick the branch."
        return Step("pick", self.message)

    def back(self) -> Step:
        """Return to the previous scene of the path (the path forgets the scene we leave)."""
        if len(self.path) < 2:
            return Step("stay")
        self.path.pop()
        self.confirm, self.message = None, ""
        return Step("moved")

    def pick(self, number: int) -> Step:
        """Choose option ``number`` by hand (a tie, no network, or the room shouting): go there."""
        option, poll = self.option(number), self.poll
        if option is None or poll is None:
            return Step("stay")
        self.picks[poll] = option.key
        if self.tally(poll).status != "closed":
            self.closing.add(poll)  # the room stops voting once the presenter has chosen
        return self._go(option.goto)

    def close_vote(self) -> Step:
        """Stop the vote at this decision (the server is told by the sync loop)."""
        poll = self.poll
        if poll is None or self.is_closed(poll):
            return Step("stay")
        self.closing.add(poll)
        self.message = "Vote closed."
        return Step("closing", self.message)

    def reopen(self) -> Step:
        """Let the room vote again on this decision (after a mistaken close)."""
        poll = self.poll
        if poll is None:
            return Step("stay")
        self.closing.discard(poll)
        self.picks.pop(poll, None)
        tally = self.tally(poll)
        tally.status, tally.final = "open", False
        self.confirm, self.message = None, ""
        return Step("reopen")

    def reset(self) -> Step:
        """Forget this decision's votes and pick and let the room vote again (a rehearsal's
        votes, a prankster's flood); the sync loop resets and reopens the server's poll."""
        poll = self.poll
        if poll is None:
            return Step("stay")
        self.closing.discard(poll)
        self.picks.pop(poll, None)
        self.tallies[poll] = Tally(status="open")
        self.confirm, self.message = None, "Votes reset: the room votes again."
        return Step("reset", self.message)

    def jump(self, scene_id: str, path: list[str] | None = None) -> Step:
        """Go to any scene (presenter view, ``--from``, a resumed talk); keep a valid path."""
        if scene_id not in self.story.by_id:
            return Step("stay", f"no scene {scene_id!r}")
        known = [s for s in (path or []) if s in self.story.by_id]
        if path is not None:
            self.path = known if known and known[-1] == scene_id else [*known, scene_id]
        elif self.path[-1] != scene_id:
            self.path.append(scene_id)
        self.confirm, self.message = None, ""
        return Step("moved")

    def use_story(self, story: Story) -> None:
        """Go on with an edited story (``cyoa present --watch``): the same place where its
        scene is still there, else the last scene of the path that is."""
        self.story = story
        self.path = [scene for scene in self.path if scene in story.by_id] or [story.start]
        self.confirm = None

    # -- what the vote server says ---------------------------------------------------------
    def update(self, poll: str, results: dict | None, at: float | None = None) -> Tally:
        """Take a results document (``GET /api/polls/<poll>``) read at monotonic time ``at``
        (default: now); None means no such poll yet."""
        tally = self.tally(poll)
        if results is None:
            tally.status = "none"
            return tally
        votes = {o["key"]: int(o["votes"] or 0) for o in results.get("options", [])}
        tally.votes, tally.total = votes, int(results.get("total") or sum(votes.values()))
        tally.status = results.get("status", "draft")
        tally.hide_results = bool(results.get("hide_results"))
        closes_in = results.get("closes_in")
        tally.closes_in = float(closes_in) if isinstance(closes_in, int | float) else None
        tally.read_at = time.monotonic() if at is None else at
        if tally.status == "closed":
            tally.final = True
            self.closing.discard(poll)
        return tally
