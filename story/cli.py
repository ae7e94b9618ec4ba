"""``cyoa check`` and ``cyoa export``: thin shells over the loader, checker and exporter."""

from __future__ import annotations

from pathlib import Path

import click

from story.checker import check_story, errors, summarize
from story.loader import default_story_path, load_story
from story.model import Story
from story.paths import enumerate_paths
from story.problems import Problem, StoryError

STORY_ARG = click.Path(exists=True, file_okay=False, path_type=Path)


def load_checked(story_dir: Path | None) -> tuple[Story, list[Problem]]:
    """Load and check a story; raise StoryError carrying every error (and warning) found."""
    story = load_story(story_dir or default_story_path())
    problems = check_story(story)
    if errors(problems):
        raise StoryError(problems)
    return story, problems


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _report(problems: list[Problem]) -> None:
    for problem in problems:
        click.echo(str(problem), err=True)


@click.command("check")
@click.argument("story_dir", metavar="[STORY]", required=False, type=STORY_ARG)
@click.option("--quiet", "-q", is_flag=True, help="Print the counts, not the list of paths.")
def check(story_dir: Path | None, quiet: bool) -> None:
    """Check a story (default: the shipped WSGI adventure) and list every path through it."""
    try:
        story, problems = load_checked(story_dir)
    except StoryError as error:
        _report(error.problems)
        message = f"{plural(len(errors(error.problems)), 'error')}; fix them first"
        raise click.ClickException(message) from None
    _report(problems)
    summary = summarize(story)
    click.echo(f"{story.title} ({story.root})")
    counts = [
        plural(summary.scenes, "scene"),
        plural(summary.decisions, "decision"),
        plural(summary.endings, "ending"),
        plural(summary.paths, "path"),
    ]
    click.echo(f"{', '.join(counts)} from '{story.start}' to an ending")
    if not quiet:
        width = len(str(summary.paths))
        for number, path in enumerate(enumerate_paths(story), start=1):
            picks = " › ".join(path.labels(story))
            click.echo(f"{number:>{width}}. {picks} → {path.ending} ({len(path.scenes)} scenes)")
    click.echo(f"OK: no errors, {plural(len(problems), 'warning')}.")


commands: list[click.Command] = [check]
