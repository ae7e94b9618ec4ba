"""The phones of ``bench/room.py`` treat a closed keep-alive socket as a browser does.

A server may close an idle keep-alive connection just as a phone sends its next request on
it. A browser then sends the request again, once, on a new connection (Chromium does for
any method when no byte of the answer came), so the room must not count that as a failed
vote; but a new connection closed without an answer is a real failure and must count.
"""

from __future__ import annotations

import asyncio
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.room import Closed, Connection, Tally, build_request  # noqa: E402

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def read_request(reader: asyncio.StreamReader) -> bool:
    try:
        await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return False
    return True


async def serve(handler) -> tuple[asyncio.Server, int, list[int]]:
    """A real TCP server on a free loopback port; counts the connections it accepted."""
    accepted: list[int] = []

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        accepted.append(1)
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(on_connection, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], accepted


async def answer_once_then_drop_the_next(reader, writer) -> None:
    """Answer the first request; close on the second without a byte of answer."""
    if await read_request(reader):
        writer.write(ANSWER)
        await writer.drain()
    await read_request(reader)


async def drop_at_once(reader, writer) -> None:
    await read_request(reader)


def run(scenario):
    """``asyncio.run(scenario())`` on a thread of its own: the session's Playwright keeps an
    event loop running on this one, where ``asyncio.run`` refuses to start."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(lambda: asyncio.run(scenario())).result()


def request(port: int) -> bytes:
    return build_request("GET", "/api/live", f"127.0.0.1:{port}", {})


def test_a_request_on_a_reused_socket_the_server_closed_is_sent_again_once():
    async def scenario() -> tuple[list, int, int]:
        server, port, accepted = await serve(answer_once_then_drop_the_next)
        async with server:
            conn, tally = Connection("127.0.0.1", port), Tally()
            conn.tally = tally
            first = await conn.send(request(port))
            second = await conn.send(request(port))
            conn.close()
        return [first[0], second[0]], tally.resent, len(accepted)

    statuses, resent, connections = run(scenario)
    assert statuses == [200, 200]  # the phone got its answer, as a browser would
    assert resent == 1 and connections == 2  # by sending it again on a new connection


def test_a_new_connection_closed_without_an_answer_is_a_failure():
    async def scenario() -> tuple[int, int]:
        server, port, accepted = await serve(drop_at_once)
        async with server:
            conn, tally = Connection("127.0.0.1", port), Tally()
            conn.tally = tally
            with pytest.raises(Closed):
                await conn.send(request(port))
            conn.close()
        return tally.resent, len(accepted)

    resent, connections = run(scenario)
    assert resent == 0 and connections == 1  # not sent again: the room counts the error
