"""Every audience compared (issue 11 section 5): ``cyoa results --all`` and ``/results/all``.

Three talks of the shipped story are played on a real ``cyoa serve`` with its own Redis (so
no other test's talks are counted), plus a rehearsal and a talk of another story that must
be left out; the comparison must show the ways they went, decision by decision.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from click.testing import CliRunner
from conftest import PRESENTER_TOKEN, ROOT
from playwright.sync_api import expect
from story_talk import Deck, a_path, shipped_story, start_vote_server

from cyoa.cli import main
from cyoa.story.compare import comparison_page, flow, talk_path
from cyoa.story.paths import enumerate_paths
from cyoa.story.results import Results

SCREENSHOTS = ROOT / "tests" / "artifacts"  # docs/screenshots holds committed copies
WAIT = 60_000  # ms: plotly.js is 4.8 MB to parse on a loaded machine


@pytest.fixture(scope="module")
def story():
    return shipped_story()


@pytest.fixture(scope="module")
def own_server(tmp_path_factory):
    """A vote server with an embedded Redis of its own: only this module's talks exist."""
    server = start_vote_server(tmp_path_factory.mktemp("results-serve"), None)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def played(own_server, story):
    """Talks "lyon" and "austin" took the first path, "berlin" the last, "madrid" began as
    the first and ended as the last; a rehearsal took another, and a talk of another story
    stopped at its start."""
    first, last = a_path(story, 0), a_path(story, -1)
    assert first.ending != last.ending
    mixed = next(
        path
        for path in enumerate_paths(story)
        if path.picks[0] == first.picks[0] and path.ending == last.ending
    )
    for talk, path in (("lyon", first), ("austin", first), ("berlin", last), ("madrid", mixed)):
        Deck(own_server.url, talk, story).play(path)
    Deck(own_server.url, "rehearsal", story, rehearsal=True).play(a_path(story, 1))
    other = Deck(own_server.url, "other-story", story)
    other.call("put", "/api/state", json={"scene": "x", "path": ["x"], "story": "another"})
    return own_server, first, last, mixed


def labels(story, path) -> list[str]:
    return path.labels(story)


def test_cyoa_results_all_lists_each_talk_and_every_decision(played, story, tmp_path: Path):
    server, first, last, mixed = played
    page = tmp_path / "every-audience.html"
    answer = CliRunner(env={"CYOA_PRESENTER_TOKEN": PRESENTER_TOKEN}).invoke(
        main, ["results", "--all", "--url", server.url, "--html", str(page)]
    )
    assert answer.exit_code == 0, answer.output
    lines = answer.output.splitlines()
    assert lines[0] == f"{story.title}: 4 talks"
    ending = {p.ending: story.by_id[p.ending].title for p in (first, last)}
    assert f"  lyon: {' › '.join(labels(story, first))} → {ending[first.ending]}" in lines
    assert f"  austin: {' › '.join(labels(story, first))} → {ending[first.ending]}" in lines
    assert f"  berlin: {' › '.join(labels(story, last))} → {ending[last.ending]}" in lines
    assert f"  madrid: {' › '.join(labels(story, mixed))} → {ending[last.ending]}" in lines
    assert "rehearsal" not in answer.output and "other-story" not in answer.output
    first_decision = story.by_id[first.picks[0][0]].choice.question
    decision_line = next(line for line in lines if line.startswith(f"  {first_decision}"))
    if first.picks[0] == last.picks[0]:
        assert "4 talks" in decision_line
    else:
        assert "3 talks" in decision_line and "1 talk" in decision_line

    html = page.read_text()
    assert "https://" not in html.split("<script>", 1)[0]  # the head loads nothing remote
    assert "Plotly" in html and len(html) > 1_000_000  # plotly.js is inside the file
    figure = json.loads(re.search(r'id="figure">(.*?)</script>', html, re.S).group(1))
    sankey = figure["data"][0]
    ends = [i for i, name in enumerate(sankey["node"]["label"]) if name in ending.values()]
    into = {
        sankey["node"]["label"][t]: v
        for t, v in zip(sankey["link"]["target"], sankey["link"]["value"], strict=True)
        if t in ends
    }
    assert into == {ending[first.ending]: 2, ending[last.ending]: 2}


def test_results_files_from_other_events_join_the_comparison(story, tmp_path: Path):
    first = a_path(story, 0)
    file = tmp_path / "pycon.json"
    file.write_text(json.dumps({"talk": "pycon", "story": story.name, "path": first.scenes}))
    answer = CliRunner().invoke(main, ["results", str(file)])
    assert answer.exit_code == 0, answer.output
    assert f"  pycon: {' › '.join(labels(story, first))}" in answer.output
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    refused = CliRunner().invoke(main, ["results", str(bad)])
    assert refused.exit_code != 0 and "cannot read the results" in refused.output


def test_a_talk_that_loops_back_still_flows_one_way(story):
    """A talk that visited a decision twice gets a second node for it: a Sankey has no cycles."""
    first = a_path(story, 0)
    decision = first.picks[0][0]
    cut = first.scenes.index(decision)
    looped = (*first.scenes[: cut + 2], *first.scenes[cut:])
    flows = flow(story, [talk_path(story, Results("loop", story.name, looped))])
    assert all(s < t for s, t in zip(flows.sources, flows.targets, strict=True))
    assert len(flows.labels) == len(set(flows.labels)) + 1  # the decision twice, once renamed


