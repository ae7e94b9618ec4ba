"""Redis Cluster is not supported, and ``cyoa serve`` says so at start (README: Redis)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import redis
from conftest import ROOT, free_port
from waiting import wait_until

CLUSTER_BUS_OFFSET = 10_000  # a cluster node also listens on its port + 10000 (the bus)


def free_cluster_port() -> int:
    """A free port whose cluster bus port is free too and still a valid port.

    redis-server refuses a cluster node above 55535 (its bus would pass 65535), and the
    kernel's ephemeral range goes up to 60999, so an ephemeral port alone fails now and then.
    """
    for _ in range(200):
        port = free_port()
        if port + CLUSTER_BUS_OFFSET > 65_535:
            continue
        with socket.socket() as bus:
            try:
                bus.bind(("127.0.0.1", port + CLUSTER_BUS_OFFSET))
            except OSError:
                continue
        return port
    raise AssertionError("no free port with a free cluster bus port below 55536")


def test_serve_refuses_a_cluster_node_with_a_clear_message(tmp_path: Path) -> None:
    port = free_cluster_port()
    node = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
         "--cluster-config-file", str(tmp_path / "nodes.conf"), "--dir", str(tmp_path),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        client = redis.Redis(port=port)

        def answers() -> bool:
            assert node.poll() is None, f"redis-server exited: {node.stdout.read()}"
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        wait_until(answers, "the cluster node answers")
        env = {k: v for k, v in os.environ.items() if not k.startswith("CYOA_")}
        env.update(REDIS_URL=f"redis://127.0.0.1:{port}/0", CYOA_STATE_DIR=str(tmp_path))
        env["PYTHONPATH"] = str(ROOT)
        result = subprocess.run(
            [sys.executable, "-m", "cyoa", "serve", "--port", str(free_port())],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        node.terminate()
        node.communicate(timeout=30)  # reaps it and closes its pipe
    assert result.returncode == 1, result.stderr
    assert "is a Redis Cluster node" in result.stderr
    assert "Traceback" not in result.stderr
