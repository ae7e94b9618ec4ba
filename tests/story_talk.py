"""Playing a talk of the shipped story as the deck does: the presenter API over real HTTP.

The deck posts where it is (``PUT /api/state`` with the path so far) on every slide, and at
each decision defines, opens and closes the scene's poll. Shared by the end-page, results
and accessibility tests.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import requests
from conftest import PRESENTER_TOKEN, ROOT, SECRET_KEY, TWILIO_TOKEN, ServerProcess, free_port
from waiting import GUARD

from cyoa.story.loader import default_story_path, load_story
from cyoa.story.model import Story
from cyoa.story.paths import StoryPath, enumerate_paths


def start_vote_server(state_dir: Path, redis_url: str | None) -> ServerProcess:
    """A real ``cyoa serve`` for a whole test module (conftest's ``server`` is per test);
    ``redis_url`` None: its own embedded Redis in ``state_dir``, so it holds only this
    module's talks. The wait is only a guard: a loaded machine may take a while to start."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CYOA_", "TWILIO_"))}
    env.pop("REDIS_URL", None)
    env.update(
        CYOA_STATE_DIR=str(state_dir),
        CYOA_PRESENTER_TOKEN=PRESENTER_TOKEN,
        CYOA_SECRET_KEY=SECRET_KEY,
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        TWILIO_NUMBER="+15005550006",
        PYTHONPATH=str(ROOT),
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    state_dir.mkdir(parents=True, exist_ok=True)
    server = ServerProcess(env, free_port())
    try:
        return server.wait_ready(timeout=GUARD)
    except RuntimeError:
        server.stop()
        raise


def shipped_story() -> Story:
    return load_story(default_story_path())


def a_path(story: Story, number: int = -1) -> StoryPath:
    """One path from the start to an ending (the last one lists a different ending first)."""
    return enumerate_paths(story)[number]


class Deck:
    """The presenter's calls, with the bearer token, on one talk."""

    def __init__(self, url: str, talk: str, story: Story, rehearsal: bool = False) -> None:
        self.url, self.talk, self.story = url, talk, story
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {PRESENTER_TOKEN}"
        self.call(
            "post", "/api/talks", json={"talk": talk, "story": story.name, "rehearsal": rehearsal}
        )

    def call(self, method: str, path: str, **kwargs) -> dict:
        kwargs.setdefault("params", {"talk": self.talk})
        response = self.http.request(method, self.url + path, timeout=10, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()

    def show(self, scene: str, path: list[str]) -> None:
        self.call(
            "put", "/api/state", json={"scene": scene, "path": path, "story": self.story.name}
        )

    def open_decision(self, scene: str, hide_results: bool | None = None) -> None:
        choice = self.story.by_id[scene].choice
        assert choice is not None
        poll = {
            "question": choice.question,
            "options": [{"key": o.key, "label": o.label} for o in choice.options],
            "hide_results": choice.hide_results if hide_results is None else hide_results,
            "scene": scene,
        }
        self.call("put", f"/api/polls/{scene}", json=poll)
        self.call("post", f"/api/polls/{scene}/open")

    def close_decision(self, scene: str) -> dict:
        return self.call("post", f"/api/polls/{scene}/close")

    def play(
        self,
        path: StoryPath,
        at_decision: Callable[[str, str], None] | None = None,
        stop_before: int | None = None,
    ) -> list[str]:
        """Walk ``path`` slide by slide; at each decision open its poll, let
        ``at_decision(scene, key to take)`` vote, close it. Returns the path posted."""
        posted: list[str] = []
        scenes = list(path.scenes)[:stop_before]
        for index, scene_id in enumerate(scenes):
            posted.append(scene_id)
            self.show(scene_id, list(posted))
            scene = self.story.by_id[scene_id]
            if scene.choice and index + 1 < len(path.scenes):
                following = path.scenes[index + 1]
                key = next(o.key for o in scene.choice.options if o.goto == following)
                self.open_decision(scene_id)
                if at_decision:
                    at_decision(scene_id, key)
                self.close_decision(scene_id)
        return posted
