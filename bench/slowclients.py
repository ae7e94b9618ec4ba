"""Benchmark normal votes while a thousand clients stall: each way of serving, side by side.

Issue 8: four sockets that send a vote's headers and half its body, then wait, held every
thread of ``cyoa serve`` under granian's WSGI interface. For each contender this starts the
server(s) on one shared Redis, measures normal votes with wrk (distinct voters, as
``bench/votes.py``), then opens ``--stalled`` slow connections (a quarter each: headers only,
headers and half a body, headers dripped a byte a second, idle keep-alive after one request;
each reopened as soon as the server closes it, like a slowloris) and measures again. Prints
a table: votes/s, p50 and p99, errors, server CPU per vote. See ``bench/README.md``.

    .venv/bin/python bench/slowclients.py                 # about 3 minutes
    .venv/bin/python bench/slowclients.py --only cyoa-serve,wsgi --duration 4 --stalled 200
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.votes import (  # noqa: E402 - after the path fix, for `python bench/...`
    TOKEN,
    Server,
    cpu_ticks,
    forget_talk,
    free_port,
    open_poll,
    presenter,
    run_wrk,
    write_web_votes,
)
from cyoa.voteserver import keys  # noqa: E402

SITE = ROOT / "deploy" / "cyoa-vote.nginx"
KINDS = ("headers", "half-body", "slow-headers", "idle")
VOTE_HEAD = (
    b"POST /vote HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 64\r\n\r\n"
)
FIRST_BYTES = {
    "headers": VOTE_HEAD,
    "half-body": VOTE_HEAD + b"poll=x&choice=1&csrf=0123456789abcdef",  # 37 of 64 bytes
    "slow-headers": b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ",
    "idle": b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
}


WSGI = ("-m", "bench.wsgi_server", "--port", "{port}")


@dataclass(frozen=True)
class Contender:
    """One way of serving the vote app; ``front`` is where the phones (and wrk) connect."""

    name: str
    label: str
    argv: tuple[str, ...]  # the app server, with {port}
    nginx: bool = False


CONTENDERS = (
    Contender(
        "wsgi",
        "granian WSGI (before)",
        WSGI,
    ),
    Contender(
        "wsgi-1024",
        "granian WSGI, 1,024 threads",
        (*WSGI, "--threads", "1024", "--connections", "2048"),
    ),
    Contender(
        "nginx",
        "nginx -> granian WSGI",
        WSGI,
        nginx=True,
    ),
    Contender(
        "cyoa-serve",
        "cyoa serve (ASGI front)",
        # as cyoa present runs it
        ("-m", "cyoa", "serve", "--host", "0.0.0.0", "--port", "{port}"),  # noqa: S104
    ),
)


# -- the stalled clients: a separate process (``--hold``), so its CPU is not the bench's ----
def raise_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def read_answer(reader: asyncio.StreamReader) -> bytes:
    """One whole response with a Content-Length (what /healthz answers)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return head + await reader.readexactly(length)


async def stall(kind: str, port: int, stats: dict[str, int], ready: asyncio.Event) -> None:
    """Keep one slow connection of ``kind`` open; reopen it whenever the server closes it."""
    opened = False
    while True:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            stats["connect_errors"] += 1
            await asyncio.sleep(0.2)
            continue
        stats["open"] += 1
        try:
            writer.write(FIRST_BYTES[kind])
            await writer.drain()
            if not opened:
                opened = True
                stats["ready"] += 1
                if stats["ready"] == stats["wanted"]:
                    ready.set()
            if kind == "idle":  # one request answered, then silence
                await read_answer(reader)
            answer = await until_closed(kind, reader, writer)
            if answer.startswith(b"HTTP/1.1 408"):
                stats["answered_408"] += 1
            elif answer:
                stats["answered_other"] += 1
            else:
                stats["closed_silently"] += 1
        except (OSError, asyncio.IncompleteReadError):
            stats["resets"] += 1
        finally:
            stats["open"] -= 1
            writer.close()


