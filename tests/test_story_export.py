"""``cyoa export``: the static site, written by the CLI, then read in a real Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urldefrag, urlparse
from urllib.request import url2pathname

import pytest
from click.testing import CliRunner
from story_helpers import write_story

from cyoa.cli import main
from cyoa.story.loader import default_story_path, load_story
from cyoa.story.paths import enumerate_paths

STORY_LINKS = "section.choice a, p.next a"


def export(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["export", *args])
    return result.exit_code, result.stdout, result.stderr


def room_results(story, through: str | None = None) -> dict:
    """A results export shaped like the vote server's: the room took every default option,
    or (``through``) the first path through that scene."""
    defaults = {scene.id: scene.choice.default for scene in story.decisions}
    path = next(
        p
        for p in enumerate_paths(story)
        if (through in p.scenes if through else all(defaults[s] == k for s, k in p.picks))
    )
    polls = []
    for number, (scene_id, key) in enumerate(path.picks, start=1):
        choice = story.scene(scene_id).choice
        votes = {option.key: (30 if option.key == key else 10) for option in choice.options}
        polls.append(
            {
                "poll": f"p{number}",
                "scene": scene_id,
                "question": choice.question,
                "options": [
                    {"key": o.key, "label": o.label, "votes": votes[o.key]} for o in choice.options
                ],
                "total": sum(votes.values()),
                "winner": key,
            }
        )
    return {"talk": "pycon", "story": story.name, "path": list(path.scenes), "polls": polls}


@pytest.fixture(scope="module")
def shipped():
    return load_story(default_story_path())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, shipped) -> Path:
    """The shipped story exported once for the module, with the room's results."""
    out = tmp_path_factory.mktemp("site") / "out"
    results = out.parent / "results.json"
    results.write_text(json.dumps(room_results(shipped)))
    code, _, stderr = export(str(out), "--results", str(results))
    assert code == 0, stderr
    return out


def test_export_writes_a_page_per_scene_and_shows_progress(shipped, tmp_path: Path) -> None:
    code, out, err = export(str(tmp_path / "site"))
    assert code == 0, err
    assert "Exporting" in out
    assert f"Wrote 56 scene pages to {tmp_path / 'site'}" in out
    pages = sorted(p.stem for p in (tmp_path / "site" / "scenes").glob("*.html"))
    assert pages == sorted(scene.id for scene in shipped.scenes)
    for name in ("index.html", "handout.html", "style.css", "media/images/deploy-map.svg"):
        assert (tmp_path / "site" / name).is_file()


def test_the_exported_html_names_no_other_host(site: Path) -> None:
    for page in site.rglob("*.html"):
        html = page.read_text()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), page
        assert "@import" not in html
    assert "url(" not in (site / "style.css").read_text()


def test_export_of_a_custom_story_into_an_earlier_export(tmp_path: Path) -> None:
    root = write_story(tmp_path / "story")
    out = tmp_path / "site"
    assert export(str(root), str(out))[0] == 0
    (out / "scenes" / "stale.html").write_text("old")
    code, stdout, _ = export(str(root), str(out))
    assert code == 0
    assert sorted(p.name for p in (out / "scenes").iterdir()) == [
        "left.html",
        "pick.html",
        "right.html",
        "start.html",
    ]
    assert "Wrote 4 scene pages" in stdout


def test_export_refuses_a_folder_holding_other_files(tmp_path: Path) -> None:
    (tmp_path / "thesis.tex").write_text("precious")
    code, _, err = export(str(tmp_path))
    assert code == 1
    assert "is not empty and holds no earlier export; pick an empty folder" in err
    assert (tmp_path / "thesis.tex").read_text() == "precious"


def test_export_refuses_a_broken_story(tmp_path: Path) -> None:
    root = write_story(tmp_path / "story", replace={"01-start.md": None})
    code, _, err = export(str(root), str(tmp_path / "site"))
    assert code == 1
    assert "error: start scene 'start' does not exist" in err
    assert "Error: 1 error; not exporting" in err
    assert not (tmp_path / "site").exists()


def test_export_refuses_results_for_another_story(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"talk": "t", "story": "wsgi", "path": ["welcome", "nope"]}))
    code, _, err = export(str(tmp_path / "site"), "--results", str(results))
    assert code == 1
    assert "the path names scenes that are not in 'wsgi': nope" in err
    results.write_text("[1, 2]")
    code, _, err = export(str(tmp_path / "site"), "--results", str(results))
    assert "not a results export from the vote server" in err


def test_export_takes_the_vote_servers_results_as_they_come(tmp_path: Path) -> None:
    """Extra fields, a poll still open, a path cut short: the export still highlights it."""
    results = tmp_path / "results.json"
    poll = {"poll": "p1", "question": "What did you build?", "status": "open", "scene": "",
            "hide_results": False, "total": 3, "winner": None,
            "options": [{"key": "1", "label": "Tinder for Pets", "votes": 3}]}  # fmt: skip
    path = ["welcome", "how-to-vote", "startup", "product", "pets"]
    data = {"talk": "t1", "story": None, "scene": "pets", "path": path, "polls": [poll]}
    results.write_text(json.dumps(data))
    code, _, err = export(str(tmp_path / "site"), "--results", str(results))
    assert code == 0, err
    assert "warning" not in err
    index = (tmp_path / "site" / "index.html").read_text()
    assert "The room's path" in index
    assert len(re.findall(r'class="node [a-z-]+ taken"', index)) == len(path)


@pytest.fixture
def chromium(browser):
    """The session's one Chromium (conftest): Playwright's sync API runs one loop at a time."""
    return browser


