"""Write the learner notebooks from :mod:`cyoa.demos.chapters`, and read demo cells back.

One source for each demo: a code cell tagged ``demo:<name>`` in a learner notebook. The
learner runs the notebook top to bottom; the deck runs the cells carrying a scene's tag.
Regenerate with ``python -m cyoa.demos.notebooks`` (outputs are never committed): it writes
into the shipped notebooks' folder, which in a checkout is the repository's ``notebooks/``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from cyoa.demos.chapters import CHAPTERS
from cyoa.demos.exercises import with_exercises
from cyoa.shipped import notebook_folder

NOTEBOOKS = notebook_folder()
TAG_PREFIX = "demo:"


def build(chapter: dict) -> nbformat.NotebookNode:
    """One chapter as a notebook: Markdown around tagged demo cells."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    for n, cell in enumerate(with_exercises(chapter["cells"])):
        if isinstance(cell, nbformat.NotebookNode):
            new = cell  # a hands-on cell (cyoa.demos.exercises), tagged lab-*
        elif isinstance(cell, str):
            new = nbformat.v4.new_markdown_cell(cell.strip())
        else:
            name, code = cell
            new = nbformat.v4.new_code_cell(code.strip())
            new.metadata["tags"] = [f"{TAG_PREFIX}{name}"]
        new["id"] = f"{chapter['slug']}-{n}"
        nb.cells.append(new)
    return nb


def write_all(directory: Path = NOTEBOOKS) -> list[Path]:
    """(Re)write every learner notebook; returns their paths, in story order."""
    paths = []
    for chapter in CHAPTERS:
        path = directory / f"learn-{chapter['slug']}.ipynb"
        nbformat.write(build(chapter), path)
        paths.append(path)
    return paths


def learner_notebooks(directory: Path = NOTEBOOKS) -> list[Path]:
    """The learner notebooks, in story order."""
    return sorted(directory.glob("learn-*.ipynb"))


def demo_cells(directory: Path = NOTEBOOKS) -> dict[str, list[str]]:
    """Each demo name (from the cell tags) with the source of its cells, in order."""
    found: dict[str, list[str]] = {}
    for path in learner_notebooks(directory):
        for cell in nbformat.read(path, as_version=4).cells:
            for tag in cell.get("metadata", {}).get("tags", []):
                if tag.startswith(TAG_PREFIX):
                    found.setdefault(tag.removeprefix(TAG_PREFIX), []).append(cell.source)
    return found


if __name__ == "__main__":
    for written in write_all(Path(sys.argv[1]) if len(sys.argv) > 1 else NOTEBOOKS):
        print(written)
