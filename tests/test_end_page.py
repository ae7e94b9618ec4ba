"""At the end of the talk, every phone links to the whole story, served by the vote server.

Issue 11 section 4: the deck posts an ending scene, every phone shows "the end" and a link to
``/story/``: the story map with the room's path marked, every scene, the handout. Before
the ending those pages answer 404 (no reading ahead).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from conftest import ROOT
from playwright.sync_api import expect
from story_talk import Deck, a_path, shipped_story, start_vote_server
from waiting import wait_until

from cyoa.story.loader import default_story_path
from cyoa.voteserver.settings import load_config

SCREENSHOTS = ROOT / "tests" / "artifacts"  # docs/screenshots holds committed copies
WAIT = 30_000  # ms: a guard for a loaded machine; the phones poll every two seconds


@pytest.fixture(scope="module")
def story():
    return shipped_story()


def post_state(client, auth, story, scene: str, path: list[str]) -> None:
    body = {"scene": scene, "path": path, "story": story.name}
    assert client.put("/api/state", json=body, headers=auth).status_code == 200


def test_before_the_ending_the_story_is_closed_and_phones_vote_on(client, auth, story):
    path = a_path(story)
    middle = list(path.scenes[:5])
    post_state(client, auth, story, middle[-1], middle)
    assert client.get("/api/live").get_json()["status"] == "waiting"
    closed = client.get("/story/")
    assert closed.status_code == 404
    assert "opens here at the end" in closed.get_data(as_text=True)
    assert client.get(f"/story/scenes/{path.ending}.html").status_code == 404
    assert "The end" not in client.get("/").get_data(as_text=True)


def test_at_an_ending_the_phone_links_to_the_story_with_the_rooms_path(client, auth, story):
    path = a_path(story)
    post_state(client, auth, story, path.ending, list(path.scenes))
    live = client.get("/api/live").get_json()
    assert live["status"] == "end"
    assert live["end"]["url"] == "/story/"
    assert live["end"]["ending"] == story.by_id[path.ending].ending.label

    page = client.get("/").get_data(as_text=True)  # the page as it is without JavaScript
    assert '<h1 id="the-end">The end</h1>' in page
    assert 'href="/story/"' in page
    assert 'http-equiv="refresh"' not in page  # a reader at the end is not reloaded away

    assert client.get("/story").status_code == 308
    index = client.get("/story/")
    assert index.status_code == 200
    html = index.get_data(as_text=True)
    taken = set(re.findall(r'class="node [a-z-]+ taken" data-scene="([^"]+)"', html))
    assert taken == set(path.scenes)
    assert "The room's path" in html
    assert "default-src 'none'" in index.headers["Content-Security-Policy"]


def test_every_page_and_file_of_the_story_is_served(client, auth, story):
    path = a_path(story)
    post_state(client, auth, story, path.ending, list(path.scenes))
    for scene in story.scenes:
        answer = client.get(f"/story/scenes/{scene.id}.html")
        assert answer.status_code == 200, scene.id
        assert scene.title.replace("'", "&#39;") in answer.get_data(as_text=True)
    handout = client.get("/story/handout.html").get_data(as_text=True)
    assert handout.count('<article class="scene') == len(story.scenes)
    assert client.get("/story/style.css").mimetype == "text/css"
    images = {scene.image for scene in story.scenes if scene.image}
    for image in images:
        assert client.get(f"/story/media/{image}").status_code == 200
    assert client.get("/story/media/story.yaml").status_code == 404  # only what scenes show
    assert client.get("/story/media/..%2Fstory.yaml").status_code == 404
    assert client.get("/story/scenes/no-such-scene.html").status_code == 404


def test_a_talk_of_another_story_has_no_end_here(client, auth, story):
    path = a_path(story)
    body = {"scene": path.ending, "path": list(path.scenes), "story": "another-story"}
    assert client.put("/api/state", json=body, headers=auth).status_code == 200
    assert client.get("/api/live").get_json()["status"] == "waiting"
    assert client.get("/story/").status_code == 404


def test_the_story_folder_comes_from_cyoa_story(tmp_path: Path):
    """`cyoa present` passes the story folder to `cyoa serve` in CYOA_STORY."""
    assert load_config(environ={"CYOA_STORY": str(tmp_path)}).story == str(tmp_path)
    source = (ROOT / "cyoa" / "present.py").read_text()
    assert 'env["CYOA_STORY"] = str(settings.story)' in source


@pytest.mark.browser
def test_a_talk_played_to_its_end_links_every_phone_to_the_map(
    tmp_path, redis_url, browser, story, talk_id
):
    """Two phones follow a whole talk in Chromium; the first votes at every decision, and
    the room's path is the one its votes chose. At the end both show "The end"; the first
    follows the link to the map, where that path is marked."""
    server = start_vote_server(tmp_path / "serve", redis_url)
    try:
        play_to_the_end(server, browser, story, talk_id)
    finally:
        server.stop()


def play_to_the_end(server, browser, story, talk_id: str) -> None:
    path = a_path(story)
    deck = Deck(server.url, talk_id, story)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phones = []
    for _ in range(2):
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        page = context.new_page()
        page.goto(server.url + "/")
        expect(page.get_by_role("heading", name="Waiting for the next decision")).to_be_visible(
            timeout=WAIT
        )
        phones.append(page)
    phone = phones[0]
    requested: list[str] = []
    phone.on("request", lambda request: requested.append(request.url))
    first = []

    def vote(scene: str, key: str) -> None:
        question = story.by_id[scene].choice.question
        expect(phone.locator("#question")).to_have_text(question, timeout=WAIT)
        label = story.by_id[scene].choice.option(key).label
        button = phone.get_by_role("button", name=re.compile(re.escape(label)))
        if not first:
            phone.screenshot(path=str(SCREENSHOTS / "phone-decision.png"))
            first.append(scene)
        button.click()
        try:
            expect(button).to_have_attribute("aria-pressed", "true", timeout=WAIT)
        except AssertionError as error:  # say what the phone said
            flash = phone.locator("#flash").text_content()
            raise AssertionError(f"vote at {scene} not shown; the page says {flash!r}") from error

    played = deck.play(path, at_decision=vote)
    assert played == list(path.scenes)
    for page in phones:
        expect(page.get_by_role("heading", name="The end")).to_be_visible(timeout=WAIT)
        expect(page.locator(".ending-name")).to_have_text(story.by_id[path.ending].ending.label)
    phone.screenshot(path=str(SCREENSHOTS / "phone-end.png"))

    phone.get_by_role("link", name=re.compile("The whole story")).click()
    expect(phone).to_have_url(server.url + "/story/")
    expect(phone.get_by_role("heading", name="The room's path")).to_be_visible()
    marked = phone.locator("svg.story-map a.node.taken")
    expect(marked).to_have_count(len(set(path.scenes)))
    marked_ids = set(marked.evaluate_all("nodes => nodes.map(n => n.dataset.scene)"))
    assert marked_ids == set(path.scenes)
    phone.set_viewport_size({"width": 1280, "height": 900})
    phone.locator("#map").screenshot(path=str(SCREENSHOTS / "story-map.png"))

    phone.get_by_role("link", name="Handout").first.click()
    expect(phone.locator("article.scene")).to_have_count(len(story.scenes))
    hosts = {urlsplit(url).netloc for url in requested if not url.startswith("data:")}
    assert hosts == {urlsplit(server.url).netloc}  # nothing from anywhere else
    for page in phones:
        page.context.close()


# -- the story follows its files (cyoa present --watch edits it during the talk) ----------


def save(path: Path, text: str) -> None:
    """Save as an editor does: the whole new file at once (a rename)."""
    draft = path.with_name(f".{path.name}.draft")
    draft.write_text(text, encoding="utf-8")
    os.replace(draft, path)


def story_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "talk"
    shutil.copytree(default_story_path(), folder)
    return folder


def retitled(yaml_text: str, story, title: str) -> str:
    old = f"title: {story.title}"
    assert old in yaml_text  # the shipped story.yaml names its title on one line
    return yaml_text.replace(old, f"title: {title}", 1)


def story_page(url: str) -> requests.Response:
    return requests.get(url + "/story/", timeout=10)


# One worker: each worker process keeps its own story, and a worker that first looks at the
# files after a bad save never saw the good one before it (its last good one is older).
WORKERS = 1


def test_the_end_pages_follow_an_edit_and_keep_the_last_good_story(
    tmp_path, start_server, server_env, talk_id, story
):
    """A real ``cyoa serve`` on a copy of the story, at an ending: a save shows on /story/
    and in the phones' feed; a save that does not load (bad YAML), then one that does not
    check (a start that is no scene), keep the last good story with a clear line in the
    server's log, never a 500; the next good save shows again."""
    folder = story_copy(tmp_path)
    env = {**server_env, "CYOA_STORY": str(folder), "CYOA_WORKERS": str(WORKERS)}
    server = start_server(env)
    log = Path(server.log.name)
    path = a_path(story)
    Deck(server.url, talk_id, story).show(path.ending, list(path.scenes))
    assert story.title in story_page(server.url).text

    def logged(text: str) -> list[str]:
        """The server's log lines with ``text``, once a phone asked for the end page again
        (the story is looked at when a request needs it, in the worker that answers)."""
        story_page(server.url)
        return [line for line in log.read_text().splitlines() if text in line]

    story_yaml = folder / "story.yaml"
    original = story_yaml.read_text(encoding="utf-8")
    save(story_yaml, retitled(original, story, "Edited during the talk"))
    wait_until(lambda: logged("changed"), "the server reloads the story")
    assert "Edited during the talk" in story_page(server.url).text
    wait_until(  # the phones' feed, rebuilt from the story every quarter of a second
        lambda: "Edited during the talk" in requests.get(server.url + "/api/live", timeout=10).text,
        "the edited title in the phones' live feed",
    )

    save(story_yaml, retitled(original, story, "Broken: [") + "\n  : : :\n")
    said = wait_until(lambda: logged("does not load"), "the server says why it keeps the story")
    assert all("keeps the last good version" in line and "story.yaml" in line for line in said)
    page = story_page(server.url)
    assert page.status_code == 200 and "Edited during the talk" in page.text

    start = next(line for line in original.splitlines() if line.startswith("start:"))
    save(story_yaml, retitled(original, story, "Unchecked").replace(start, "start: no-such"))
    said = wait_until(lambda: logged("no-such"), "the server says the save does not check")
    assert all("keeps the last good version" in line for line in said), said
    page = story_page(server.url)
    assert page.status_code == 200 and "Edited during the talk" in page.text
    assert "Unchecked" not in page.text

    save(story_yaml, retitled(original, story, "Fixed after the typo"))
    wait_until(lambda: len(logged("changed")) == 2, "the server takes the fix")
    assert "Fixed after the typo" in story_page(server.url).text
    assert len(logged("does not load or check")) == 2  # one line per bad save, not per request


def test_a_story_looked_at_once_a_second_at_most(tmp_path, config, talk_id, story):
    """Phones ask for the live feed every two seconds: the story's files are looked at once a
    second at most, and the story is loaded again only when they changed."""
    import dataclasses

    from cyoa.voteserver.app import create_app
    from cyoa.voteserver.story_pages import LOOK_EVERY, loaded_story, story_files

    folder = story_copy(tmp_path)
    app = create_app(dataclasses.replace(config, story=str(folder)))
    try:
        with app.app_context():
            first = loaded_story()
            assert first is not None and first.title == story.title
            files = story_files()
            looked = files.looked
            assert loaded_story() is first and files.looked == looked  # within the second
            files.looked -= LOOK_EVERY  # as if a second went by: the files, unchanged
            assert loaded_story() is first and files.version == 1
            story_yaml = folder / "story.yaml"
            save(story_yaml, retitled(story_yaml.read_text(), story, "Saved"))
            files.looked -= LOOK_EVERY
            assert loaded_story().title == "Saved" and files.version == 2
    finally:
        app.extensions["cyoa.store"].redis.connection_pool.disconnect()
