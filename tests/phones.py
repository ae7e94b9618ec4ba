"""Phones with addresses of their own, over real HTTP, for tests against a real server.

Linux routes all of 127.0.0.0/8 to the loopback interface, so a client socket bound to
127.0.5.1 before it connects reaches a server on 127.0.0.1 from that address: the server
sees one phone per address, as on a venue's Wi-Fi.
"""

from __future__ import annotations

import http.client
import json
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

from cyoa.voteserver.rehearse import read_form


class Phone:
    """One browser: a source address, a cookie jar, the page's CSRF token."""

    def __init__(self, base_url: str, address: str) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.address = address
        self.cookies: dict[str, str] = {}
        self.csrf = ""
        self.poll = ""

    def request(
        self, method: str, path: str, body: str = "", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(
            self.host, self.port, timeout=15, source_address=(self.address, 0)
        )
        try:
            sent = dict(headers or {})
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            connection.request(method, path, body=body or None, headers=sent)
            response = connection.getresponse()
            data = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                jar: SimpleCookie = SimpleCookie()
                jar.load(header)
                self.cookies.update({name: morsel.value for name, morsel in jar.items()})
            return response.status, data
        finally:
            connection.close()

    def load(self) -> int:
        """``GET /``: the voter cookie (on the first load) and the form's CSRF token."""
        status, html = self.request("GET", "/")
        form = read_form(html.decode())
        self.csrf, self.poll = form.fields.get("csrf", ""), form.fields.get("poll", "")
        return status

    def vote(self, choice: str, poll: str = "") -> tuple[int, dict[str, Any]]:
        """The page's own vote (``fetch``, JSON): the status and the JSON answer."""
        body = urlencode({"poll": poll or self.poll, "choice": choice, "csrf": self.csrf})
        status, data = self.request(
            "POST",
            "/vote",
            body,
            {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        return status, json.loads(data)


def address(i: int, block: int = 5) -> str:
    """The ``i``-th phone's address in 127.0.<block>.x, 127.0.<block + 1>.x, ..."""
    return f"127.0.{block + i // 250}.{1 + i % 250}"