@pytest.fixture
def page(chromium):
    """A browser tab that records every request it makes."""
    context = chromium.new_context()
    tab = context.new_page()
    tab.requests = []
    tab.on("request", lambda request: tab.requests.append(request.url))
    yield tab
    context.close()


def file_of(url: str) -> Path:
    return Path(url2pathname(urlparse(urldefrag(url)[0]).path))


@pytest.mark.browser
def test_every_link_on_every_page_leads_to_a_real_file(site: Path, page) -> None:
    """Crawl from the index: every page, image and link resolves, and only file:// is asked."""
    start = (site / "index.html").as_uri()
    queue, seen = [start], {start}
    while queue:
        url = queue.pop()
        page.goto(url)
        assert page.title().endswith("Choose Your Own WSGI Deployment Adventure")
        broken = page.eval_on_selector_all(
            "img", "imgs => imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
        )
        assert broken == [], url
        for href in page.eval_on_selector_all(
            "a[href]",
            "links => links.map(a => new URL(a.getAttribute('href'), document.baseURI).href)",
        ):
            assert href.startswith("file://"), (url, href)
            assert file_of(href).is_file(), f"{url} links to a missing {href}"
            target = urldefrag(href)[0]
            if target.endswith(".html") and target not in seen:
                seen.add(target)
                queue.append(target)
    assert len(seen) == 56 + 2  # every scene page, the index and the handout
    assert page.requests and all(url.startswith("file://") for url in page.requests)


@pytest.mark.browser
def test_following_links_from_the_index_walks_every_path_to_an_ending(
    site: Path, shipped, page
) -> None:
    """Click "Start", then every option and every "Next" on every page a click reaches.

    Each page is the same whichever way a reader arrives, so clicking every link of every
    reachable page once shows every path; the paths through what the clicks found must be
    exactly the story's 64, each ending on a page that says "The end".
    """
    page.goto((site / "index.html").as_uri())
    page.click("a.start")
    start = page.get_attribute("article.scene", "data-scene")
    links_found: dict[str, list[str]] = {}
    endings: set[str] = set()
    pending = [page.url]
    while pending:
        url = pending.pop()
        page.goto(url)
        scene_id = page.get_attribute("article.scene", "data-scene")
        if scene_id in links_found:
            continue
        links_found[scene_id] = []
        if page.locator("section.ending").count():
            assert page.locator("section.ending h2").inner_text().startswith("The end: ")
            endings.add(scene_id)
            continue
        count = page.locator(STORY_LINKS).count()
        assert count >= 1, f"{scene_id} is a dead end in the export"
        for index in range(count):
            if index:
                page.goto(url)
            page.locator(STORY_LINKS).nth(index).click()
            links_found[scene_id].append(page.get_attribute("article.scene", "data-scene"))
            pending.append(page.url)

    def paths_from(scene_id: str, trail: tuple[str, ...]) -> list[tuple[str, ...]]:
        trail = (*trail, scene_id)
        if scene_id in endings:
            return [trail]
        return [p for t in links_found[scene_id] if t not in trail for p in paths_from(t, trail)]

    walked = paths_from(start, ())
    expected = [path.scenes for path in enumerate_paths(shipped)]
    assert len(walked) == len(expected) == 64
    assert sorted(walked) == sorted(expected)
    assert endings == {"ending-funded", "ending-bootstrapped"}
    assert all(url.startswith("file://") for url in page.requests)


@pytest.mark.browser
def test_the_rooms_path_is_highlighted(site: Path, shipped, page) -> None:
    room = room_results(shipped)
    page.goto((site / "index.html").as_uri())
    taken = page.eval_on_selector_all(
        "svg.story-map a.node.taken", "nodes => nodes.map(n => n.dataset.scene)"
    )
    assert sorted(taken) == sorted(room["path"])
    assert page.locator("svg.story-map path.edge.taken").count() == len(room["path"]) - 1
    assert page.locator("ol.room-path li").count() == len(room["path"])
    assert page.locator("#paths li.taken").count() == 1

    page.goto((site / "scenes" / "product.html").as_uri())
    picked = page.locator("li.option.picked")
    assert picked.count() == 1
    assert "Dachshund Doc Send" in picked.inner_text()
    assert "the room's choice" in picked.inner_text()
    assert "30 votes (75%)" in picked.inner_text()
    assert "10 votes (25%)" in page.locator("li.option").first.inner_text()


@pytest.mark.browser
def test_the_handout_prints_one_scene_per_page(site: Path, page) -> None:
    page.goto((site / "handout.html").as_uri())
    assert page.locator("article.scene").count() == 56
    page.emulate_media(media="print")
    assert not page.locator("nav.site").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= 57  # a cover, then every scene on a page of its own
    assert all(url.startswith("file://") for url in page.requests)


def test_a_scene_shows_the_recording_of_the_product_the_room_built(shipped, tmp_path: Path) -> None:
    """The pets room's export shows the pets app's run; Doc Send's shows its own."""
    for product, name, other in (
        ("pets", "Tinder for Pets", "Dachshund Doc Send"),
        ("doc-send", "Dachshund Doc Send", "Tinder for Pets"),
    ):
        results = tmp_path / f"{product}.json"
        results.write_text(json.dumps(room_results(shipped, through=product)))
        out = tmp_path / product
        code, _, err = export(str(out), "--results", str(results))
        assert code == 0, err
        mvp = next(s for s in shipped.scenes if s.demo == "app" and product in s.id)
        page = (out / "scenes" / f"{mvp.id}.html").read_text()
        assert name in page and other not in page, (product, mvp.id)
