"""The room's choices, as the vote server exports them, for the export to highlight.

Shape (from the vote server): ``{"talk", "story", "path": [scene ids in order], "polls":
[{"poll", "scene", "question", "options": [{"key", "label", "votes"}], "total", "winner"}]}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cyoa.story.model import Story


class ResultsError(ValueError):
    """A results file that is not the vote server's export, or is for another story."""


@dataclass(frozen=True)
class OptionResult:
    key: str
    label: str
    votes: int


@dataclass(frozen=True)
class PollResult:
    poll: str
    scene: str
    question: str
    options: tuple[OptionResult, ...]
    total: int
    winner: str | None

    def share(self, key: str) -> tuple[int, int]:
        """(votes, percent of the total) for option ``key``."""
        votes = next((option.votes for option in self.options if option.key == key), 0)
        return votes, round(100 * votes / self.total) if self.total else 0


@dataclass(frozen=True)
class Results:
    """Which way the room went: the path it took, and the votes at each decision."""

    talk: str
    story: str
    path: tuple[str, ...]
    polls: tuple[PollResult, ...] = ()

    @property
    def steps(self) -> set[tuple[str, str]]:
        """Every (scene, next scene) pair the talk moved along."""
        return set(zip(self.path, self.path[1:], strict=False))

    def poll_for(self, scene_id: str) -> PollResult | None:
        """The last poll held at ``scene_id`` (a rerun vote replaces the first)."""
        found = [poll for poll in self.polls if poll.scene == scene_id]
        return found[-1] if found else None


def load_results(file: Path, story: Story) -> Results:
    """Read and validate a results export against ``story``; raise ResultsError if unusable."""
    try:
        data = json.loads(Path(file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ResultsError(f"{file}: cannot read the results: {error}") from None
    try:
        results = _parse(data)
    except (KeyError, TypeError, ValueError) as error:
        raise ResultsError(f"{file}: not a results export from the vote server ({error})") from None
    unknown = [scene_id for scene_id in results.path if scene_id not in story.by_id]
    if unknown:
        raise ResultsError(
            f"{file}: the path names scenes that are not in '{story.name}': {', '.join(unknown)}"
        )
    return results


def results_from_export(data: Any, story: Story) -> Results:
    """The vote server's export of one talk (already parsed JSON), checked against ``story``;
    scenes the story no longer has are dropped from the path (the story was edited since)."""
    try:
        results = _parse(data)
    except (KeyError, TypeError, ValueError) as error:
        raise ResultsError(f"not a results export from the vote server ({error})") from None
    path = tuple(scene_id for scene_id in results.path if scene_id in story.by_id)
    return Results(results.talk, results.story, path, results.polls)


def _parse(data: Any) -> Results:
    if not isinstance(data, dict) or not isinstance(data["path"], list):
        raise TypeError("expected an object with a 'path' list")
    polls = tuple(
        PollResult(
            poll=str(poll["poll"]),
            scene=str(poll["scene"]),
            question=str(poll.get("question", "")),
            options=tuple(
                OptionResult(str(option["key"]), str(option.get("label", "")), int(option["votes"]))
                for option in poll.get("options", [])
            ),
            total=int(poll.get("total", 0)),
            winner=None if poll.get("winner") is None else str(poll["winner"]),
        )
        for poll in data.get("polls", [])
    )
    return Results(
        talk=str(data.get("talk") or ""),
        story=str(data.get("story") or ""),
        path=tuple(str(scene_id) for scene_id in data["path"]),
        polls=polls,
    )
