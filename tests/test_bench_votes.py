"""``bench/votes.py`` runs end to end in a tiny mode and finds no vote lost.

Not a speed test: speed is measured by running the benchmark, never asserted here. This only
keeps the harness working (servers start, wrk drives them, the tally check holds), on the
embedded Redis or on ``REDIS_URL`` like the rest of the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_the_benchmark_completes_and_loses_no_vote(tmp_path: Path):
    report_file = tmp_path / "report.json"
    argv = [
        sys.executable,
        str(ROOT / "bench" / "votes.py"),
        "--duration", "2", "--connections", "4", "--rounds", "1", "--warmup", "1",
        "--max-rate", "3000", "--json", str(report_file),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    if os.environ.get("REDIS_URL"):
        argv += ["--redis-url", os.environ["REDIS_URL"]]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(report_file.read_text())
    assert report["lost"] == 0
    assert report["consistent"]
    assert report["tally"] == report["ballots"] >= report["acknowledged"] > 0
    for name in ("web", "sms", "naive"):
        phase = report["phases"][name]
        assert phase["counted"] > 0, name
        assert phase["errors"] == 0, name
    assert "tally check:" in done.stdout
