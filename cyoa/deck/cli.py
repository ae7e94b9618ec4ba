"""``cyoa present`` (run a talk) and ``cyoa results`` (what the room chose), thin over functions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click


@click.command()
@click.argument("story", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--from", "from_scene", default="", help="Start at this scene (rehearse a branch).")
@click.option("--no-browser", is_flag=True, help="Do not open the deck in a browser.")
@click.option(
    "--port",
    type=int,
    envvar="CYOA_PORT",
    default=8000,
    show_default=True,
    help="The vote server's port (all interfaces: phones reach it).",
)
@click.option("--deck-port", type=int, default=0, help="Voilà's port (loopback). [port + 1]")
@click.option("--state-dir", envvar="CYOA_STATE_DIR", default="", help="Votes, logs, lock.")
@click.option("--new-talk", is_flag=True, help="Start a new talk instead of resuming one.")
@click.option(
    "--resume", is_flag=True, help="Go on with the current talk, however long ago it moved."
)
@click.option(
    "--rehearse",
    is_flag=True,
    help="A rehearsal: its votes, path and clock never become the live talk's.",
)
@click.option(
    "--public-url",
    envvar="CYOA_PUBLIC_URL",
    default="",
    help="The audience URL for the QR code (a tunnel, a proxy, another address).",
)
@click.option("--theme", type=click.Choice(["dark", "light"]), default="dark", show_default=True)
@click.option(
    "--watch",
    "-w",
    is_flag=True,
    help="Reload the story on every save: both windows show the edit, at the same scene.",
)
def present(
    story: str | None,
    from_scene: str,
    no_browser: bool,
    port: int,
    deck_port: int,
    state_dir: str,
    new_talk: bool,
    resume: bool,
    rehearse: bool,
    public_url: str,
    theme: str,
    watch: bool,
) -> None:
    """Start the vote server and the deck; print the URLs; Ctrl-C stops everything.

    A live talk resumes after a crash or restart (if it moved in the last 30 minutes);
    otherwise a new one starts. A rehearsal (--rehearse) is a talk of its own. --watch
    reloads the story on every save; a save that does not check shows the checker's
    messages on the slide until the next good one.
    """
    if new_talk and resume:
        raise click.UsageError("--new-talk and --resume contradict each other")
    if public_url and not public_url.startswith(("http://", "https://")):
        raise click.BadParameter("must start with http:// or https://", param_hint="--public-url")
    from cyoa.present import PresentError, Settings
    from cyoa.present import present as run
    from cyoa.voteserver.settings import load_config

    config = load_config({"state_dir": state_dir or None})
    settings = Settings(
        story=Path(story or _default_story()).resolve(),
        state_dir=Path(config.state_dir),
        port=port,
        deck_port=deck_port or port + 1,
        from_scene=from_scene,
        new_talk=new_talk,
        resume=resume,
        rehearse=rehearse,
        theme=theme,
        watch=watch,
        open_browser=not no_browser,
        redis_url=config.redis_url,
        public_url=public_url or config.public_url,
        sms_number=config.twilio_number,
        token=config.presenter_token,
    )
    try:
        run(settings)
    except PresentError as error:
        raise click.ClickException(str(error)) from None


def _default_story() -> Path:
    from cyoa.story.loader import default_story_path

    return default_story_path()


@click.command()
@click.option("--talk", default="", help="Talk id (default: the current talk).")
@click.option("--url", default="", help="Ask this running vote server instead of the state dir.")
@click.option("--state-dir", envvar="CYOA_STATE_DIR", default="", help="Where the votes are.")
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help="Folder for cyoa-results-<talk>.json and .csv.",
)
@click.option(
    "--story",
    "story_path",
    type=click.Path(exists=True, file_okay=False),
    help="The story, to name the option each decision followed.",
)
@click.option("--all", "every", is_flag=True, help="Every talk of the story, compared.")
@click.option(
    "--html",
    "html_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --all or FILES: write the Sankey page of every path here (works offline).",
)
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
def results(
    talk: str,
    url: str,
    state_dir: str,
    out: str,
    story_path: str | None,
    every: bool,
    html_out: Path | None,
    files: tuple[Path, ...],
) -> None:
    """Print the path the talk took with every decision's tally; write the JSON/CSV export.

    With --all (this story's talks on the server or in the state dir) and/or results FILES
    (exports from other events): how every talk chose at each decision, and each talk's path.
    """
    if every or files:  # issue 11, "every audience, compared": cyoa/story/compare.py
        from cyoa.story.cli import compare_results

        story_dir = Path(story_path) if story_path else None
        compare_results(every, files, story_dir, url, state_dir, html_out)
        return
    from cyoa.deck.results import ResultsError, fetch, report

    try:
        data, table = fetch(talk, url, state_dir)
    except ResultsError as error:
        raise click.ClickException(str(error)) from None
    click.echo(report(data, _story(story_path)))
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / f"cyoa-results-{data['talk']}"
    base.with_suffix(".json").write_text(json.dumps(data, indent=2) + "\n")
    base.with_suffix(".csv").write_text(table)
    click.echo(f"wrote {base}.json and {base}.csv")


def _story(path: str | None) -> Any:
    try:
        from cyoa.deck.deck import load_story

        return load_story(path)
    except Exception:  # a missing or broken story only loses the option labels
        return None


commands: list[click.Command] = [present, results]
