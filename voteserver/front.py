"""The front of ``cyoa serve``: a whole request first, then the WSGI app in a thread.

A WSGI server hands a request to a Python thread as soon as its headers arrive, and the
thread then blocks reading the body: four phones that stalled mid-body held every thread of
``cyoa serve`` and no one else could vote (issue 8). This ASGI app reads the body on the
event loop, where a waiting client costs a coroutine, not a thread, and gives the WSGI app
(Flask and its fast vote path) only complete requests, in a small thread pool: what nginx's
request buffering does in front of a WSGI server, inside the one process. A body must arrive
within ``client_timeout`` seconds (else 408) and be at most ``max_body`` bytes (else 413,
refused on its Content-Length before any of it is read). The page's feed, ``GET /api/live``,
is answered here, on the event loop, from the worker's shared snapshot
(:mod:`voteserver.live`, issue 12); only a phone's first request to a worker goes to Flask.

asgiref's ``WsgiToAsgi`` also buffers the body, but with no deadline or size limit, and runs
every call on one shared thread (a vote waits on Redis's fsync: no overlap); a2wsgi's
``WSGIMiddleware`` reads the body from its thread, which is the stall again. Hence this module.
"""

from __future__ import annotations

import asyncio
import io
import json
import queue
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

from cyoa.voteserver.live import LiveFeed

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
Response = tuple[int, list[tuple[bytes, bytes]], bytes]


class BodyTooLarge(Exception):
    """The body grew past ``max_body`` (a client may omit or understate Content-Length)."""


class ClientGone(Exception):
    """The client disconnected before its body was complete: no one to answer."""


class BufferedFront:
    """ASGI app: read the whole body on the event loop, then run ``app`` in a worker thread.

    ``larger`` raises the body limit for some paths (the SMS webhook: Twilio's longest texts).
    """

    def __init__(
        self,
        app: WSGIApp,
        threads: int,
        max_body: int,
        client_timeout: float,
        larger: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_body = max_body
        self.larger = dict(larger or {})
        self.client_timeout = client_timeout
        self.threads = WorkerThreads(threads)
        # The page's feed, before Flask. Its snapshot is rebuilt by a thread of its own: in
        # the app's queue it would wait behind a room's page loads at each opening.
        self.live = LiveFeed.for_app(app, WorkerThreads(1))

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # granian runs no lifespan (ASGINL) and no websockets
            return
        if self.live is not None and self.live.handles(scope):
            await self.live_feed(scope, send)
            return
        limit = self.larger.get(scope["path"], self.max_body)
        declared = header(scope, b"content-length")
        length = int(declared) if declared.isdigit() else None
        if length is not None and length > limit:
            await refuse(send, 413, f"The request body is over {limit} bytes.")
            return
        try:
            async with asyncio.timeout(self.client_timeout):
                body = await read_body(receive, limit, length, chunked(scope))
        except TimeoutError:
            wait = f"{self.client_timeout:g}"
            await refuse(send, 408, f"The request body did not arrive within {wait} s.")
            return
        except BodyTooLarge:
            await refuse(send, 413, f"The request body is over {limit} bytes.")
            return
        except ClientGone:
            return
        status, headers, content = await self.threads.run(self.app, scope, body)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    async def live_feed(self, scope: dict[str, Any], send: Send) -> None:
        """``GET /api/live`` from the worker's shared snapshot (voteserver/live.py), or through
        Flask for a phone this worker has not yet marked present."""
        assert self.live is not None
        unmarked = await self.live(scope, header(scope, b"cookie"), send)
        if unmarked is None:
            return
        status, headers, content = await self.threads.run(self.app, scope, b"")
        if status < 400:
            self.live.marked(unmarked)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})


