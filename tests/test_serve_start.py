"""`cyoa serve` at start: a taken port is one clear line (and no Redis), and a worker takes
no more connections than its open-files limit allows."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
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


LIMITED = """
from cyoa.voteserver.serve import granian_options, raise_open_files_limit
from cyoa.voteserver.settings import load_config
raise_open_files_limit()
print(granian_options(load_config({}))["backpressure"])
"""


def hard_limit(files: int):
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (files, files))

    return limit


@pytest.mark.parametrize(("files", "connections"), [(1024, 768), (20000, 16384)])
def test_a_worker_accepts_no_more_connections_than_it_can_open_files_for(
    files: int, connections: int
) -> None:
    """A laptop whose hard limit is 1,024 files queues the 769th phone in the backlog
    instead of failing to accept it (EMFILE); a large limit allows 16,384 a worker."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if files > hard:
        files = hard  # this machine cannot grant more: its own limit is the case tested
        connections = min(16384, hard - 256)
    result = subprocess.run(
        [sys.executable, "-c", LIMITED],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=hard_limit(files),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert int(result.stdout) == connections
