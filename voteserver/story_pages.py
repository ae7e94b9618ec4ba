"""``/story/``: the whole story, served by the vote server once the talk reaches an ending.

At the end of the original talk someone asked to see "all the paths we didn't take". When
the deck posts an ending scene (``PUT /api/state``), every phone's page links here: the
story map with the room's path marked, every scene, the printable handout. The pages are
the ones ``cyoa export`` writes (:mod:`story.export`), rendered on demand from the story
folder (``CYOA_STORY``) and the talk's path, so they need no network and no build step.
Before the ending the pages answer 404: the room should not read ahead of its own votes.

The story follows its files: under ``cyoa present --watch`` the author edits it during the
talk (the deck reloads it, cyoa/deck/reload.py), and the end pages must show the story the
room just saw. At most once a second (phones ask for the live feed every two), the files'
sizes and modification times are compared with the loaded story's; on a change the story
is loaded again. An edit that does not load or check keeps the last good story, with one
log line saying why.
"""

from __future__ import annotations

import mimetypes
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, redirect, render_template

from cyoa.story.export import STATIC_FILES, TEMPLATES, site_pages
from cyoa.story.loader import STORY_FILE, default_story_path, scene_files
from cyoa.story.model import Scene, Story
from cyoa.story.results import ResultsError, results_from_export
from cyoa.story.verdict import checked
from cyoa.voteserver.extensions import config_of, get_store
from cyoa.voteserver.logs import server_logger
from cyoa.voteserver.store import TalkState

bp = Blueprint("story", __name__)
log = server_logger("story")  # "cyoa: …" on the server's stderr (a plain logger shows nothing)

STORY_KEY = "cyoa.story"  # app.extensions[STORY_KEY]: the StoryFiles of the app's story
SITES_KEY = "cyoa.story.sites"  # rendered sites, by the talk's position
KEEP_SITES = 8
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PAGES = ("index.html", "handout.html")
LOOK_EVERY = 1.0  # seconds between two looks at the story's files (a few stat calls)


def story_folder(app: Flask) -> Path:
    configured = config_of(app).story
    return Path(configured) if configured else default_story_path()


Fingerprint = tuple[tuple[str, int, int, int], ...]


def fingerprint(folder: Path) -> Fingerprint:
    """What changes when a file of the story is saved: each file's name, size, modification
    time and inode (an editor that saves by renaming makes a new file)."""
    marks = []
    for file in (folder / STORY_FILE, *scene_files(folder)):
        try:
            stat = file.stat()
        except OSError:  # gone between the listing and the look: the next look sees it
            continue
        marks.append((str(file), stat.st_size, stat.st_mtime_ns, stat.st_ino))
    return tuple(marks)


@dataclass
class StoryFiles:
    """The app's story and the state of its files when it was loaded."""

    folder: Path
    story: Story | None = None
    loaded: Fingerprint | None = None  # the files of ``story``
    refused: Fingerprint | None = None  # files that did not load or check (logged once)
    looked: float = -LOOK_EVERY  # monotonic time of the last look at the files
    version: int = 0  # one more at each reload: rendered pages of an older story are stale
    lock: threading.Lock = field(default_factory=threading.Lock)

    def current(self) -> Story | None:
        """The story as its files are now, or the last good one; never raises."""
        if time.monotonic() - self.looked < LOOK_EVERY:
            return self.story
        if self.lock.acquire(blocking=self.loaded is None):  # others go on with the last one
            try:
                if time.monotonic() - self.looked >= LOOK_EVERY:
                    self._look()
                    self.looked = time.monotonic()
            finally:
                self.lock.release()
        return self.story

    def _look(self) -> None:
        marks = fingerprint(self.folder)
        if marks in (self.loaded, self.refused):
            return
        story, problems = checked(self.folder)  # never raises: a bug is one more line
        if self.story is None and story is not None:
            # an edit must also check (its pages link every goto); the first load need not,
            # as before reloads: a story with a checker error still had its end pages
            problems = []
        if problems:
            self.refused = marks
            more = f" (and {len(problems) - 1} more: cyoa check lists them)" if problems[1:] else ""
            log.warning(
                "the story in %s does not load or check, so /story/ %s: %s%s",
                self.folder,
                "keeps the last good version" if self.story else "is off",
                problems[0],
                more,
            )
            return
        if self.story is not None:
            log.info("the story in %s changed: /story/ shows the new version", self.folder)
        self.story, self.loaded, self.refused = story, marks, None
        self.version += 1


