"""The deck: a story, a talk state machine, a vote-server client and one of two views.

``Deck(story, client)`` is what ``notebooks/present.ipynb`` displays; ``presenter=True``
gives the presenter's view of the same talk. Both read and write the one talk state held by
the vote server, so they follow each other, and a reload resumes where the talk was.
"""

from __future__ import annotations

import html
import os
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from cyoa.deck import render
from cyoa.deck.controller import Controller
from cyoa.deck.demo import DemoPanel
from cyoa.deck.endlink import end_link_html
from cyoa.deck.machine import Step, Talk
from cyoa.deck.presenter_view import PresenterView
from cyoa.deck.sync import Sync
from cyoa.deck.views import SlideView
from cyoa.story.variants import scene_on_path

if TYPE_CHECKING:
    import ipywidgets

    from cyoa.deck.client import VoteClient
    from cyoa.deck.reload import Reloader
    from cyoa.story.model import Story


NO_PHONES_WARNING = 30.0  # seconds of an open vote with no phone before the presenter is told
MAX_PROBLEMS_SHOWN = 8  # the slide lists this many of the checker's messages, then a count


def story_path(path: str | os.PathLike | None = None) -> Path:
    """The folder named by ``path``, else ``CYOA_STORY``, else the adventure cyoa ships."""
    from cyoa.story.loader import default_story_path

    return Path(path or os.environ.get("CYOA_STORY") or default_story_path())


def load_story(path: str | os.PathLike | None = None) -> Story:
    """The story named by ``path``, else ``CYOA_STORY``, else the adventure cyoa ships."""
    from cyoa.story.loader import load_story as load

    return load(story_path(path))


def skip_slow_imports() -> None:
    """Spare the deck's kernel 5 s of start-up (measured on the 2-core test machine).

    plotly imports nbformat, whose jsonschema imports ``rfc3987_syntax`` when it is installed
    (jupyter-events needs it), and that module compiles a grammar at import. The deck's
    kernel validates no IRIs, so the import is made to fail there (jsonschema then skips that
    one format check). Called only in the deck's kernel, never in a shared process.
    """
    import sys

    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