def test_the_page_needs_the_presenter_token(own_server):
    assert requests.get(own_server.url + "/results/all", timeout=10).status_code == 401
    wrong = requests.post(own_server.url + "/results/all", data={"token": "nope"}, timeout=10)
    assert wrong.status_code == 401 and "not the presenter token" in wrong.text
    assert "cyoa_presenter" not in wrong.headers.get("Set-Cookie", "")


@pytest.mark.browser
def test_the_presenter_page_draws_the_sankey_offline(played, browser, story):
    server, _, last, _ = played
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    requested: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(server.url + "/results/all")
    assert errors == [
        "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    ]  # the sign-in form comes with a 401
    errors.clear()
    page.get_by_label("Presenter token").fill(PRESENTER_TOKEN)
    page.get_by_role("button", name="Show every audience").click()
    expect(page.locator("#sankey[data-drawn=true]")).to_have_count(1, timeout=WAIT)
    expect(page.locator("#sankey .sankey-link")).not_to_have_count(0)
    rows = page.locator("#talks tbody tr")
    expect(rows).to_have_count(4)
    assert set(rows.evaluate_all("rows => rows.map(r => r.dataset.talk)")) == {
        "lyon",
        "austin",
        "berlin",
        "madrid",
    }
    berlin = page.locator('#talks tr[data-talk="berlin"] li')
    expect(berlin).to_have_count(len(last.picks))
    page.screenshot(path=str(SCREENSHOTS / "sankey.png"), full_page=True)
    hosts = {urlsplit(url).netloc for url in requested if url.startswith("http")}
    assert hosts == {urlsplit(server.url).netloc}
    assert errors == []
    context.close()


# Every node label's box on the drawn diagram, what it shows, and the diagram's own box.
LABEL_BOXES = """() => {
  const box = (e) => { const r = e.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; };
  const svg = document.querySelector('#sankey .main-svg');
  return {
    plot: box(svg),
    labels: [...document.querySelectorAll('#sankey .sankey-node .node-label')]
      .map((label) => ({text: label.textContent, ...box(label)}))
      .filter((b) => b.right > b.left && b.bottom > b.top),
  };
}"""


def label_overlaps(page) -> tuple[list[str], list[str], int]:
    """Pairs of node labels whose boxes meet, labels outside the diagram, labels counted."""
    found = page.evaluate(LABEL_BOXES)
    labels, plot = found["labels"], found["plot"]
    meeting = [
        f"{a['text']!r} and {b['text']!r}"
        for i, a in enumerate(labels)
        for b in labels[i + 1 :]
        if a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    ]
    outside = [
        label["text"]
        for label in labels
        if label["left"] < plot["left"]
        or label["right"] > plot["right"]
        or label["top"] < plot["top"]
        or label["bottom"] > plot["bottom"]
    ]
    return meeting, outside, len(labels)


SIZES = [(1280, 720), (1920, 1080)]


@pytest.mark.browser
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_no_two_labels_of_the_sankey_meet(played, browser, story, width, height):
    """The four talks end two ways after a last decision taken two ways: the last two columns'
    labels share one gap (Plotly writes the last column's left of its nodes)."""
    server = played[0]
    context = browser.new_context(
        viewport={"width": width, "height": height},
        extra_http_headers={"Authorization": f"Bearer {PRESENTER_TOKEN}"},
    )
    page = context.new_page()
    page.goto(server.url + "/results/all")
    expect(page.locator("#sankey[data-drawn=true]")).to_have_count(1, timeout=WAIT)
    meeting, outside, count = label_overlaps(page)
    assert count >= 6, count  # the diagram is there, with every choice and both endings
    assert meeting == [], meeting
    assert outside == [], outside
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_every_path_of_the_story_fits_and_long_labels_show_whole_on_hover(
    browser, story, tmp_path: Path, width, height
):
    """Every path of the story as one talk each (``cyoa results --all --html``'s page, plotly
    inside it): the most nodes a column can hold. A label wrapped or cut to fit shows whole in
    its node's hover."""
    talks = [
        talk_path(story, Results(f"talk-{n}", story.name, path.scenes))
        for n, path in enumerate(enumerate_paths(story))
    ]
    file = tmp_path / "every-path.html"
    file.write_text(comparison_page(story, talks))
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(file.as_uri())
    expect(page.locator("#sankey[data-drawn=true]")).to_have_count(1, timeout=WAIT)
    meeting, outside, count = label_overlaps(page)
    assert count == len(flow(story, talks).labels)
    assert meeting == [], meeting
    assert outside == [], outside

    whole = flow(story, talks).labels
    shown = page.locator("#sankey .sankey-node .node-label").all_text_contents()
    fitted = [(n, text) for n, text in enumerate(shown) if text not in whole]
    assert fitted, "no label needed fitting: this test would see no hover"
    for n, text in fitted:
        full = [label for label in whole if shows(text, label)]
        assert full, f"{text!r} is not the start of any label: {whole}"
        page.locator("#sankey .sankey-node .node-rect").nth(n).hover()
        hover = page.locator("#sankey .hoverlayer .hovertext")
        expect(hover).to_have_count(1)
        assert any(label in hover.text_content() for label in full), hover.text_content()
    context.close()


def shows(fitted: str, label: str) -> bool:
    """Whether a label's lines, as the page reads them (no space between lines, a word split
    by a hyphen, an ellipsis at a cut), are the start of ``label``."""
    squeeze = lambda text: text.replace(" ", "").replace("-", "")  # noqa: E731
    return squeeze(label).startswith(squeeze(fitted.removesuffix("…")))
