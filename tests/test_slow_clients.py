"""Stalled clients cannot stop voting (issue 8): a real ``cyoa serve``, real sockets.

Clients that send a vote's headers and then wait (for the body, or halfway through it),
that drip their headers, or that keep an idle connection after one request, used to hold
the server's threads. Here a thousand of them are open while a phone votes and /healthz
answers; a stalled body gets a 408 and its connection closed; an oversized one a 413 before
it is read; nothing is left running after SIGTERM. Speed is measured in bench/slowclients.py,
never asserted here: every wait below is for an event, with a generous timeout as a guard.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from waiting import wait_until

pytestmark = pytest.mark.slow

STALLED = 1000  # a quarter of each kind
GUARD = 120.0  # seconds: only a broken server waits this long
VOTE_HEAD = (
    b"POST /vote HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 64\r\n\r\n"
)
SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.fixture(autouse=True)
def enough_open_files() -> Iterator[None]:
    """A thousand sockets need more than the common soft limit of 1024 descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = STALLED + 512
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {wanted}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def serve(start_server, server_env: dict[str, str], client_timeout: float, **env: str):
    return start_server({**server_env, "CYOA_CLIENT_TIMEOUT": str(client_timeout), **env})


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=GUARD)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_response(sock: socket.socket) -> tuple[str, dict[str, str], bytes]:
    """One response (it has a Content-Length): status line, headers, body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before a whole response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}
    while len(body) < int(headers["content-length"]):
        chunk = sock.recv(65536)
        assert chunk, "closed in the middle of a response body"
        body += chunk
    return status, headers, body


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def still_open_and_silent(sock: socket.socket) -> bool:
    """Neither closed nor answered: a read finds nothing waiting."""
    sock.setblocking(False)
    try:
        sock.recv(1)
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)
    return False


def phone_vote(url: str) -> requests.Response:
    """A phone as the page's script votes: load the page, then POST with its CSRF token."""
    phone = requests.Session()
    page = phone.get(url + "/", timeout=GUARD).text
    csrf = re.search(r'<meta name="csrf" content="([^"]+)"', page).group(1)
    return phone.post(
        url + "/vote",
        data={"poll": "product", "choice": "1", "csrf": csrf},
        headers={"Accept": "application/json"},
        timeout=GUARD,
    )


def open_stalled(port: int, count: int) -> list[socket.socket]:
    """``count`` stalled connections, a quarter of each kind; the slow ones drip meanwhile."""
    stalled: list[socket.socket] = []
    dripping: list[socket.socket] = []
    for i in range(count):
        sock = connect(port)
        kind = i % 4
        if kind == 0:  # the headers of a vote, and then nothing
            sock.sendall(VOTE_HEAD)
        elif kind == 1:  # the headers and half the body
            sock.sendall(VOTE_HEAD + b"poll=product&choice=1&csrf=0123456789")
        elif kind == 2:  # headers, a byte now and then
            sock.sendall(SLOW_HEAD)
            dripping.append(sock)
        else:  # one request answered, then an idle keep-alive connection
            sock.sendall(HEALTHZ)
            status, _, body = read_response(sock)
            assert status == "HTTP/1.1 200 OK" and json.loads(body) == {"status": "ok"}
        stalled.append(sock)
        if i % 50 == 49:
            for slow in dripping:
                slow.sendall(b"a")
    return stalled


def test_a_thousand_stalled_clients_do_not_stop_votes(start_server, server_env, open_poll):
    server = serve(start_server, server_env, client_timeout=3600)
    stalled = open_stalled(server.port, STALLED)
    try:
        vote = phone_vote(server.url)
        assert vote.status_code == 200, vote.text
        assert vote.json()["outcome"] == "counted"
        health = requests.get(server.url + "/healthz", timeout=GUARD)
        assert health.status_code == 200 and health.json() == {"status": "ok"}
        results = requests.get(server.url + "/api/polls/product", timeout=GUARD).json()
        assert results["total"] == 1
        # ... and all that while, every stalled client was still connected and waiting
        assert all(still_open_and_silent(sock) for sock in stalled)
    finally:
        for sock in stalled:
            sock.close()