class Deck:
    """One window on the talk: the projector's slides, or (``presenter=True``) the laptop's."""

    def __init__(
        self,
        story: Story,
        client: VoteClient | None = None,
        *,
        audience_url: str = "",
        sms_number: str = "",
        theme: str = "dark",
        presenter: bool = False,
    ) -> None:
        self.story = story
        self.client = client
        self.audience_url = audience_url or (client.base_url + "/" if client else "")
        self.sms_number = sms_number
        self.talk = Talk(story)
        self.lock = threading.RLock()
        self.error = ""
        self.talk_started = 0.0  # the talk clock's start (epoch seconds), from the server
        self.rehearsal = False  # this talk is a rehearsal (cyoa present --rehearse)
        self.audience: int | None = None  # phones with the audience page open (server's count)
        self.sources: dict | None = None  # the open decision's sources report (presenter view)
        self.watches_sources = presenter  # only the presenter's window asks for it
        self._qr = ""
        self._scenes: dict[str, str] = {}
        self.problems: list[str] = []  # the checker's errors since the last good save (--watch)
        self.placeholder = False  # the story failed at start: a stand-in, not the talk's story
        self.reloader: Reloader | None = None
        self.demos = DemoPanel(story.root, self.refresh, path=lambda: self.talk.path)
        self.controller = Controller(self.act, self._beat, theme=theme)
        self.sync = Sync(self)
        self.sync.resume()
        self.view = PresenterView(self) if presenter else SlideView(self)
        self.refresh()

    @classmethod
    def from_env(cls, story: Story | None = None, presenter: bool = False) -> Deck:
        """The deck as ``cyoa present`` configured it through the kernel's environment.

        With ``CYOA_WATCH=1`` (``cyoa present --watch``) the deck reloads its story on every
        save, and a story that fails here gives a deck showing why, not a dead kernel.
        """
        from cyoa.deck.client import VoteClient
        from cyoa.deck.reload import placeholder
        from cyoa.story.verdict import checked

        skip_slow_imports()
        watching = os.environ.get("CYOA_WATCH") == "1"
        root, problems, stand_in = story_path(), [], False
        if story is None and watching:  # a story that loads but does not check still
            story, problems = checked(root)  # gives the talk's position; else a stand-in
            if story is None:
                story, stand_in = placeholder(root), True
        story = story or load_story()

        deck = cls(
            story,
            VoteClient.from_env(),
            audience_url=os.environ.get("CYOA_AUDIENCE_URL", ""),
            sms_number=os.environ.get("CYOA_SMS_NUMBER", ""),
            theme=os.environ.get("CYOA_THEME", "dark"),
            presenter=presenter,
        )
        deck.placeholder = stand_in
        if problems:
            deck.show_problems(problems)
        if watching:
            deck.watch(root)
        ready = os.environ.get("CYOA_READY_FILE")
        if ready and not presenter:  # tells `cyoa present` the first slide is pre-rendered
            with open(ready, "w") as handle:
                handle.write(str(os.getpid()))
        return deck

    # -- the story, reloaded on every save (cyoa present --watch) -------------------------
    def watch(self, root: Path) -> Reloader:
        """Reload the story in ``root`` on every save from now on (see cyoa/deck/reload.py)."""
        from cyoa.deck.reload import Reloader

        if self.reloader is None:
            self.reloader = Reloader(self, root)
            self.reloader.start()
        return self.reloader

    def use_story(self, story: Story) -> None:
        """Show the talk in an edited story, at the same scene; the checker's messages go.

        A deck that stood in for a story that failed at start now takes the talk's position
        from the vote server, as a reload does.
        """
        with self.lock:
            before = self.talk.choice
            self.story = story
            if self.placeholder:
                self.talk = Talk(story)
            else:
                self.talk.use_story(story)
            self._scenes.clear()
            self.demos.forget_recordings()
            self.problems = []
            if self.talk.choice != before:  # the server gets the decision as it is now
                self.sync.arrived = ""
        if self.placeholder:
            self.sync.resume()  # first: the sync loop must not write the start scene over it
            self.placeholder = False
        self.refresh()
        self.sync.wake()

    def show_problems(self, problems: list[str]) -> None:
        """Put the checker's messages on the slide; the talk stays where it is."""
        with self.lock:
            self.problems = list(problems)
        self.refresh()

    @property
    def widget(self) -> ipywidgets.Widget:
        return self.view.root

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.view.root)

    @property
    def online(self) -> bool:
        return self.client is not None and not self.client.offline

    # -- actions (keys, clicker, presenter buttons) -----------------------------------------
    def act(self, action: str) -> Step:
        """Do one action by name: next, back, pick:N, close, reopen, reset, clock, demo,
        theme, jump:ID. Never calls the network: the sync loop carries it to the server."""
        talk, step = self.talk, Step("stay")
        with self.lock:
            if action == "next":
                step = talk.next(online=self.online)
            elif action == "back":
                step = talk.back()
            elif action.startswith("pick:") and action[5:].isdigit():
                step = talk.pick(int(action[5:]))
            elif action == "close":
                step = talk.close_vote()
            elif action == "reopen" and talk.poll:
                step = talk.reopen()
                self.sync.reopen.add(talk.poll)
            elif action == "reset" and talk.poll:
                step = talk.reset()
                self.sync.reopen.discard(talk.poll)
                self.sync.resets.add(talk.poll)
            elif action == "clock":
                self.sync.restart_clock = True
            elif action == "lift-cap" and talk.poll:
                self.sync.moderation.append(("lift", talk.poll))
            elif action.startswith("discard:") and talk.poll:
                self.sync.moderation.append((action, talk.poll))
            elif action == "demo" and talk.scene.demo:
                self.demos.run(talk.scene.demo)
            elif action == "theme":
                self.controller.theme = "light" if self.controller.theme == "dark" else "dark"
            elif action.startswith("jump:"):
                step = talk.jump(action[5:])
        self.refresh()
        self.sync.wake()
        return step

    def _beat(self) -> None:
        self.sync.start()  # the page is alive: (re)start the update loop if it ended

    # -- what the views show ---------------------------------------------------------------
    def refresh(self) -> None:
        """Bring the view up to date; never raises (a drawing error must not stop a talk)."""
        view = getattr(self, "view", None)
        if view is None:
            return
        try:
            with self.lock:
                view.render()
        except Exception as error:
            self.note_error(error)

    def note_error(self, error: BaseException) -> None:
        self.error = f"{type(error).__name__}: {error}"
        traceback.print_exception(error)

    def problems_html(self) -> str:
        """The slide while the story does not check: what is wrong, and where the talk is."""
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        items = "".join(f"<li><code>{html.escape(line)}</code></li>" for line in shown)
        more = len(self.problems) - len(shown)
        if more > 0:
            items += f"<li>and {more} more: cyoa check lists them all</li>"
        where = ""
        if not self.placeholder:
            where = f" The talk stays at “{html.escape(self.talk.scene.title)}”."
        return (
            '<h1 class="cyoa-title">The story does not check</h1>'
            f'<div class="cyoa-problems"><ul>{items}</ul>'
            f"<p>Fix the file and save: the slides come back.{where}</p></div>"
        )

    def scene_html(self, scene_id: str) -> str:
        if self.problems:
            return self.problems_html()
        scene = scene_on_path(self.story, scene_id, self.talk.path)  # the path's own variant
        key = f"{scene_id}\n{scene.body}"
        if key not in self._scenes:
            ending = scene.ending is not None and self.audience_url  # every path, as a QR code
            link = end_link_html(self.audience_url) if ending else ""
            self._scenes[key] = render.scene_html(self.story, scene) + link
        return self._scenes[key]

    def join_html(self) -> str:
        choice = self.talk.choice
        if choice is None:
            return ""
        return render.join_html(self.audience_url, self._qr, self.sms_number, choice)

    def fetch_qr(self) -> None:
        """Ask the vote server for the QR code once (from the sync thread, never a key press)."""
        if not self._qr and self.client is not None and self.audience_url:
            self._qr = self.client.qr_svg(self.audience_url)

    def demo_html(self) -> str:
        name = self.talk.scene.demo
        if not name:
            return ""
        state, output = self.demos.view(name)
        return render.demo_html(name, output, state)

    def badge_html(self) -> str:
        rehearsal = '<span class="cyoa-rehearsal">rehearsal</span> ' if self.rehearsal else ""
        if self.client is None:
            return '<span class="cyoa-offline">no vote server: pick with 1-9</span>'
        if self.client.offline:
            why = html.escape(self.client.error)
            return f'{rehearsal}<span class="cyoa-offline" title="{why}">offline</span>'
        return rehearsal

    def sources_html(self) -> str:
        """What stands out in this decision's votes (the cap's refusals, one address, a
        burst), for the presenter; nothing when all is well."""
        report = self.sources
        if self.talk.choice is None or not report or report.get("poll") != self.talk.poll:
            return ""
        cap = report.get("cap") or 0
        line = f"voters per address: {cap if cap else 'no cap'}"
        if report.get("refused"):
            line += f" · {report['refused']} refused"
        if report.get("discarded"):
            line += f" · {report['discarded']} discarded"
        alerts = "".join(f"<li>{html.escape(a)}</li>" for a in report.get("alerts", []))
        listed = f'<ul class="cyoa-warning">{alerts}</ul>' if alerts else ""
        return f'<div class="cyoa-sources"><p>{html.escape(line)}</p>{listed}</div>'

    def suspects(self) -> list[str]:
        """Sources the presenter may discard: addresses with ballots or refusals, busiest
        first (signed texts are one voter per phone, never one source)."""
        report = self.sources or {}
        return [
            s["source"]
            for s in report.get("sources", [])
            if s.get("kind") == "address" and not s.get("blocked") and (s["voters"] or s["refused"])
        ]

    def phones_html(self, now: float | None = None) -> str:
        """How many phones have the audience page open, while a vote is open.

        "0 phones" long after the join panel went up means the room cannot reach the URL
        (a VPN address, client isolation on the venue's Wi-Fi): say so, and what to check.
        """
        if self.talk.choice is None or self.audience is None:
            return ""
        count = self.audience
        text = f"{count} phone{'' if count == 1 else 's'} with the audience page open"
        waited = (now or time.monotonic()) - self.sync.arrived_at
        arrived = self.sync.arrived == self.talk.scene.id
        if count == 0 and arrived and waited >= NO_PHONES_WARNING:
            url = html.escape(self.audience_url)
            return (
                f'<p class="cyoa-phones cyoa-warning">{text} after {int(waited)} s: can phones '
                f"reach <b>{url}</b>? Try it on your own phone, on the venue's Wi-Fi; "
                "cyoa present listed this laptop's other addresses at start "
                "(restart with --public-url to change it).</p>"
            )
        return f'<p class="cyoa-phones">{text}</p>'