class WorkerThreads:
    """Threads that run complete requests through the WSGI app, fed by the event loop.

    A queue and ``call_soon_threadsafe``, not ``loop.run_in_executor``, whose futures and
    locks cost ~60 µs more per request on a 2-core machine (bench/README.md). Daemon
    threads: granian finishes the requests in flight before a worker exits.
    """

    def __init__(self, count: int) -> None:
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        for n in range(count):
            threading.Thread(target=self.work, name=f"cyoa-wsgi-{n}", daemon=True).start()

    def run(self, app: WSGIApp, scope: dict[str, Any], body: bytes) -> asyncio.Future[Response]:
        """The app's answer to this request, once a thread has run it."""
        return self.call(lambda: call_wsgi(app, wsgi_environ(scope, body)))

    def call(self, job: Callable[[], Any]) -> asyncio.Future:
        """What ``job()`` returns (or raises), once a thread has run it."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.jobs.put((loop, future, job))
        return future

    def work(self) -> None:
        while True:
            loop, future, job = self.jobs.get()
            try:
                answer = job()
            except BaseException as error:  # the request's coroutine raises it
                loop.call_soon_threadsafe(settle, future, None, error)
            else:
                loop.call_soon_threadsafe(settle, future, answer, None)


def settle(future: asyncio.Future, answer: Any, error: BaseException | None) -> None:
    """Resolve ``future`` on the loop, unless its request was cancelled (client gone)."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(answer)


def header(scope: dict[str, Any], name: bytes) -> str:
    """The first value of header ``name`` (lower case), or ``""``."""
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin-1").strip()
    return ""


def chunked(scope: dict[str, Any]) -> bool:
    """A body sent in chunks, its length unknown until the end."""
    return "chunked" in header(scope, b"transfer-encoding").lower()


async def read_body(receive: Receive, limit: int, length: int | None, chunked: bool) -> bytes:
    """Every chunk of the request body, as it arrives, up to ``limit`` bytes.

    With a Content-Length, the body is complete at that many bytes (the HTTP layer enforces
    it): no wait for the end-of-body message, one wake-up of the event loop fewer per vote.
    No Content-Length and not chunked: no body at all (a GET), nothing to wait for.
    """
    if length is None and not chunked:
        return b""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False) or size == length:
            return b"".join(chunks)


async def refuse(send: Send, status: int, message: str) -> None:
    """A JSON error, and the connection closed: the rest of its body is never read."""
    body = json.dumps({"error": message}, separators=(",", ":")).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


HTTP_VERSIONS = {"1": "HTTP/1.0", "1.0": "HTTP/1.0", "1.1": "HTTP/1.1", "2": "HTTP/2"}


def wsgi_environ(scope: dict[str, Any], body: bytes) -> dict[str, Any]:
    """The PEP 3333 environ a WSGI server would build for this ASGI ``scope`` and ``body``.

    PATH_INFO is the raw path percent-decoded to bytes and read as latin-1 (WSGI's "bytes in
    a str"), less SCRIPT_NAME; QUERY_STRING stays raw. Repeated headers are joined with
    ``", "`` (Cookie with ``"; "``); a header name with an underscore is dropped, as nginx
    and gunicorn do, so ``X_Forwarded_For`` cannot pose as ``X-Forwarded-For``.
    """
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    script = scope.get("root_path", "").encode("utf-8").decode("latin-1")
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
    path = unquote_to_bytes(raw_path).decode("latin-1")
    if script and path.startswith(script):
        path = path[len(script) :]
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": script,
        "PATH_INFO": path,
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": HTTP_VERSIONS.get(scope.get("http_version", "1.1"), "HTTP/1.1"),
        "REMOTE_ADDR": str(client[0]),
        "REMOTE_PORT": str(client[1]),
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "granian (cyoa front)",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    declared = False
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        if "_" in name:
            continue
        key = name.upper().replace("-", "_")
        if key == "CONTENT_LENGTH":
            declared = True
            continue
        if key != "CONTENT_TYPE":
            key = "HTTP_" + key
        if key in environ:
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ", ") + value
        environ[key] = value
    if body or declared:  # what the app will read: the buffered body, however it came
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def call_wsgi(app: WSGIApp, environ: dict[str, Any]) -> Response:
    """Run the WSGI app once (in a pool thread); its status, headers and whole body."""
    started: list[Any] = []
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        # Nothing is sent before the app returns, so a later call (with exc_info) may
        # always replace the first.
        started[:] = [status, headers]
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status, headers = started
    encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    return int(status[:3]), encoded, b"".join(chunks)