@pytest.mark.parametrize("body", [b"", b"poll=product&choice=1&csrf=0123456789"])
def test_a_stalled_body_gets_408_and_its_connection_closed(start_server, server_env, body):
    server = serve(start_server, server_env, client_timeout=1)
    with connect(server.port) as sock:
        sock.sendall(VOTE_HEAD + body)
        answer = read_until_closed(sock)
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in head.lower()
    assert json.loads(payload) == {"error": "The request body did not arrive within 1 s."}
    assert requests.get(server.url + "/healthz", timeout=GUARD).status_code == 200


@pytest.mark.parametrize("first_bytes", [SLOW_HEAD, HEALTHZ], ids=["slow-headers", "idle"])
def test_slow_headers_and_idle_connections_are_closed(start_server, server_env, first_bytes):
    server = serve(start_server, server_env, client_timeout=1)
    with connect(server.port) as sock:
        sock.sendall(first_bytes)
        if first_bytes == HEALTHZ:
            assert read_response(sock)[0] == "HTTP/1.1 200 OK"
        assert read_until_closed(sock) == b""  # closed by the server, nothing more said


def test_an_oversized_body_is_refused_before_it_is_read(start_server, server_env):
    server = serve(start_server, server_env, client_timeout=3600, CYOA_MAX_BODY="1000")
    with connect(server.port) as sock:
        sock.sendall(VOTE_HEAD.replace(b"Content-Length: 64", b"Content-Length: 1001"))
        answer = read_until_closed(sock)  # no byte of the body was sent
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413 ")
    assert json.loads(payload) == {"error": "The request body is over 1000 bytes."}


def processes_in_group(pgid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stopping_with_stalled_clients_leaves_no_process(start_server, server_env, sig):
    server = serve(start_server, server_env, client_timeout=3600)
    stalled = open_stalled(server.port, 40)
    try:
        assert len(processes_in_group(server.process.pid)) >= 3  # the master and 2 workers
        server.process.send_signal(sig)  # to the master alone, as systemd or Ctrl-C would
        server.process.wait(timeout=GUARD)
        assert processes_in_group(server.process.pid) == []
    finally:
        for sock in stalled:
            sock.close()


ECHO_APP = """
import json

def app(environ, start_response):
    body = environ["wsgi.input"].read()
    seen = {k: v for k, v in environ.items() if isinstance(v, (str, bool))}
    seen.update(body=body.decode("latin-1"), version=list(environ["wsgi.version"]))
    data = json.dumps(seen).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [data]

def loader():
    return app
"""
FRONT = """
import sys
from cyoa.voteserver.serve import run_wsgi
from cyoa.voteserver.settings import load_config
import echo
run_wsgi(echo.loader, load_config({"port": int(sys.argv[1]), "workers": 1}, environ={}))
"""
REQUESTS = [
    b"GET /a%20b/%C3%A9/%FF/x%2Fy?q=%C3%A9&r=1+2 HTTP/1.1\r\nHost: example.org:8000\r\n"
    b"Cookie: a=1\r\nCookie: b=2\r\nX-Twice: 1\r\nX-Twice: 2\r\nX_Under: spoof\r\n\r\n",
    b"POST /vote HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\n"
    b"Content-Length: 9\r\n\r\npoll=abcd",
    b"POST /chunked HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    b"GET / HTTP/1.0\r\nHost: h\r\n\r\n",
]


@pytest.fixture
def echo_servers(tmp_path: Path) -> Iterator[dict[str, int]]:
    """The same echo app under granian's WSGI interface and behind the front."""
    from conftest import ROOT, free_port

    (tmp_path / "echo.py").write_text(ECHO_APP)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    env = {k: v for k, v in env.items() if not k.startswith("CYOA_")}
    ports = {"wsgi": free_port(), "front": free_port()}
    argvs = {
        "wsgi": [sys.executable, "-m", "granian", "--interface", "wsgi", "--port",
                 str(ports["wsgi"]), "--no-ws", "--log-level", "warning", "echo:app"],
        "front": [sys.executable, "-c", FRONT, str(ports["front"])],
    }  # fmt: skip
    processes = [
        subprocess.Popen(argv, env=env, cwd=tmp_path, start_new_session=True)
        for argv in argvs.values()
    ]
    try:
        for port in ports.values():
            wait_listening(port)
        yield ports
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=GUARD)


