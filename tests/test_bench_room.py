"""``bench/room.py`` runs a tiny room end to end: every vote sent is counted, none lost.

Not a speed test: how many phones the server sustains is measured by running the benchmark,
never asserted here. This keeps the harness honest: phones join, follow the feed to the
opening, vote (some change their minds, some text), and the poll's tally equals what the
server acknowledged; on the embedded Redis or on ``REDIS_URL`` like the rest of the suite.
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


def test_a_tiny_room_counts_every_vote_it_sends(tmp_path: Path):
    report_file = tmp_path / "room.json"
    argv = [sys.executable, str(ROOT / "bench" / "room.py"), "--tiny", "--json", str(report_file)]
    # The server on the first CPU, the phones on the last (the same one on a 1-CPU machine):
    # how a room is measured without the load generator taking the server's cores.
    cpus = sorted(os.sched_getaffinity(0))
    argv += ["--server-cpus", str(cpus[0]), "--phone-cpus", str(cpus[-1])]
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    if os.environ.get("REDIS_URL"):
        argv += ["--redis-url", os.environ["REDIS_URL"]]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=400, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "largest room sustained" in done.stdout

    report = json.loads(report_file.read_text())
    assert report["lost"] == 0
    assert isinstance(report["phones"], int) and report["phones"] in (0, 24)
    (room,) = report["rooms"]
    assert room["phones"] == room["joined"] == 24
    # Every full phone saw the poll open and close through the feed, as the page would; the
    # 8 light ones had their feeds polled by wrk (bench/room.lua) and voted all the same.
    assert room["full_phones"] == 16
    assert room["reach"]["open"]["phones"] == room["reach"]["close"]["phones"] == 16
    assert room["latency"]["live (wrk)"]["requests"] >= 8
    assert not [kind for kind in room["error_kinds"] if kind.startswith("live (wrk)")]
    # Every vote sent was acknowledged; the tally holds one ballot per phone, as last chosen.
    assert room["votes_sent"] == room["votes_acknowledged"] > 24  # some changed their minds
    assert room["votes_counted"] == room["voters"] == 24
    assert room["lost"] == room["extra"] == 0
    assert room["latency"]["vote (SMS)"]["requests"] > 0  # some texted instead
    assert room["latency"]["live"]["requests"] > 24
    for key in ("reach", "vote_p99_ms", "latency", "cpu_cores", "sustained", "presenter_s"):
        assert key in room
    # The kernel ran the server's processes (workers, embedded Redis) where they were put.
    assert report["server_cpus"] == [cpus[0]]
    assert report["phone_cpus"] == [cpus[-1]]
