"""What the loader and the checker report: an error or a warning, with file, line and scene."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a story, phrased for the person who edits the file."""

    message: str
    file: Path | None = None
    line: int | None = None
    scene: str | None = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = _display(self.file) + (f":{self.line}" if self.line else "") + ": "
        scene = f"scene '{self.scene}': " if self.scene else ""
        return f"{where}{self.severity}: {scene}{self.message}"

    @property
    def sort_key(self) -> tuple[str, int, str]:
        return (str(self.file or ""), self.line or 0, self.message)


class StoryError(Exception):
    """A story that cannot be loaded or used; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda problem: problem.sort_key)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def _display(path: Path) -> str:
    """A path relative to the current folder when it is inside it: shorter to read."""
    absolute = Path(path).resolve()
    here = Path(os.getcwd()).resolve()
    return str(absolute.relative_to(here)) if absolute.is_relative_to(here) else str(absolute)


@contextlib.contextmanager
def blame(file: Path | None) -> Iterator[None]:
    """Mark an unexpected error raised in this block with the file being read or checked.

    ``cyoa check`` turns such an error into one line naming that file (see ``bug_report``)
    instead of a traceback; the innermost ``blame`` wins.
    """
    try:
        yield
    except StoryError:
        raise
    except Exception as error:
        if file is not None and getattr(error, "story_file", None) is None:
            with contextlib.suppress(AttributeError):
                error.story_file = file  # type: ignore[attr-defined]
        raise


def bug_report(error: BaseException, fallback: Path | None) -> str:
    """One line for an error cyoa did not expect: the file, what broke, and whose fault."""
    file = getattr(error, "story_file", None) or fallback
    where = f"{_display(file)}: " if file is not None else ""
    reason = f"{type(error).__name__}: {error}".strip().rstrip(":")
    reason = " ".join(reason.split())[:300]
    return (
        f"{where}error: cyoa failed on this file ({reason}). This is a bug in cyoa, not in "
        "your story: please report it with this line."
    )
