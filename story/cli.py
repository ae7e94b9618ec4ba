"""``cyoa check`` and ``cyoa export``: thin shells over the loader, checker and exporter."""

from __future__ import annotations

from pathlib import Path

import click

from story.checker import check_story, errors, summarize
from story.export import ExportError, export_steps
from story.loader import default_story_path, load_story
from story.model import Story
from story.paths import enumerate_paths
from story.problems import Problem, StoryError
from story.results import ResultsError, load_results

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


@click.command("export")
@click.argument(
    "paths", nargs=-1, required=True, metavar="[STORY] OUT", type=click.Path(path_type=Path)
)
@click.option(
    "--results",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The vote server's results export (JSON): highlights the path the room took.",
)
def export(paths: tuple[Path, ...], results: Path | None) -> None:
    """Export a story as a static site in OUT: a story map, every scene, a printable handout.

    STORY defaults to the shipped WSGI adventure. The site works from file:// and any static
    host, and loads nothing from the network.
    """
    if len(paths) > 2:
        raise click.UsageError("expected [STORY] OUT")
    story_dir, out = (paths[0], paths[1]) if len(paths) == 2 else (None, paths[0])
    if story_dir is not None and not story_dir.is_dir():
        raise click.BadParameter(f"{story_dir} is not a folder", param_hint="STORY")
    try:
        story, problems = load_checked(story_dir)
    except StoryError as error:
        _report(error.problems)
        message = f"{plural(len(errors(error.problems)), 'error')}; not exporting"
        raise click.ClickException(message) from None
    _report(problems)
    try:
        room = load_results(results, story) if results else None
    except ResultsError as error:
        raise click.ClickException(str(error)) from None
    if room is not None and room.story and room.story != story.name:
        click.echo(f"warning: {results} is for story '{room.story}', not '{story.name}'", err=True)
    steps = export_steps(story, out, room)
    try:
        with click.progressbar(
            steps, label="Exporting", item_show_func=lambda s: s.label if s else ""
        ) as bar:
            for step in bar:
                step.run()
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Wrote {plural(len(story.scenes), 'scene page')} to {out}; open {out / 'index.html'}"
    )


commands: list[click.Command] = [check, export]
