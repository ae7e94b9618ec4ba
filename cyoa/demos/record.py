"""Record each demo's code and output next to the story, for the static export and the deck.

A reader of the exported slides (or a deck whose machine lacks nginx) still sees what the
demo does: the code of its tagged notebook cells and the output of a real run, recorded
with ``cyoa record-demos`` on a machine that has the tools. Each demo is recorded once per
product, since each branch of the talk shows its own: ``recordings/<name>.json`` for the
default product and ``recordings/<name>.<product>.json`` for the others (the product's
name is also the id of the scene where the room chose it, which is how the deck picks it).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import tempfile
import time
from pathlib import Path

from cyoa.demos import run_demo
from cyoa.demos.runner import DEFAULT_PRODUCT, PRODUCTS, neutral

#: What no recording may contain: this machine's own directories, or a virtualenv other
#: than the pretend server's ``/srv/app/.venv`` (a path of a file a demo writes, like a
#: passwd entry's ``::/home/deployer``, is the pretend server's, so ``:`` may precede).
MACHINE_PATH = re.compile(r"(?<![\w$.~:-])/(?:tmp|work|root|home)/|(?<!/srv/app/)\.venv\b")


def machine_dirs() -> list[str]:
    """Directories of the recording machine that must not show: the checkout, the temp dir."""
    checkout = Path(__file__).resolve().parents[2]
    return sorted({str(checkout), tempfile.gettempdir()}, key=len, reverse=True)


#: A notebook cell's explicit product (``run_demo("app", product="dachshund")``).
PRODUCT_ARGUMENT = re.compile(r"""product=(['"])(\w+)\1""")
#: Terminal colours (Flask's warning): a slide shows text, not escape codes.
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def code_for(code: str, product: str) -> str:
    """The cells' code as the branch of ``product`` runs it (its explicit product set)."""
    return PRODUCT_ARGUMENT.sub(lambda m: f"product={m.group(1)}{product}{m.group(1)}", code)


def normalize(output: str) -> str:
    """This run's scratch directory as ``$SCRATCH``, the venv's python as ``python``, the
    checkout as ``<cyoa>``: recordings show no machine and do not churn between runs."""
    output = ANSI.sub("", output)
    for scratch in set(re.findall(r"SCRATCH=(/\S+)", output)):  # an absolute path only
        output = output.replace(f"SCRATCH={scratch}", "SCRATCH=…").replace(scratch, "$SCRATCH")
    output = neutral(output)
    for directory in machine_dirs():
        output = output.replace(directory + os.sep, "<cyoa>/" if "tmp" not in directory else "")
    return output


def recording_name(name: str, product: str) -> str:
    """``<name>.json`` for the default product, ``<name>.<product>.json`` for the others."""
    return f"{name}.json" if product == DEFAULT_PRODUCT else f"{name}.{product}.json"


def record_demo(name: str, code: str, out_dir: Path, product: str = DEFAULT_PRODUCT) -> dict:
    """Run demo ``name`` for ``product`` for real, capture what it prints, write its file."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        result = run_demo(name, product=product)
    recording = {
        "name": name,
        "product": product,
        "code": code_for(code, product),
        "output": normalize(buffer.getvalue()),
        "ok": result.ok,
        "seconds": round(result.seconds, 1),
        "recorded": time.strftime("%Y-%m-%d"),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / recording_name(name, product)).write_text(
        json.dumps(recording, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return recording


def products() -> list[str]:
    """Every product, the default first."""
    return [DEFAULT_PRODUCT, *sorted(p for p in PRODUCTS if p != DEFAULT_PRODUCT)]
