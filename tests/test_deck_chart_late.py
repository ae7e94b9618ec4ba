"""The vote chart draws even when plotly's code arrives late and keys were pressed meanwhile.

plotly's widget code (5 MB) reaches the page after the first slide. anywidget gives a
widget's module 2 s to load; plotly's used to be that module, so on a busy laptop it missed
the deadline and every later update to the chart was dropped: the presenter pressed next a
few times while it loaded, and the first decision's chart stayed empty (cyoa/deck/chart.py).

Here the page holds plotly's code (the one large script the page makes from the kernel's
data) until the test releases it, the presenter walks to the first decision at once, a vote
comes in, and the release waits until anywidget's load deadline has passed: events the page
reports, no sleep. Then the chart must show this decision's options and its tally, and keep
following the votes.
"""

from __future__ import annotations

import contextlib

import pytest
from conftest import TWILIO_TOKEN, free_port, present_env
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from cyoa.deck.harness import Presenting
from cyoa.deck.render import axis_labels
from cyoa.story.loader import default_story_path, load_story
from cyoa.voteserver.rehearse import send_sms

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STORY = load_story(default_story_path())
DECISION = STORY.decisions[0]
OPTIONS = DECISION.choice.options

# Run before the page's own scripts. It holds the import of plotly's code: anywidget turns a
# module's text into a blob URL and imports it; the blob over 1 MB (plotly's, the others are a
# few kB) gets a stand-in that waits for window.cyoaReleasePlotly() before importing it. And
# it counts the short timeouts the page arms (anywidget's load deadline is one) and those that
# fired: it observes them, it changes none.
HOLD_PLOTLY = """(() => {
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  window.cyoaReleasePlotly = () => release();
  window.cyoaPlotlyHeld = false;
  const createUrl = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (object) => {
    if (!(object instanceof Blob) || object.size < 1000000) return createUrl(object);
    window.cyoaPlotlyHeld = true;
    window.cyoaPlotlyReleased = released;
    const real = createUrl(object);
    const standIn = `await window.cyoaPlotlyReleased;
      const real = await import(${JSON.stringify(real)});
      export default real.default;`;
    return createUrl(new Blob([standIn], { type: "text/javascript" }));
  };
  window.cyoaDeadlines = { armed: 0, fired: 0 };
  const timeout = AbortSignal.timeout.bind(AbortSignal);
  AbortSignal.timeout = (ms) => {
    const signal = timeout(ms);
    if (ms <= 10000) {
      window.cyoaDeadlines.armed += 1;
      signal.addEventListener("abort", () => { window.cyoaDeadlines.fired += 1; });
    }
    return signal;
  };
})();"""

CHART = """() => ({
  drawn: !!document.querySelector('.cyoa-chart-box .main-svg'),
  labels: [...document.querySelectorAll('.cyoa-chart-box .xtick text')]
    .map((t) => [...t.querySelectorAll('tspan.line')].map((l) => l.textContent).join('<br>')
      || t.textContent),
  counts: [...document.querySelectorAll('.cyoa-chart-box text.bartext')].map((t) => t.textContent),
})"""


def wait_chart(page, counts: list[str]) -> dict:
    """The chart once it shows this decision's options with these counts (or what it shows)."""
    want = {"drawn": True, "labels": axis_labels([o.label for o in OPTIONS]), "counts": counts}
    with contextlib.suppress(PlaywrightTimeout):  # the guard ran out: say what the room sees
        page.wait_for_function(
            f"want => JSON.stringify(({CHART})()) === JSON.stringify(want)", arg=want
        )
    return page.evaluate(CHART)


def test_the_chart_draws_when_plotly_arrives_after_the_keys(tmp_path, browser) -> None:
    run = Presenting(tmp_path / "state", free_port(), free_port(), present_env())
    try:
        info = run.wait_ready()
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.set_default_timeout(60_000)
        page.add_init_script(HOLD_PLOTLY)
        page.goto(info["deck_url"])
        page.wait_for_selector(".cyoa-title")
        page.wait_for_function("() => window.cyoaPlotlyHeld")
        page.wait_for_selector(".cyoa-controller", state="attached")  # where the keys go

        # The presenter presses next at once, as many times as it takes, before plotly is there.
        scene, presses = STORY.scene(STORY.start), 0
        while scene.choice is None:
            scene, presses = STORY.scene(scene.next), presses + 1
        for _ in range(presses):
            page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "t => document.querySelector('.cyoa-title')?.innerText === t", arg=DECISION.title
        )
        page.wait_for_function(
            "() => document.querySelector('.cyoa-state')?.innerText === 'voting open'"
        )
        assert send_sms(run.vote_url, OPTIONS[0].key, "+15550000001", TWILIO_TOKEN).outcome == (
            "counted"
        )
        page.wait_for_function("() => document.querySelector('.cyoa-total')?.innerText === '1'")
        assert page.evaluate("() => !window.Plotly"), "plotly's code was not held"

        # Past anywidget's load deadline, plotly's code arrives.
        page.wait_for_function(
            "() => cyoaDeadlines.armed > 0 && cyoaDeadlines.fired === cyoaDeadlines.armed"
        )
        page.evaluate("() => window.cyoaReleasePlotly()")
        shown = wait_chart(page, ["1", "0"])
        assert shown["labels"] == axis_labels([o.label for o in OPTIONS]), shown
        assert shown["counts"] == ["1", "0"], shown

        # And it keeps following the votes.
        assert send_sms(run.vote_url, OPTIONS[1].key, "+15550000002", TWILIO_TOKEN).outcome == (
            "counted"
        )
        shown = wait_chart(page, ["1", "1"])
        assert shown["counts"] == ["1", "1"], shown
        page.close()
    finally:
        run.kill()
