"""The notebooks cyoa ships, wherever cyoa is installed, and copying them out for learners.

They live at the repository's ``notebooks/`` and ship in the wheel as the ``cyoa.notebooks``
package (see setup.py), so they are found through importlib.resources, never next to a
source folder: an installed wheel has no repository around it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

PACKAGE = "cyoa.notebooks"
DECK = ("present.ipynb", "presenter.ipynb")  # served by Voilà (cyoa present), not for learners


class CopyRefused(Exception):
    """Copying out would overwrite notebooks a learner changed: nothing was written."""

    def __init__(self, changed: list[Path]) -> None:
        self.changed = changed
        names = ", ".join(path.name for path in changed)
        super().__init__(
            f"{len(changed)} notebook(s) in {changed[0].parent} differ from the shipped ones "
            f"(your edits or outputs): {names}. Nothing was copied: move them away, or choose "
            "another folder."
        )


@dataclass
class Copied:
    """What ``copy_learner_notebooks`` did, file by file."""

    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)


def notebook_folder() -> Path:
    """The folder holding the shipped notebooks (in an editable install, the repo's own)."""
    folder = files(PACKAGE)
    if not isinstance(folder, Path):  # a zipped install: Voilà and JupyterLab need real files
        raise RuntimeError(f"{PACKAGE} is not a folder on disk ({folder}): install cyoa unzipped")
    return folder


def learner_notebooks() -> list[Path]:
    """The notebooks a learner opens in JupyterLab: explore.ipynb and learn-*.ipynb."""
    return sorted(p for p in notebook_folder().glob("*.ipynb") if p.name not in DECK)


def copy_learner_notebooks(dest: Path) -> Copied:
    """Copy the learner notebooks into ``dest`` (created if needed), all or nothing.

    A notebook already there and identical is left alone, so running it twice is harmless;
    one that differs is a learner's work, so the copy is refused before anything is written.
    """
    sources = learner_notebooks()
    targets = [dest / source.name for source in sources]
    changed = [
        target
        for source, target in zip(sources, targets, strict=True)
        if target.exists() and target.read_bytes() != source.read_bytes()
    ]
    if changed:
        raise CopyRefused(changed)
    dest.mkdir(parents=True, exist_ok=True)
    done = Copied()
    for source, target in zip(sources, targets, strict=True):
        if target.exists():
            done.unchanged.append(target)
        else:
            shutil.copyfile(source, target)
            done.written.append(target)
    return done
