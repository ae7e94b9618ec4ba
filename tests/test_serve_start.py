"""``cyoa serve`` on a port another program holds says so in one line, and starts nothing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import psutil
from conftest import ROOT

EVERY_ADDRESS = "0.0.0.0"  # noqa: S104 (where cyoa present's vote server listens)


def test_a_taken_port_is_one_clear_line_and_no_redis_is_left(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind((EVERY_ADDRESS, 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CYOA_")}
        env.pop("REDIS_URL", None)  # the embedded Redis: it must not be started for nothing
        env.update(CYOA_STATE_DIR=str(tmp_path), PYTHONPATH=str(ROOT))
        result = subprocess.run(
            [sys.executable, "-m", "cyoa", "serve", "--host", EVERY_ADDRESS, "--port", str(port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 1, result.stderr
    assert f"cannot listen on {EVERY_ADDRESS}:{port}" in result.stderr
    assert "--port" in result.stderr and "Traceback" not in result.stderr
    left = [p for p in psutil.process_iter(["cmdline"]) if str(tmp_path) in str(p.info["cmdline"])]
    assert left == [], "a process of this state dir was left running"