async def until_closed(
    kind: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> bytes:
    """What the server sends until it closes the connection; slow headers drip meanwhile."""
    answer = b""
    while True:
        try:
            chunk = await asyncio.wait_for(reader.read(4096), 1.0)
        except TimeoutError:
            if kind == "slow-headers":
                writer.write(b"a")
                await writer.drain()
            continue
        if not chunk:
            return answer
        answer += chunk


async def hold(port: int, count: int) -> None:
    """Hold ``count`` slow connections until SIGTERM; print "ready", then stats as JSON."""
    stats = dict.fromkeys(
        ("ready", "open", "connect_errors", "answered_408", "answered_other",
         "closed_silently", "resets"), 0,
    )  # fmt: skip
    stats["wanted"] = count
    ready, stop = asyncio.Event(), asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    tasks = [
        asyncio.create_task(stall(KINDS[i % len(KINDS)], port, stats, ready)) for i in range(count)
    ]
    waiting = asyncio.create_task(stop.wait())
    await asyncio.wait([asyncio.create_task(ready.wait()), waiting], return_when="FIRST_COMPLETED")
    print("ready" if ready.is_set() else "stopped", flush=True)
    least = count
    while not stop.is_set():  # the fewest open at once, sampled every 0.2 s
        least = min(least, stats["open"])
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiting), 0.2)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps({**stats, "least_open": least}), flush=True)


class Holder:
    """The ``--hold`` process, started and stopped by the bench."""

    def __init__(self, port: int, count: int, timeout: float = 120.0) -> None:
        argv = [sys.executable, __file__, "--hold", str(port), "--stalled", str(count)]
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        # "ready" once every connection is open and has sent its first bytes
        if not select.select([self.process.stdout], [], [], timeout)[0]:
            self.process.send_signal(signal.SIGTERM)
        line = self.process.stdout.readline().strip()
        if line != "ready":
            self.process.kill()
            raise SystemExit(f"the stalled clients did not start within {timeout:.0f} s")

    def stop(self) -> dict:
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=60)
        return json.loads(out.strip().splitlines()[-1])


# -- the servers --------------------------------------------------------------------------
def nginx_conf(prefix: Path, listen: int, upstream: int, connections: int) -> Path:
    """The shipped site (deploy/cyoa-vote.nginx) in a minimal nginx.conf on loopback ports."""
    site = SITE.read_text()
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen} backlog=4096;")
    site = site.replace("listen [::]:80;", "")
    (prefix / "tmp").mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(f"""
daemon off;
worker_processes 1;
worker_rlimit_nofile {connections * 2 + 256};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log crit;
events {{ worker_connections {connections + 256}; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    {site}
}}
""")
    return conf


def start(contender: Contender, env: dict[str, str], work: Path, stalled: int) -> list[Server]:
    """The contender's processes, ready; the first one is where clients connect."""
    port = free_port()
    argv = [sys.executable, *(a.format(port=port) for a in contender.argv)]
    app_env = {**env, "CYOA_TRUST_PROXY": "1"} if contender.nginx else env
    app = Server(contender.name, argv, app_env, work / f"{contender.name}.log")
    servers = [app]
    try:
        app.wait_ready()
        if contender.nginx:
            nginx = shutil.which("nginx") or "/usr/sbin/nginx"
            listen = free_port()
            prefix = work / "nginx"
            conf = nginx_conf(prefix, listen, port, stalled + 512)
            argv = [nginx, "-c", str(conf), "-p", str(prefix)]
            front = Server("nginx", argv, env, work / "nginx.log", port=listen)
            servers.insert(0, front)
            front.wait_ready()
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return servers