def story_files(app: Flask | None = None) -> StoryFiles:
    """The app's story and its files: one per app, made at the first request that asks."""
    app = app or current_app
    files = app.extensions.get(STORY_KEY)
    if files is None:
        files = app.extensions.setdefault(STORY_KEY, StoryFiles(story_folder(app)))
    return files


def loaded_story(app: Flask | None = None) -> Story | None:
    """The talk's story as its files are now (looked at once a second at most); after an
    edit that does not load or check, the last good one; None while none ever loaded."""
    return story_files(app).current()


def ending_of(state: TalkState, story: Story | None) -> Scene | None:
    """The ending scene the deck is on, if the talk is at one of this story's endings."""
    if story is None or (state.story and state.story != story.name):
        return None
    scene = story.by_id.get(state.scene)
    if scene is None or (scene.ending is None and scene.targets):
        return None
    return scene


def end_view(state: TalkState) -> dict[str, str] | None:
    """What a phone shows at the end: the ending's name and the link to the whole story."""
    story = loaded_story()
    scene = ending_of(state, story)
    if scene is None or story is None:
        return None
    return {
        "title": story.title,
        "ending": scene.ending.label if scene.ending else scene.title,
        "url": "/story/",
    }


def _site(talk: str, state: TalkState, story: Story) -> Any:
    """The rendered pages for the talk's position, kept for the next phone that asks."""
    sites: OrderedDict = current_app.extensions.setdefault(SITES_KEY, OrderedDict())
    key = (talk, tuple(state.path), state.scene, state.updated, story_files().version)
    if key not in sites:
        try:
            room = results_from_export(get_store().export(talk), story)
        except ResultsError:
            room = None
        sites[key] = (site_pages(story, room), {})
        while len(sites) > KEEP_SITES:
            sites.popitem(last=False)
    return sites[key]


def _ended_site() -> tuple[Story, Any, dict[str, str]]:
    """The story and its pages, or a 404 page while the current talk has not ended."""
    store = get_store()
    talk = store.current_talk_cached()
    state = store.get_state(talk)
    story = loaded_story()
    if ending_of(state, story) is None or story is None:
        abort(Response(render_template("story_closed.html"), 404, mimetype="text/html"))
    pages, cache = _site(talk, state, story)
    return story, pages, cache


def _html(cache: dict[str, str], name: str, render: Any) -> Response:
    if name not in cache:
        cache[name] = render()
    response = Response(cache[name], mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


@bp.get("/story")
def story_root() -> Response:
    return redirect("/story/", 308)


@bp.get("/story/")
def index() -> Response:
    _, pages, cache = _ended_site()
    return _html(cache, "index.html", pages.index_page)


@bp.get("/story/<name>")
def page(name: str) -> Response:
    """The index and the handout; the stylesheet and the icon the pages link to."""
    _, pages, cache = _ended_site()
    if name in PAGES:
        render = pages.index_page if name == "index.html" else pages.handout_page
        return _html(cache, name, render)
    if name in STATIC_FILES:
        mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
        response = Response((TEMPLATES / name).read_bytes(), mimetype=mimetype)
        response.cache_control.max_age = 3600
        return response
    abort(404)


@bp.get("/story/scenes/<scene>.html")
def scene_page(scene: str) -> Response:
    story, pages, cache = _ended_site()
    if scene not in story.by_id:
        abort(404)
    return _html(cache, f"scenes/{scene}", lambda: pages.scene_page(scene))


def _media(story: Story, relative: str) -> Response:
    """A scene's image, only if a scene shows it (never any other file of the folder)."""
    if story.root is None or relative not in {s.image for s in story.scenes if s.image}:
        abort(404)
    file = story.root / relative
    if not file.is_file():
        abort(404)
    mimetype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    response = Response(file.read_bytes(), mimetype=mimetype)
    response.cache_control.max_age = 3600
    return response


@bp.get("/story/media/<name>")
def media(name: str) -> Response:
    story, _, _ = _ended_site()
    return _media(story, name)


@bp.get("/story/media/<folder>/<name>")
def media_in_folder(folder: str, name: str) -> Response:
    story, _, _ = _ended_site()
    return _media(story, f"{folder}/{name}")
