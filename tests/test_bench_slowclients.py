"""``bench/slowclients.py`` runs end to end in a tiny mode: the harness keeps working.

Not a speed test (speed is measured by running the benchmark): servers start, the stalled
clients connect and stay, wrk's votes are answered while they do, on the embedded Redis or
on ``REDIS_URL`` like the rest of the suite.
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


def test_the_slow_clients_benchmark_completes(tmp_path: Path):
    report_file = tmp_path / "report.json"
    argv = [
        sys.executable, str(ROOT / "bench" / "slowclients.py"),
        "--only", "cyoa-serve", "--duration", "1", "--stalled", "40", "--connections", "2",
        "--max-rate", "2000", "--json", str(report_file),
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    if os.environ.get("REDIS_URL"):
        argv += ["--redis-url", os.environ["REDIS_URL"]]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(report_file.read_text())["contenders"]["cyoa-serve"]
    for phase in ("idle", "stalled"):
        assert report[phase]["counted"] > 0, phase
        assert report[phase]["errors"] == 0, phase
    assert report["holder"]["ready"] == 40
    assert report["alive_after"]
    assert "stalled clients" in done.stdout
