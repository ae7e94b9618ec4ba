"""Every slide fits the projector: the whole shipped story walked in Chromium at 1280x720 and
1920x1080, every option of every decision taken, each slide measured from the DOM.

One ``cyoa present`` run and one deck page for the walks (Voilà kernels are expensive): walk
one takes option 1 everywhere at 1280x720, walk two option 2 at 1920x1080, and every slide is
also measured at the other size. A story at the API's limits (a long title, nine options of
200 characters) must fit too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import free_port, present_env
from story_helpers import write_story

from cyoa.deck.harness import Presenting
from cyoa.story.loader import default_story_path, load_story

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZES = [(1280, 720), (1920, 1080)]
STORY = load_story(default_story_path())
SCREENSHOTS = Path(__file__).resolve().parent / "artifacts"  # docs/screenshots: copies

# What the room would notice, measured: the page scrolls; something lies outside the window;
# something is cut by a box that hides overflow (a demo's output is meant to scroll in its box:
# the box itself must fit); the URL takes more than one line.
MEASURE = """() => {
  const vw = innerWidth, vh = innerHeight, found = [];
  const name = (e) => e.tagName.toLowerCase() + (e.className && e.className.baseVal === undefined
      ? '.' + String(e.className).trim().split(/\\s+/).join('.') : '')
      + (e.textContent ? ' "' + e.textContent.trim().slice(0, 40) + '"' : '');
  for (const page of [document.documentElement, document.body]) {
    if (page.scrollWidth > vw || page.scrollHeight > vh) {
      found.push(`the page scrolls: ${page.scrollWidth}x${page.scrollHeight} in ${vw}x${vh}`);
    }
  }
  const deck = document.querySelector('.cyoa-deck');
  if (!deck) return ['no slide'];
  for (const el of deck.querySelectorAll('*')) {
    if (el.closest('.cyoa-controller') || el.tagName === 'title') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (getComputedStyle(el).visibility === 'hidden') continue;
    if (r.left < -0.5 || r.top < -0.5 || r.right > vw + 0.5 || r.bottom > vh + 0.5) {
      found.push(`${name(el)} outside the window: ${JSON.stringify(r)}`);
      continue;
    }
    for (let box = el.parentElement; box && box !== document.documentElement;
         box = box.parentElement) {
      if (box.matches('.cyoa-demo pre')) break;  // a scroll box: its lines are meant to move
      const style = getComputedStyle(box);
      if (style.overflowX === 'visible' && style.overflowY === 'visible') continue;
      const b = box.getBoundingClientRect();
      if (r.left < b.left - 0.5 || r.top < b.top - 0.5 || r.right > b.right + 0.5
          || r.bottom > b.bottom + 0.5) {
        found.push(`${name(el)} cut by ${name(box).slice(0, 60)}`);
        break;
      }
    }
  }
  for (const pre of deck.querySelectorAll('.cyoa-demo pre')) {
    if (pre.scrollTop + pre.clientHeight < pre.scrollHeight - 2) {
      found.push('the demo output does not show its last lines');
    }
  }
  for (const url of deck.querySelectorAll('.cyoa-url')) {
    const range = document.createRange();
    range.selectNodeContents(url);
    const lines = new Set([...range.getClientRects()].map((q) => Math.round(q.top)));
    if (lines.size > 1) found.push(`the URL takes ${lines.size} lines`);
  }
  return found;
}"""


def settle(page) -> None:
    """Wait until the deck has fitted the slide to this window (controller.js says so)."""
    page.wait_for_function(
        "size => document.querySelector('.cyoa-deck')?.dataset.cyoaFitted === size",
        arg=f"{page.viewport_size['width']}x{page.viewport_size['height']}",
    )
    page.wait_for_function("() => window.cyoaSettled()")  # an async check: awaited


def problems(page) -> list[str]:
    settle(page)
    return page.evaluate(MEASURE)


def open_deck(tmp_path: Path, browser, *args: str):
    """``cyoa present`` (audience URL as a LAN address) and its deck at 1280x720."""
    run = Presenting(
        tmp_path / "state",
        free_port(),
        free_port(),
        present_env(),
        "--public-url",
        "http://192.0.2.2:8000",
        *args,
    )
    info = run.wait_ready()
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(info["deck_url"])
    page.wait_for_selector(".cyoa-title", timeout=120_000)
    # The chart's code (Plotly, 4 MB) loads after the first slide shows: the page is whole
    # once it has drawn its (hidden) chart, as it is before a talk starts.
    page.wait_for_function(
        "() => window.Plotly && document.querySelector('.cyoa-chart-box .main-svg')",
        timeout=120_000,
    )
    return run, page


def wait_title(page, title: str) -> None:
    page.wait_for_function(
        "t => document.querySelector('.cyoa-title')?.innerText === t", arg=title, timeout=30_000
    )


def arrive(page, scene) -> None:
    """Wait for the whole slide of ``scene``: its title, its demo panel if it has a demo,
    and the map's mark (the view's last part, so everything before it has arrived)."""
    wait_title(page, scene.title)
    if scene.demo:
        page.wait_for_selector(".cyoa-demo pre, .cyoa-demo-missing")
    page.wait_for_selector(f'.cyoa-map-node.cyoa-map-current[data-scene="{scene.id}"]')


def wait_state(page, state: str) -> None:
    page.wait_for_function(
        "s => document.querySelector('.cyoa-state')?.innerText === s", arg=state, timeout=30_000
    )


class Walk:
    """Measures every slide at both sizes, first at the size the slide was reached in."""

    def __init__(self, page) -> None:
        self.page, self.found, self.measured = page, [], 0

    def check(self, what: str, first: tuple[int, int]) -> None:
        for width, height in [first, *[s for s in SIZES if s != first]]:
            self.page.set_viewport_size({"width": width, "height": height})
            self.found += [f"{what} at {width}x{height}: {p}" for p in problems(self.page)]
            self.measured += 1
        self.page.set_viewport_size({"width": first[0], "height": first[1]})

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        size = self.page.viewport_size
        settle(self.page)
        self.page.screenshot(path=str(SCREENSHOTS / f"deck-{name}-{size['width']}.png"))


def scroll_the_demo(page) -> None:
    """Up shows earlier output, down goes back to the newest lines."""
    pre = page.locator(".cyoa-demo pre")
    end = pre.evaluate("e => e.scrollTop")
    assert end > 0, "the recorded output fits whole: nothing to scroll"
    page.keyboard.press("ArrowUp")
    page.wait_for_function("t => document.querySelector('.cyoa-demo pre').scrollTop < t", arg=end)
    page.keyboard.press("ArrowDown")
    page.wait_for_function("t => document.querySelector('.cyoa-demo pre').scrollTop >= t", arg=end)


def walk_story(walk: Walk, number: int, size: tuple[int, int], shots: bool) -> list[str]:
    """From the start to an ending taking option ``number`` at every decision: the scenes."""
    page, scene = walk.page, STORY.scene(STORY.start)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    seen = []
    while True:
        arrive(page, scene)
        seen.append(scene.id)
        if scene.choice is None:
            walk.check(scene.id, size)
            if shots and scene.demo and not any("demo" in s for s in walk.shots):
                walk.shot("demo")
                walk.shots.append("demo")
                scroll_the_demo(page)
            if scene.ending is not None:
                return seen
            page.keyboard.press("ArrowRight")
            scene = STORY.scene(scene.next)
            continue
        if page.inner_text(".cyoa-state") != "voting open":  # walked before: vote again
            page.keyboard.press("o")
            wait_state(page, "voting open")
        page.wait_for_function(  # the chart is drawn: a label under each bar
            "n => document.querySelectorAll('.cyoa-chart-box .xtick text').length === n",
            arg=len(scene.choice.options),
        )
        walk.check(f"{scene.id} (voting open)", size)
        if shots and not walk.shots.count("decision"):
            walk.shot("decision")
            walk.shots.append("decision")
        page.keyboard.press("c")
        wait_state(page, "vote closed")
        page.keyboard.press("ArrowRight")  # no votes: the deck asks for a pick
        page.wait_for_function(
            "() => /press/.test(document.querySelector('.cyoa-message')?.innerText || '')"
        )
        walk.check(f"{scene.id} (closed, no votes)", size)
        option = scene.choice.options[number - 1]
        page.keyboard.press(str(number))
        scene = STORY.scene(option.goto)


def test_every_slide_of_every_branch_fits_both_screens(tmp_path: Path, browser) -> None:
    run, page = open_deck(tmp_path, browser)
    try:
        walk = Walk(page)
        walk.shots = []
        seen = set(walk_story(walk, 1, SIZES[0], shots=True))
        first_ending = page.inner_text(".cyoa-title")
        while page.inner_text(".cyoa-title") != STORY.scene(STORY.start).title:
            title = page.inner_text(".cyoa-title")
            page.keyboard.press("ArrowLeft")
            page.wait_for_function(
                "t => document.querySelector('.cyoa-title')?.innerText !== t", arg=title
            )
        walk.shots = []
        seen |= set(walk_story(walk, 2, SIZES[1], shots=True))

        assert page.inner_text(".cyoa-title") != first_ending  # two endings, two walks
        reachable = {s.id for s in STORY.scenes}
        assert seen == reachable, f"never shown: {sorted(reachable - seen)}"
        assert walk.measured >= 2 * len(reachable)
        assert walk.found == [], "\n".join(walk.found[:40])
    finally:
        page.close()
        run.kill()


LONG_LABEL = "word " * 39 + "last"  # 199 characters: the API keeps 200


def extreme_story(root: Path) -> Path:
    """A title that runs to three lines and nine options at the API's label limit."""
    options = "".join(
        f'            - key: "{n}"\n              label: "{n} {LONG_LABEL}"\n'
        f"              goto: end\n"
        for n in range(1, 10)
    )
    scenes = {
        "01-start.md": f"""
        ---
        id: start
        title: {"A very long title that keeps going " * 4}
        choice:
          question: {"Which of these very long options would the room like? " * 2}
          options:
{options}        ---

        {"A paragraph of body text that a speaker wrote at some length. " * 4}
        """,
        "02-end.md": """
        ---
        id: end
        title: The end
        ending: Done
        ---

        Bye.
        """,
    }
    return write_story(root, scenes, demos="")


def test_a_long_title_and_nine_long_options_fit_both_screens(tmp_path: Path, browser) -> None:
    story = extreme_story(tmp_path / "story")
    assert len(load_story(story).scene("start").choice.options) == 9
    run, page = open_deck(tmp_path, browser, str(story))
    try:
        wait_state(page, "voting open")
        walk = Walk(page)
        walk.check("nine long options", SIZES[0])
        labels = page.locator(".cyoa-option").all_inner_texts()
        assert len(labels) == 9 and all(LONG_LABEL in label for label in labels)  # whole
        assert walk.found == [], "\n".join(walk.found[:40])
    finally:
        page.close()
        run.kill()
