"""``cyoa notebooks DIR``: the learners' notebooks, copied out of the installed cyoa.

An installed wheel keeps them inside site-packages, where a learner should neither look nor
save; this puts them in a folder of their own, ready for JupyterLab.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click


@click.command("notebooks")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def notebooks(folder: Path) -> None:
    """Copy the learners' notebooks (explore, learn-1 to learn-5) into FOLDER.

    Never overwrites: run it again and the notebooks already there are left alone; if one of
    them differs (your edits or outputs), nothing is copied and the command says which.
    """
    from cyoa.shipped import CopyRefused, copy_learner_notebooks

    try:
        done = copy_learner_notebooks(folder)
    except CopyRefused as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"cannot copy into {folder}: {error}") from None
    for path in done.written:
        click.echo(f"  wrote {path}")
    for path in done.unchanged:
        click.echo(f"  kept  {path} (already the shipped one)")
    click.echo(f"Open them with: jupyter lab {folder}")
    if importlib.util.find_spec("jupyterlab") is None:
        click.echo("(JupyterLab comes with the deck extra: pip install 'cyoa[deck,demos]')")


commands: list[click.Command] = [notebooks]
