"""The deck's Voilà template removes the lab template's CDN links by their exact text: check it.

``static/jupyter/voila/templates/cyoa/index.html.j2`` extends Voilà's ``lab`` template and
deletes its Font Awesome ``<link>`` tags with ``replace('<link …>', '')``, so the deck loads
nothing from the network. If Voilà changes a single character of those tags, the replace
matches nothing and the deck silently goes back to the CDN (slow or broken offline). So
``cyoa present`` checks, before starting Voilà, that every removed text is really in the
template it extends, and refuses to start with a clear message otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path

from jupyter_core.paths import jupyter_path

OURS = Path(__file__).resolve().parent / "static/jupyter/voila/templates/cyoa/index.html.j2"
_REMOVED = re.compile(r"""replace\(\s*'([^']+)'\s*,\s*''\s*\)""")


class TemplateChanged(Exception):
    """Voilà's lab template no longer holds a text the deck's template removes."""


def removed_texts(template: Path = OURS) -> list[str]:
    """The exact texts the deck's template deletes from the lab template's output."""
    return _REMOVED.findall(template.read_text(encoding="utf-8"))


def lab_template() -> Path:
    """Voilà's own ``lab/index.html.j2``, found on the Jupyter data path as Voilà finds it."""
    for base in jupyter_path("voila", "templates", "lab"):
        candidate = Path(base) / "index.html.j2"
        if candidate.is_file():
            return candidate
    raise TemplateChanged(
        "Voilà's lab template (voila/templates/lab/index.html.j2) is not on the Jupyter path; "
        "the deck's template extends it. Install the locked versions: ./dev run"
    )


def check_lab_template() -> None:
    """Raise TemplateChanged unless every text the deck's template removes is in Voilà's."""
    lab = lab_template()
    text = lab.read_text(encoding="utf-8")
    removed = removed_texts()
    if not removed:
        raise TemplateChanged(f"{OURS} removes nothing any more: the check cannot read it")
    missing = [item for item in removed if item not in text]
    if missing:
        raise TemplateChanged(
            f"Voilà's lab template ({lab}) changed: the deck's template ({OURS}) removes "
            f"{missing[0]!r} by its exact text, and it is no longer there, so the deck would "
            "load it from the network. Install the versions requirements.lock pins (./dev run), "
            "or update the deck's template to the new text."
        )
