"""``cyoa check``, ``cyoa export`` and ``cyoa new``: thin shells over the story package."""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import click

from cyoa.story.checker import check_story, errors, summarize
from cyoa.story.export import ExportError, export_steps
from cyoa.story.loader import STORY_FILE, default_story_path, load_story
from cyoa.story.model import Story
from cyoa.story.paths import TooManyPaths, enumerate_paths
from cyoa.story.problems import Problem, StoryError, blame, bug_report
from cyoa.story.results import ResultsError, load_results

STORY_ARG = click.Path(exists=True, file_okay=False, path_type=Path)
FORMAT_DOC = Path(__file__).resolve().parent / "README.md"  # shipped in the wheel too


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


LIST_LIMIT = 1000
"""More paths than anyone reads in a terminal: past this, ``cyoa check`` gives the count only."""


@click.command("check")
@click.argument("story_dir", metavar="[STORY]", required=False, type=STORY_ARG)
@click.option("--quiet", "-q", is_flag=True, help="Print the counts, not the list of paths.")
@click.option("--watch", "-w", is_flag=True, help="Check again on every save, until Ctrl-C.")
def check(story_dir: Path | None, quiet: bool, watch: bool) -> None:
    """Check a story (default: the shipped WSGI adventure) and list every path through it."""
    if watch:
        from cyoa.story.watch import watch_story

        # Ctrl-C stops it even where the launching shell left SIGINT ignored (a script's
        # background job, some CI runners): Python keeps an inherited "ignore" at start-up,
        # so the watch would never end. cyoa present does the same.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        root = story_dir or default_story_path()
        watch_story(root, lambda: _watched_check(root, quiet), click.echo)
        return
    failure = _check_report(story_dir, quiet)
    if failure:
        raise click.ClickException(failure)


def _watched_check(root: Path, quiet: bool) -> None:
    """One check of ``--watch``: the verdict as ``cyoa check`` prints it, without exiting."""
    failure = _check_report(root, quiet)
    if failure:
        click.echo(f"Error: {failure}", err=True)


def _check_report(story_dir: Path | None, quiet: bool) -> str | None:
    """Check once and print the verdict; the reason it failed, or None when it passed.

    Never raises for a story's content: an error cyoa did not expect becomes one line that
    names the file and says it is a bug in cyoa.
    """
    root = story_dir or default_story_path()
    try:
        story, problems = load_checked(root)
        _report(problems)
        _summary(story, quiet)
    except StoryError as error:
        _report(error.problems)
        return f"{plural(len(errors(error.problems)), 'error')}; fix them first"
    except Exception as error:  # a bug in cyoa: one line, never a traceback
        click.echo(bug_report(error, root), err=True)
        return "cyoa could not check this story"
    click.echo(f"OK: no errors, {plural(len(problems), 'warning')}.")
    return None


def _summary(story: Story, quiet: bool) -> None:
    with blame(story.root / STORY_FILE if story.root else None):
        summary = summarize(story)
    click.echo(f"{story.title} ({story.root})")
    paths = "too many paths" if summary.paths is None else plural(summary.paths, "path")
    counts = [
        plural(summary.scenes, "scene"),
        plural(summary.decisions, "decision"),
        plural(summary.endings, "ending"),
        paths,
    ]
    click.echo(f"{', '.join(counts)} from '{story.start}' to an ending")
    if summary.loops:
        links = ", ".join(f"{source} → {target}" for source, target in summary.loops)
        click.echo(
            f"The talk can loop: {plural(len(summary.loops), 'link')} back to an earlier "
            f"scene ({links}); a path counts when it visits no scene twice."
        )
    if quiet or summary.paths is None:
        return
    if summary.paths > LIST_LIMIT:
        click.echo(f"(more than {LIST_LIMIT} paths: not listed)")
        return
    width = len(str(summary.paths))
    for number, path in enumerate(enumerate_paths(story), start=1):
        picks = " › ".join(path.labels(story))
        click.echo(f"{number:>{width}}. {picks} → {path.ending} ({len(path.scenes)} scenes)")


@click.command("new")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--title", default="", help="The talk's title. [default: from FOLDER's name]")
def new(folder: Path, title: str) -> None:
    """Write a small story into FOLDER (new or empty) that checks and presents at once.

    A title scene, one decision, two branches (one with a demo, one with an image), two
    endings, speaker notes and a learner notebook; every file says what to change.
    """
    from cyoa.story.scaffold import ScaffoldError, write_starter

    try:
        written = write_starter(folder, title)
    except (ScaffoldError, OSError) as error:
        raise click.ClickException(str(error)) from None
    for path in written:
        click.echo(f"  wrote {path}")
    click.echo(
        f"A new story in {folder}. Next:\n"
        f"  cyoa check {folder} --watch     # checks again on every save\n"
        f"  cyoa present {folder} --rehearse  # a rehearsal: its votes never count for the talk\n"
        f"The story format: {FORMAT_DOC}"
    )


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
    except Exception as error:  # a bug in cyoa: one line, never a traceback
        click.echo(bug_report(error, story_dir or default_story_path()), err=True)
        raise click.ClickException("cyoa could not check this story; not exporting") from None
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
    except StoryError as error:  # a recording that cannot be read
        _report(error.problems)
        raise click.ClickException("export stopped; fix the file above") from None
    except TooManyPaths as error:
        raise click.ClickException(f"cannot list every path of this story: {error}") from None
    click.echo(
        f"Wrote {plural(len(story.scenes), 'scene page')} to {out}; open {out / 'index.html'}"
    )


