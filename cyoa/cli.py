"""The one console command, ``cyoa``: a click group that gathers each package's commands.

Each package owns its commands (``voteserver.cli``, ``story.cli``); this module only
assembles them, so the parts stay independent and testable.
"""

from __future__ import annotations

import click

from cyoa import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cyoa")
def main() -> None:
    """Choose-your-own-adventure talks: the story, the deck, and the audience's votes."""


def _register() -> None:
    from cyoa.deck.cli import commands as deck_commands
    from cyoa.demos_cli import commands as demo_commands
    from cyoa.notebooks_cli import commands as notebook_commands
    from cyoa.story.cli import commands as story_commands
    from cyoa.voteserver.cli import commands as vote_commands

    for command in (
        *vote_commands,
        *story_commands,
        *deck_commands,
        *demo_commands,
        *notebook_commands,
    ):
        main.add_command(command)


_register()
