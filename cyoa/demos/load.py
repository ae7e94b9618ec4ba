"""Short, honest load tests: wrk where installed, else a small threaded Python client.

The numbers are for comparing two set-ups on the same machine in the same minute, nothing
more: the load generator shares the CPU with the servers it measures.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from cyoa.demos import tools


def measure(url: str, seconds: float = 2.0, connections: int = 8) -> dict:
    """Requests per second (and errors) for ``url`` under ``connections`` at once."""
    wrk = tools.find("wrk")
    if wrk:
        return _wrk(wrk, url, seconds, connections)
    return _threads(url, seconds, connections)


def _wrk(wrk: str, url: str, seconds: float, connections: int) -> dict:
    args = [wrk, "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", url]
    out = subprocess.run(args, capture_output=True, text=True, check=False, timeout=60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "tool": "wrk",
        "rps": round(rps),
        "errors": int(errors.group(1)) if errors else 0,
        "command": " ".join(args),
    }


def _threads(url: str, seconds: float, connections: int) -> dict:
    deadline = time.monotonic() + seconds
    counts = {"ok": 0, "errors": 0}
    lock = threading.Lock()

    def worker() -> None:
        with requests.Session() as session:
            while time.monotonic() < deadline:
                try:
                    good = session.get(url, timeout=5).ok
                except requests.RequestException:
                    good = False
                with lock:
                    counts["ok" if good else "errors"] += 1

    with ThreadPoolExecutor(connections) as pool:
        for _ in range(connections):
            pool.submit(worker)
    done = counts["ok"] + counts["errors"]
    return {
        "tool": "python threads",
        "rps": round(done / seconds),
        "errors": counts["errors"],
        "command": f"{connections} threads × {seconds:.0f} s",
    }


def burst(url: str, clients: int, timeout: float = 10.0) -> list[dict]:
    """``clients`` requests sent at the same moment: each one's status and seconds."""

    def one(_: int) -> dict:
        started = time.monotonic()
        try:
            status = requests.get(url, timeout=timeout).status_code
        except requests.RequestException as error:
            status = type(error).__name__
        return {"status": status, "seconds": round(time.monotonic() - started, 2)}

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(one, range(clients)))