def _served_exports(url: str, token: str, story: Story) -> list[dict]:
    """The results exports of this story's talks on the vote server at ``url`` (presenter
    API, docs/http.md), oldest first; rehearsals left out (their votes never counted)."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    base = url.rstrip("/")
    try:
        listing = session.get(f"{base}/api/talks", timeout=10)
        if listing.status_code == 401:
            raise click.ClickException(f"the vote server at {url} refused the presenter token")
        listing.raise_for_status()
        exports = []
        for row in listing.json()["talks"]:
            talk = row["talk"]
            state = session.get(f"{base}/api/state", params={"talk": talk}, timeout=10).json()
            if state.get("story") != story.name or state.get("rehearsal"):
                continue
            answer = session.get(f"{base}/api/talks/{talk}/export.json", timeout=10)
            answer.raise_for_status()
            exports.append(answer.json())
        return exports
    except requests.RequestException as error:
        raise click.ClickException(f"cannot read the talks from {url}: {error}") from None


def _stored_exports(state_dir: str, story: Story) -> list[dict]:
    """The same, read straight from the state directory's Redis (no vote server running)."""
    from cyoa.voteserver.app import connect
    from cyoa.voteserver.embedded import EmbeddedRedis
    from cyoa.voteserver.settings import load_config
    from cyoa.voteserver.store import VoteStore

    config = load_config({"state_dir": state_dir or None})
    embedded = None if config.redis_url else EmbeddedRedis(config.state_dir)
    try:
        store = VoteStore(connect(config.redis_url or embedded.start(), timeout=5))  # type: ignore[union-attr]
        exports = []
        for row in store.list_talks():
            state = store.get_state(row["talk"])
            if state.story == story.name and not state.rehearsal:
                exports.append(store.export(row["talk"]))
        return exports
    finally:
        if embedded is not None:
            embedded.stop()


def _presenter_token(state_dir: str) -> str:
    """CYOA_PRESENTER_TOKEN, else the one ``cyoa present`` keeps in the state folder."""
    import os

    from cyoa.voteserver.settings import load_config

    token = os.environ.get("CYOA_PRESENTER_TOKEN", "")
    file = Path(load_config({"state_dir": state_dir or None}).state_dir) / "presenter_token"
    return token or (file.read_text().strip() if file.is_file() else "")


def compare_results(
    every: bool,
    files: tuple[Path, ...],
    story_dir: Path | None,
    url: str,
    state_dir: str,
    html_out: Path | None,
) -> None:
    """``cyoa results --all`` and ``cyoa results FILE...``: how the talks of a story chose
    at each decision, and each talk's path; ``html_out`` gets the Sankey page (one file,
    plotly.js inside, works offline). ``every``: this story's talks from the vote server at
    ``url``, else from the state directory's Redis; FILES: exports from other events."""
    from cyoa.story.compare import comparison_page, talk_path
    from cyoa.story.results import results_from_export

    try:
        story, _ = load_checked(story_dir)
    except StoryError as error:
        _report(error.problems)
        raise click.ClickException("the story has errors; fix them first") from None
    exports = []
    if every:
        exports = (
            _served_exports(url, _presenter_token(state_dir), story)
            if url
            else _stored_exports(state_dir, story)
        )
    rooms = [results_from_export(data, story) for data in exports]
    for file in files:
        try:
            rooms.append(load_results(file, story))
        except ResultsError as error:
            raise click.ClickException(str(error)) from None
    talks = [talk_path(story, room) for room in rooms if room.path]
    if not talks:
        raise click.ClickException(f"no talk of '{story.name}' found")
    click.echo(f"{story.title}: {plural(len(talks), 'talk')}")
    for talk in talks:
        picks = " › ".join(pick.label for pick in talk.picks) or "(no decision)"
        stop = story.by_id[talk.stop].title + ("" if talk.ended else " (stopped)")
        click.echo(f"  {talk.talk}: {picks} → {stop}")
    click.echo("At each decision:")
    for decision in story.decisions:
        counts = Counter(
            pick.label for talk in talks for pick in talk.picks if pick.scene == decision.id
        )
        if counts and decision.choice:
            shares = ", ".join(f"{label} {plural(n, 'talk')}" for label, n in counts.most_common())
            click.echo(f"  {decision.choice.question} {shares}")
    if html_out:
        try:
            page = comparison_page(story, talks)
        except ImportError:
            raise click.ClickException("--html needs plotly: pip install 'cyoa[deck]'") from None
        html_out.write_text(page, encoding="utf-8")
        click.echo(f"Wrote {html_out}")


commands: list[click.Command] = [check, export, new]
