"""Record each demo's code and output next to the story, for the static export and the deck.

A reader of the exported slides (or a deck whose machine lacks nginx) still sees what the
demo does: the code of its tagged notebook cells and the output of a real run, recorded
with ``cyoa record-demos`` on a machine that has the tools.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import time
from pathlib import Path

from cyoa.demos import run_demo


def normalize(output: str) -> str:
    """Replace this run's scratch directory by ``$SCRATCH``: recordings should not churn."""
    for scratch in set(re.findall(r"SCRATCH=(\S+)", output)):
        output = output.replace(f"SCRATCH={scratch}", "SCRATCH=…").replace(scratch, "$SCRATCH")
    return output


def record_demo(name: str, code: str, out_dir: Path) -> dict:
    """Run demo ``name`` for real, capture what it prints, write ``out_dir/<name>.json``."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        result = run_demo(name)
    recording = {
        "name": name,
        "code": code,
        "output": normalize(buffer.getvalue()),
        "ok": result.ok,
        "seconds": round(result.seconds, 1),
        "recorded": time.strftime("%Y-%m-%d"),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(
        json.dumps(recording, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return recording