# -- the run ------------------------------------------------------------------------------
def wrk_phase(
    url: str, votes: Path, args: argparse.Namespace, groups: set[int]
) -> dict[str, float | None]:
    """wrk's votes for ``--duration`` seconds, and the servers' CPU per answered vote."""
    before = cpu_ticks(groups, set())
    with HealthProbe(url) as health:
        result, _ = run_wrk(url, votes, args, args.duration)
    cpu = cpu_ticks(groups, set()) - before
    answered = result["ok"]
    names = ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    return {
        "rate": answered / (result["duration_us"] / 1e6),
        "p50_ms": result["p50_us"] / 1000 if answered else None,
        "p99_ms": result["p99_us"] / 1000 if answered else None,
        "max_ms": result["max_us"] / 1000 if answered else None,
        "ok": answered,
        "counted": result["counted"],
        # socket errors (a vote unanswered after wrk's 5 s is a timeout) and non-2xx answers
        "errors": sum(result[name] for name in names),
        "app_us_per_vote": cpu / answered * 1e6 if answered else None,
        "healthz": health.report(),
    }


class HealthProbe(threading.Thread):
    """``GET /healthz`` every quarter second (5 s timeout), as a load balancer would."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.done = url + "/healthz", threading.Event()
        self.sent, self.ok, self.worst = 0, 0, 0.0

    def run(self) -> None:
        import requests

        while not self.done.wait(0.25):
            self.sent += 1
            start = time.monotonic()
            try:
                if requests.get(self.url, timeout=5).status_code == 200:
                    self.ok += 1
            except requests.RequestException:
                pass
            self.worst = max(self.worst, time.monotonic() - start)

    def __enter__(self) -> HealthProbe:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.done.set()
        self.join()

    def report(self) -> dict[str, float]:
        return {"sent": self.sent, "ok": self.ok, "worst_ms": self.worst * 1000}


def measure(
    contender: Contender, args: argparse.Namespace, env: dict, work: Path, talk: str
) -> dict:
    secret = env["CYOA_SECRET_KEY"]
    files = {}
    for phase, seconds in (("warm", 1), ("idle", args.duration), ("stalled", args.duration)):
        files[phase] = work / f"{contender.name}.{phase}"
        prefix = secrets.token_hex(4)  # voter ids are hex
        write_web_votes(files[phase], secret, contender.name, seconds * args.max_rate, prefix)
    servers = start(contender, env, work, args.stalled)
    url, app = servers[0].url, servers[-1]
    groups = {server.process.pid for server in servers}
    try:
        presenter(app.url, "POST", "/api/talks", {"talk": talk, "story": "bench"})
        open_poll(app.url, talk, contender.name)
        time.sleep(1.1)  # workers cache the current talk (and its polls) for a second
        run_wrk(url, files["warm"], args, 1)
        report = {"label": contender.label, "idle": wrk_phase(url, files["idle"], args, groups)}
        holder = Holder(servers[0].port, args.stalled)
        try:
            report["stalled"] = wrk_phase(url, files["stalled"], args, groups)
        finally:
            report["holder"] = holder.stop()
        report["alive_after"] = alive(url)
    finally:
        for server in servers:
            server.stop()
    return report


def alive(url: str) -> bool:
    import requests

    try:
        return requests.get(url + "/healthz", timeout=10).status_code == 200
    except requests.RequestException:
        return False


def print_table(args: argparse.Namespace, results: dict[str, dict]) -> None:
    print(
        f"\nnormal votes (wrk, {args.connections} connections, {args.duration} s per phase) "
        f"with 0 and with {args.stalled:,} stalled connections open\n"
        "(errors: non-2xx answers, socket errors, votes unanswered after 5 s; "
        "µs: server CPU per answered vote)\n"
    )
    print(f"{'':<30}|{'0 stalled':^33}|{f'{args.stalled:,} stalled':^41}|")
    columns = f"{'votes/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'µs':>6}  "
    print(f"{'server':<30}|{columns}|{columns}{'errors':>8}|  /healthz answered")

    def cells(phase: dict) -> str:
        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value:.1f}"

        cpu = "-" if phase["app_us_per_vote"] is None else f"{phase['app_us_per_vote']:.0f}"
        return f"{phase['rate']:>9,.0f}{ms(phase['p50_ms']):>8}{ms(phase['p99_ms']):>8}{cpu:>6}  "

    for report in results.values():
        idle, busy, held = report["idle"], report["stalled"], report["holder"]
        probe = busy["healthz"]
        health = f"{probe['ok']}/{probe['sent']}, worst {probe['worst_ms']:,.0f} ms"
        print(f"{report['label']:<30}|{cells(idle)}|{cells(busy)}{busy['errors']:>8}|  {health}")
    print("\n(/healthz answered: of the probes every 0.25 s while the stalled clients were open)")
    print("the stalled clients, during the second phase:")
    for report in results.values():
        held = report["holder"]
        print(
            f"  {report['label']:<30} fewest open at once {held['least_open']:,}; closed by the "
            f"server: {held['answered_408']:,} with a 408, {held['closed_silently']:,} silently, "
            f"{held['answered_other']:,} with another answer, {held['resets']:,} reset; "
            f"server {'up' if report['alive_after'] else 'DOWN'} after"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    names = ",".join(c.name for c in CONTENDERS)
    parser.add_argument("--only", default=names, help=f"contenders, of {names}")
    parser.add_argument("--stalled", type=int, default=1000, help="slow connections held")
    parser.add_argument("--duration", type=int, default=12, help="seconds per wrk phase")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--max-rate", type=int, default=6000, help="distinct voters per second")
    parser.add_argument("--redis-url", default="", help="a Redis server instead of embedded")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--hold", type=int, help=argparse.SUPPRESS)  # the stalled clients
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    raise_open_files_limit()
    if args.hold:
        asyncio.run(hold(args.hold, args.stalled))
        return 0
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    chosen = [c for c in CONTENDERS if c.name in args.only.split(",")]
    unknown = set(args.only.split(",")) - {c.name for c in CONTENDERS}
    if unknown or not chosen:
        names = [c.name for c in CONTENDERS]
        raise SystemExit(f"unknown contender(s) {sorted(unknown)}: choose from {names}")
    work = Path(tempfile.mkdtemp(prefix="cyoa-slow-"))
    embedded = None
    try:
        redis_url = args.redis_url
        if not redis_url:
            from cyoa.voteserver.embedded import EmbeddedRedis

            embedded = EmbeddedRedis(work / "state")
            redis_url = embedded.start()
        talk = f"bench-slow-{secrets.token_hex(4)}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CYOA_", "TWILIO_"))}
        env.update(
            PYTHONPATH=str(ROOT),
            REDIS_URL=redis_url,
            CYOA_SECRET_KEY=secrets.token_urlsafe(32),
            CYOA_PRESENTER_TOKEN=TOKEN,
            CYOA_STATE_DIR=str(work / "state"),
            CYOA_ADDRESS_RATE=str(10**9),  # every vote comes from 127.0.0.1...
            CYOA_VOTERS_PER_ADDRESS="0",  # ...as thousands of phones (a venue's NAT)
        )
        client = redis.Redis.from_url(redis_url)
        previous_talk = client.get(keys.current_talk())
        results = {}
        try:
            for contender in chosen:
                results[contender.name] = measure(contender, args, env, work, talk)
        finally:
            if args.redis_url:  # someone else's Redis: leave it as it was
                forget_talk(client, talk, previous_talk)
            client.close()
        load = os.getloadavg()[0]
        print_table(args, results)
        print(f"\nload average {load:.2f} at the end ({os.cpu_count()} CPUs)")
        if args.json:
            report = {"stalled": args.stalled, "load": load, "contenders": results}
            args.json.write_text(json.dumps(report, indent=2))
        return 0
    finally:
        if embedded is not None:
            embedded.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
