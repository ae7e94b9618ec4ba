"""``bench/faults.py`` runs end to end in a tiny mode: every route answers, none with a 500.

Not a speed test: the latencies are the benchmark's to print, never asserted here. This only
keeps the harness working (server up, Redis frozen and thawed, every route timed).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_the_fault_benchmark_completes(tmp_path: Path):
    report_file = tmp_path / "faults.json"
    argv = [
        sys.executable, str(ROOT / "bench" / "faults.py"),
        "--timeout", "0.3", "--idle", "0", "--queue", "4", "--json", str(report_file),
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(report_file.read_text())
    statuses = {name: route["warm"]["status"] for name, route in report["routes"].items()}
    # The feed may still answer from its shared snapshot if that was built less than
    # live.SNAPSHOT_SECONDS before Redis froze: never older, and 503 after that.
    assert statuses.pop("GET /api/live") in (200, 503)
    assert statuses == {**{name: 503 for name in statuses}, "POST /sms": 200}
    assert report["routes"]["POST /sms"]["warm"]["reason"] == "unavailable"
    assert [answer["status"] for answer in report["queue"]] == [503] * 4
