"""The loop that keeps a deck and the vote server in step, on a background thread.

Each tick (about 2.5 a second) it writes the deck's position, opens or closes polls, follows
moves made in another window, and reads the open decision's tally. Every call has a short
timeout, so a dead server only sets the offline badge. The loop ends by itself when the page
stops sending heartbeats: a closed browser tab leaves no kernel spinning.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from cyoa.deck.client import VoteClient
    from cyoa.deck.machine import Talk
    from cyoa.story.model import Scene, Story

TICK = 0.4  # seconds between reads of the tally: vote-to-chart stays well under 700 ms
HEARTBEAT_TIMEOUT = 8.0  # seconds without a sign from the page before the loop ends
TOLD = "Vote closed."  # what the deck says of a vote the other window closed


class Heartbeat(Protocol):
    def alive(self, timeout: float) -> bool:
        """True while the page has sent a sign of life within ``timeout`` seconds."""
        ...


class SyncedDeck(Protocol):
    """All the loop needs from a deck (:class:`cyoa.deck.deck.Deck` is one): it reads the
    story and moves the talk under ``lock``, and writes back what the presenter view shows."""

    story: Story
    talk: Talk
    lock: Any  # a threading.RLock: the talk is moved from this thread and the page's
    client: VoteClient | None
    controller: Heartbeat  # the page's heartbeat: the loop ends when it stops
    placeholder: bool  # a stand-in story (--watch): its position is never written
    watches_sources: bool  # the presenter's window: it reads and moderates the sources
    # Written by the loop, shown by the presenter view:
    talk_started: float
    rehearsal: bool
    audience: int | None
    sources: dict | None

    def refresh(self) -> None:
        """Redraw what changed."""
        ...

    def fetch_qr(self) -> None:
        """Fetch the join panel's QR code (once) while a decision is on screen."""
        ...

    def note_error(self, error: BaseException) -> None:
        """Show an error the loop caught instead of dying of it."""
        ...


