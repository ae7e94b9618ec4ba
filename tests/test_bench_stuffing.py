"""``bench/stuffing.py`` runs end to end in its tiny mode: the cap holds the attacker to it.

Not a speed test: the attacker's share is measured by running the bench. This keeps the
harness working and checks what does not depend on speed: every honest phone (an address
each) is counted under both settings, the tally equals the votes acknowledged, and with the
default cap the attacker's address counts exactly the cap's number of voters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cyoa.voteserver.settings import load_config

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_the_stuffing_bench_shows_the_cap_holding_the_attacker(tmp_path: Path):
    report_file = tmp_path / "stuffing.json"
    argv = [
        sys.executable,
        str(ROOT / "bench" / "stuffing.py"),
        "--tiny",
        "--json",
        str(report_file),
    ]
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    if os.environ.get("REDIS_URL"):
        argv += ["--redis-url", os.environ["REDIS_URL"]]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(report_file.read_text())
    no_cap, default = report["runs"]
    default_cap = load_config(environ={}).voters_per_address
    assert (no_cap["cap"], default["cap"]) == (0, default_cap)
    for run in (no_cap, default):
        assert run["honest_counted"] == run["honest"] == 20
        assert run["consistent"]
    # no cap: every cookie-less loop of the attacker was one more vote, up to the address
    # rate limit (3000 per 10 s window, out of reach in the tiny mode's second or two)
    assert no_cap["attacker_counted"] >= min(no_cap["attacker_tries"], 3000) >= 40
    assert no_cap["winner"] == "2"
    # the default cap: the attacker's address holds the cap's number of voters, no more
    assert default["attacker_counted"] == default_cap
    assert default["attacker_refused"] == {"full": default["attacker_tries"] - default_cap}
    assert default["attacker_share"] == default_cap / (20 + default_cap)
    assert any(alert.startswith("the cap refused") for alert in default["alerts"])
    assert "| 0 (no cap) | 20/20 |" in done.stdout