def wait_listening(port: int) -> None:
    """Until the port accepts a connection (the server is up), or the guard runs out."""

    def accepts() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            return False
        return True

    wait_until(accepts, f"a server listening on port {port}", GUARD)


def echo(port: int, request: bytes) -> dict:
    with connect(port) as sock:
        sock.sendall(request)
        return json.loads(read_response(sock)[2])


def test_the_front_builds_the_environ_a_wsgi_server_does(echo_servers):
    """PEP 3333 keys as granian's own WSGI interface sets them, with the chosen differences."""
    keys = (
        "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
        "SERVER_NAME", "REMOTE_ADDR", "HTTP_HOST", "wsgi.url_scheme",
        "GATEWAY_INTERFACE", "body", "version",
    )  # fmt: skip
    seen = []
    for request in REQUESTS:
        wsgi, front = echo(echo_servers["wsgi"], request), echo(echo_servers["front"], request)
        assert {k: front.get(k) for k in keys} == {k: wsgi.get(k) for k in keys}
        seen.append(front)
    odd, vote, chunked, old = seen
    assert odd["PATH_INFO"] == "/a b/\xc3\xa9/\xff/x/y"  # percent-decoded bytes, as latin-1
    assert odd["QUERY_STRING"] == "q=%C3%A9&r=1+2"  # raw
    assert odd["HTTP_COOKIE"] == "a=1; b=2" and odd["HTTP_X_TWICE"] == "1, 2"
    assert "HTTP_X_UNDER" not in odd  # an underscore could pose as a dash (X-Forwarded-For)
    assert odd["REMOTE_PORT"].isdigit() and odd["SERVER_PORT"] == str(echo_servers["front"])
    assert vote["CONTENT_LENGTH"] == "9" and vote["body"] == "poll=abcd"
    assert chunked["CONTENT_LENGTH"] == "5" and chunked["body"] == "abcde"
    assert old["SERVER_PROTOCOL"] == "HTTP/1.0"
    assert front["wsgi.multithread"] is True and front["wsgi.run_once"] is False


def test_serve_lifts_its_open_files_limit(start_server, server_env):
    """A thousand phones are a thousand descriptors: more than a common soft limit (1024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard <= 1024:
        pytest.skip(f"the hard limit is {hard}: nothing to lift")
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
    try:
        server = start_server(server_env)  # inherits the soft limit of 1024
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    limits = []
    for pid in processes_in_group(server.process.pid):
        text = Path(f"/proc/{pid}/limits").read_text()
        limits.append(int(re.search(r"Max open files\s+(\d+)", text).group(1)))
    assert len(limits) >= 3 and min(limits) > 1024


def test_the_sms_webhook_keeps_its_larger_body_limit(start_server, server_env):
    """Twilio's longest text (1,600 emoji, ~19 KB form-encoded) passes the front; a vote
    body that size does not."""
    from conftest import TWILIO_TOKEN
    from twilio.request_validator import RequestValidator

    server = serve(start_server, server_env, client_timeout=3600)
    url = server.url + "/sms"
    params = {
        "MessageSid": "SM" + "3" * 32,
        "From": "+15551230001",
        "To": "+15005550006",
        "Body": "\N{GRINNING FACE}" * 1600,
        "AccountSid": "AC" + "4" * 32,
    }
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    text = requests.post(url, data=params, headers={"X-Twilio-Signature": signature}, timeout=GUARD)
    assert len(text.request.body) > 16384
    assert text.status_code == 200 and "<Response" in text.text
    vote = requests.post(server.url + "/vote", data={"poll": "x" * 20000}, timeout=GUARD)
    assert vote.status_code == 413