class Sync:
    """Reconciles one deck with the vote server; ``start`` is safe to call on every heartbeat."""

    def __init__(self, deck: SyncedDeck, tick: float = TICK, timeout: float = HEARTBEAT_TIMEOUT):
        self.deck = deck
        self.tick_seconds = tick
        self.timeout = timeout
        self.synced: tuple[str, tuple[str, ...]] | None = None  # (scene, path) the server has
        self.seen_updated = 0.0  # the server's ``updated`` of the last state we agreed on
        self.arrived = ""  # the decision scene whose poll is set up
        self.arrived_at = 0.0  # when (monotonic) that poll was set up: the join panel went up
        self.reopen: set[str] = set()
        self.resets: set[str] = set()  # polls whose votes the presenter asked to forget
        self.restart_clock = False
        self.moderation: list[tuple[str, str]] = []  # ("lift", poll) or ("discard:<src>", poll)
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        with self._lock:
            if self.deck.client is None or self.running:
                return
            self._thread = threading.Thread(target=self._loop, name="cyoa-deck-sync", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while self.deck.controller.alive(self.timeout):
            try:
                self.tick()
            except Exception as error:  # the loop must outlive any surprise; show, not die
                self.deck.note_error(error)
            self._wake.wait(self.tick_seconds)
            self._wake.clear()

    def resume(self) -> None:
        """Take the talk's position from the server (a reload, a restart, another window)."""
        client = self.deck.client
        state = client.state() if client else None
        if state and state.get("scene") in self.deck.story.by_id:
            with self.deck.lock:
                self.deck.talk.jump(state["scene"], state.get("path") or None)
                self.synced = (state["scene"], tuple(state.get("path") or ()))
                self.seen_updated = float(state.get("updated") or 0)
        if state:
            self._talk_facts(state)

    def _talk_facts(self, state: dict) -> None:
        """What the presenter view shows of the talk: its clock, rehearsal mark, phones."""
        deck = self.deck
        deck.talk_started = float(state.get("clock") or deck.talk_started or 0)
        deck.rehearsal = bool(state.get("rehearsal"))
        audience = state.get("audience")
        deck.audience = int(audience) if isinstance(audience, int) else None

    def tick(self) -> None:
        """One round trip of reconciliation; each step is skipped while the server is down."""
        deck, client = self.deck, self.deck.client
        if client is None:
            return
        if deck.placeholder:  # no story yet (--watch): never write a stand-in's position
            deck.refresh()
            return
        if client.offline and not client.healthy():
            deck.refresh()
            return
        if deck.talk.choice is not None:
            deck.fetch_qr()
        self._push_state()
        self._polls()
        if self.restart_clock:
            state = client.restart_clock()
            if state is not None:
                self.restart_clock = False
                deck.talk_started = float(state.get("clock") or 0)
        self._follow()
        poll = deck.talk.poll
        if poll and self.arrived == deck.talk.scene.id:
            if deck.watches_sources:  # first, so the tally read next shows its effect
                self._moderate(poll)
            results = client.results(poll)
            if results is not None and self._closed_elsewhere(poll, results):
                self._close(poll)  # its time ran out: close it, decide on that answer
            elif results is not None:
                with deck.lock:
                    deck.talk.update(poll, results)
        deck.refresh()

    def _closed_elsewhere(self, poll: str, results: dict) -> bool:
        """The server reads this poll as closed, and this deck has not closed it: its time
        limit ran out (or the other window closed it). Mark it closing here, as the close
        key does, so the deck decides on the close call's answer, never on a read."""
        deck = self.deck
        with deck.lock:
            if results.get("status") != "closed" or deck.talk.tally(poll).final:
                return False
            left = deck.talk.tally(poll).seconds_left()  # counted down to 0, give or take
            deck.talk.closing.add(poll)
            if poll == deck.talk.poll:
                timed_out = left is not None and left <= 1
                deck.talk.message = "Time is up: the vote is closed." if timed_out else TOLD
        return True

    def _close(self, poll: str) -> None:
        """Close ``poll`` on the server and take its answer: the final count."""
        deck, client = self.deck, self.deck.client
        assert client is not None
        results = client.action(poll, "close")
        with deck.lock:
            if results is not None:
                deck.talk.update(poll, results)
            elif not client.offline:  # the server never had this poll: nothing to count
                deck.talk.closing.discard(poll)
                tally = deck.talk.tally(poll)
                tally.status, tally.final = "closed", True

    def _moderate(self, poll: str) -> None:
        """The presenter's view of the poll's sources; carry out a lift or a discard."""
        deck, client = self.deck, self.deck.client
        assert client is not None
        for action, target in list(self.moderation):
            if action == "lift":
                done = client.lift_cap(target)
            else:
                done = client.discard(target, action.removeprefix("discard:"))
            if done is not None or not client.offline:
                self.moderation.remove((action, target))
        report = client.sources(poll)
        if report is not None:
            deck.sources = report

    def _push_state(self) -> None:
        deck = self.deck
        with deck.lock:
            want = (deck.talk.scene.id, tuple(deck.talk.path))
        if want == self.synced:
            return
        state = deck.client.put_state(want[0], list(want[1]))  # type: ignore[union-attr]
        if state is not None:
            self.synced, self.seen_updated = want, float(state.get("updated") or 0)

    def _polls(self) -> None:
        """Set up the poll of a decision we just reached; send closes and reopens."""
        deck, client = self.deck, self.deck.client
        assert client is not None
        with deck.lock:
            scene, poll = deck.talk.scene, deck.talk.poll
            closing = set(deck.talk.closing)
        if poll and self.arrived != scene.id:
            results = self._define(poll, scene)
            unopened = results is None or results["status"] == "draft"
            if unopened and not client.offline and poll not in closing:
                results = client.action(poll, "open")
            if results is not None:
                with deck.lock:
                    deck.talk.update(poll, results)
                self.arrived, self.arrived_at = scene.id, time.monotonic()
        for each in sorted(self.resets):
            reset = client.action(each, "reset")
            results = client.action(each, "open") if reset is not None else None
            if results is not None:
                self.resets.discard(each)
                with deck.lock:
                    deck.talk.update(each, results)
        for each in sorted(self.reopen):
            results = client.action(each, "open")
            if results is not None:
                self.reopen.discard(each)
                with deck.lock:
                    deck.talk.update(each, results)
        for each in sorted(closing):
            self._close(each)

    def _define(self, poll: str, scene: Scene) -> dict | None:
        """Give the server the decision as the story says it now (question, options,
        settings: a story reloaded by --watch may have changed them); its results."""
        client, choice = self.deck.client, scene.choice
        assert client is not None and choice is not None
        options = [{"key": o.key, "label": o.label, "words": list(o.sms)} for o in choice.options]
        results = client.define_poll(
            poll,
            choice.question,
            options,
            scene.id,
            hide_results=choice.hide_results,
            time_limit=choice.time_limit,
        )
        if results is None and not client.offline:  # 409: it has votes for other options
            results = client.results(poll)
        return results

    def _follow(self) -> None:
        """Adopt a move made elsewhere (the presenter view), unless ours is not yet written."""
        deck = self.deck
        state = deck.client.state()  # type: ignore[union-attr]
        if state:
            self._talk_facts(state)
        if not state or float(state.get("updated") or 0) <= self.seen_updated:
            return
        scene, path = state.get("scene", ""), tuple(state.get("path") or ())
        with deck.lock:
            mine = (deck.talk.scene.id, tuple(deck.talk.path))
            if mine != self.synced:
                return
            self.seen_updated = float(state.get("updated") or 0)
            if (scene, path) != mine and scene in deck.story.by_id:
                deck.talk.jump(scene, list(path))
                self.synced = (deck.talk.scene.id, tuple(deck.talk.path))
