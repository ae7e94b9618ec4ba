"""A story folder's verdict, for whatever follows an author's saves: the story, and the
checker's error lines as ``cyoa check`` prints them (the deck under ``--watch``, and the vote
server's end pages, ``voteserver/story_pages.py``)."""

from __future__ import annotations

from pathlib import Path

from cyoa.story.checker import check_story, errors
from cyoa.story.loader import load_story
from cyoa.story.model import Story
from cyoa.story.problems import Problem, StoryError, bug_report


def checked(root: Path) -> tuple[Story | None, list[str]]:
    """The story in ``root`` (None if it does not load) and the checker's error messages
    (none: it checks, and may be shown)."""
    story = None
    try:
        story = load_story(root)
        problems = errors(check_story(story))
    except StoryError as error:
        return story, problem_lines(errors(error.problems) or error.problems, root)
    except Exception as error:  # a bug in cyoa: one line, as cyoa check gives it
        return story, [bug_report(error, root)]
    return story, problem_lines(problems, root)


def problem_lines(problems: list[Problem], root: Path) -> list[str]:
    """Each problem as ``cyoa check`` prints it, its file named from the story folder."""
    lines = []
    for problem in problems:
        where = ""
        if problem.file is not None:
            file = Path(problem.file).resolve()
            base = Path(root).resolve()
            name = str(file.relative_to(base)) if file.is_relative_to(base) else str(file)
            where = name + (f":{problem.line}" if problem.line else "") + ": "
        scene = f"scene '{problem.scene}': " if problem.scene else ""
        lines.append(f"{where}{problem.severity}: {scene}{problem.message}")
    return lines
