"""``cyoa record-demos``: a thin shell over :mod:`cyoa.demos.record`.

Kept apart from ``cyoa.demos`` so that ``cyoa --help`` does not import every demo.
"""

from __future__ import annotations

from pathlib import Path

import click


@click.command("record-demos")
@click.argument("story_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--only", multiple=True, help="Record just this demo (repeatable).")
@click.option(
    "--product",
    "only_products",
    multiple=True,
    help="Record just this product's run (repeatable; default: every product).",
)
def record_demos(
    story_dir: Path | None, only: tuple[str, ...], only_products: tuple[str, ...]
) -> None:
    """Run every demo the story uses, once per product, and save its code and output in the
    story's recordings/ (<demo>.json for the default product, <demo>.<product>.json else)."""
    from cyoa.demos.record import products, record_demo
    from cyoa.story.demos import RECORDINGS_DIR, notebook_demos
    from cyoa.story.loader import default_story_path, load_story

    story = load_story(story_dir or default_story_path())
    if story.notebooks_path is None:
        raise click.ClickException(
            f"story.yaml's notebooks: '{story.notebooks}' is not a folder (cyoa check says why)"
            if story.notebooks
            else "this story names no notebooks folder (story.yaml)"
        )
    cells = notebook_demos(story.notebooks_path)
    names = sorted({s.demo for s in story.scenes if s.demo} if not only else set(only))
    unknown = [name for name in names if name not in cells]
    if unknown:
        raise click.ClickException(f"no notebook cell tagged demo:{unknown[0]}")
    from cyoa.demos import demo_names

    foreign = [name for name in names if name not in demo_names()]
    if foreign:
        raise click.ClickException(
            f"demo '{foreign[0]}' is not one of cyoa's own demos, so it cannot be run here: "
            f"run its notebook cell and put its code and output in recordings/{foreign[0]}.json "
            "(see story/README.md)"
        )
    wanted = list(only_products) or products()
    strange = [p for p in wanted if p not in products()]
    if strange:
        raise click.ClickException(f"no product '{strange[0]}' (one of {', '.join(products())})")
    failed = []
    for name in names:
        for product in wanted:
            code = "\n\n".join(cells[name])
            recording = record_demo(name, code, story.root / RECORDINGS_DIR, product)
            state = "ok" if recording["ok"] else "NOT OK"
            line = f"{name:<20} {product:<10} {state:<6} {recording['seconds']:>5.1f} s"
            click.echo(line, err=True)
            if not recording["ok"]:
                failed.append(f"{name} ({product})")
    if failed:
        raise click.ClickException(f"recorded, but these did not run cleanly: {', '.join(failed)}")


commands: list[click.Command] = [record_demos]
