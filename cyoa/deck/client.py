"""A small vote-server client for the deck: short timeouts, never an exception, an offline flag.

The deck must never freeze on the network: every call gives up within ``timeout`` seconds,
answers None instead of raising, and sets :attr:`VoteClient.offline` so the deck can show a
badge and leave the presenter in charge.
"""

from __future__ import annotations

import os
import threading
from typing import Any
from urllib.parse import urlsplit

import requests

TIMEOUT = 0.6  # seconds: a loopback server answers in milliseconds; a dead one is skipped
# Closing a vote is the one call whose answer decides the branch: wait longer than the
# server's own Redis timeout (CYOA_REDIS_TIMEOUT, 1 s by default, plus its 0.5 s margin), so a
# slow fsync at that moment gives the final tally, not a timeout.
CLOSE_TIMEOUT = 3.0
CLOSE_ATTEMPTS = 2


class VoteClient:
    """Presenter calls to one vote server (docs/http.md's contract), with the bearer token."""

    def __init__(self, base_url: str, token: str = "", timeout: float = TIMEOUT) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.offline = False
        self.error = ""
        self.failure: requests.RequestException | None = None  # why the last call got no answer
        self._local = threading.local()  # one requests.Session per thread: sessions aren't shared
        # The deck calls from the kernel's thread and the sync thread. The offline state is
        # set by the call that *started* last, so a slow old answer (success or failure)
        # landing after a newer one cannot flip the badge back and forth.
        self._state_lock = threading.Lock()
        self._started = 0
        self._settled = 0
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}

    @classmethod
    def from_env(cls) -> VoteClient | None:
        """The client ``cyoa present`` set up for the deck's kernel (None: no vote server)."""
        url = os.environ.get("CYOA_VOTE_URL", "")
        return cls(url, os.environ.get("CYOA_PRESENTER_TOKEN", "")) if url else None

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers.update(self._headers)
        return session

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        """One request; None (and ``offline``) when the server cannot be reached or fails."""
        kwargs.setdefault("timeout", self.timeout)
        with self._state_lock:
            self._started += 1
            ticket = self._started
        try:
            response = self.session.request(method, self.base_url + path, **kwargs)
        except requests.RequestException as error:
            self._settle(ticket, type(error).__name__, error)
            return None
        if response.status_code >= 500:
            self._settle(ticket, f"HTTP {response.status_code}")
            return None
        self._settle(ticket, "")
        return response

    def _settle(
        self, ticket: int, error: str, failure: requests.RequestException | None = None
    ) -> None:
        """Record a call's outcome, unless a call started after it has already spoken."""
        with self._state_lock:
            if ticket < self._settled:
                return
            self._settled = ticket
            self.offline, self.error, self.failure = bool(error), error, failure

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        if response is None or not response.ok:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    # -- the contract --------------------------------------------------------------------
    def healthy(self) -> bool:
        response = self.call("GET", "/healthz")
        return response is not None and response.ok

    def state(self) -> dict[str, Any] | None:
        return self._json("GET", "/api/state")

    def put_state(self, scene: str, path: list[str], story: str | None = None) -> dict | None:
        body: dict[str, Any] = {"scene": scene, "path": path}
        if story is not None:
            body["story"] = story
        return self._json("PUT", "/api/state", json=body)

    def talks(self) -> dict[str, Any] | None:
        """``{"current", "talks": [{"talk", "started"}]}``."""
        return self._json("GET", "/api/talks")

    def start_talk(
        self, story: str, talk: str | None = None, rehearsal: bool = False
    ) -> dict[str, Any] | None:
        body = {"talk": talk, "story": story, "rehearsal": rehearsal}
        return self._json("POST", "/api/talks", json=body)

    def define_poll(
        self,
        poll: str,
        question: str,
        options: list[dict[str, Any]],
        scene: str = "",
        *,
        hide_results: bool = False,
        time_limit: int | None = None,
    ) -> dict[str, Any] | None:
        """Create or update a poll with the decision's settings; its results afterwards."""
        body = {
            "question": question,
            "options": options,
            "scene": scene,
            "hide_results": hide_results,
            "time_limit": time_limit,
        }
        return self._json("PUT", f"/api/polls/{poll}", json=body)

    def action(self, poll: str, action: str) -> dict[str, Any] | None:
        """``open``, ``close`` or ``reset`` a poll; its results afterwards.

        A close is retried, with a timeout longer than the server's: its answer is the
        final tally the branch is decided on.
        """
        if action != "close":
            return self._json("POST", f"/api/polls/{poll}/{action}")
        for _attempt in range(CLOSE_ATTEMPTS):
            results = self._json("POST", f"/api/polls/{poll}/close", timeout=CLOSE_TIMEOUT)
            if results is not None or not self.offline:
                return results
        return None

    def sources(self, poll: str) -> dict[str, Any] | None:
        """Where a poll's votes come from, what the cap refused, and what stands out."""
        return self._json("GET", f"/api/polls/{poll}/sources")

    def lift_cap(self, poll: str) -> dict[str, Any] | None:
        """Turn the voters-per-address cap off for this poll (the room shares one address)."""
        return self._json("POST", f"/api/polls/{poll}/cap", json={"voters_per_address": 0})

    def discard(self, poll: str, source: str) -> dict[str, Any] | None:
        """Take back every ballot one source cast in this poll, and block it there."""
        return self._json("POST", f"/api/polls/{poll}/discard", json={"source": source})

    def restart_clock(self) -> dict[str, Any] | None:
        """Start the talk's clock again from now; the talk state afterwards."""
        return self._json("POST", "/api/clock")

    def results(self, poll: str) -> dict[str, Any] | None:
        return self._json("GET", f"/api/polls/{poll}")

    def export(self, talk: str, fmt: str = "json") -> Any:
        response = self.call("GET", f"/api/talks/{talk}/export.{fmt}", timeout=10)
        if response is None or not response.ok:
            return None
        return response.json() if fmt == "json" else response.text

    def qr_svg(self, audience_url: str) -> str:
        """The vote server's QR code of ``audience_url`` (asked for with that URL's host)."""
        host = urlsplit(audience_url).netloc
        response = self.call("GET", "/qr.svg", headers={"Host": host} if host else {})
        return response.text if response is not None and response.ok else ""
