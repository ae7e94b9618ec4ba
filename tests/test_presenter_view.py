"""The presenter view in Chromium at 1280x800, as a speaker uses it on a laptop.

Real processes all the way (``cyoa present --rehearse`` with its vote server, embedded Redis
and Voilà, headless Chromium, signed SMS votes). Every step waits for what the page shows,
with a generous guard; nothing sleeps and no duration is asserted. The planned length is
20 s, so the clock's colours change while the test watches.
"""

from __future__ import annotations

import shutil

import pytest
import requests
from conftest import PRESENTER_TOKEN, ROOT, TWILIO_TOKEN, free_port, present_env
from story_helpers import write_story
from waiting import wait_until

from cyoa.deck.harness import Presenting
from cyoa.deck.presenter_view import KEYS
from cyoa.story.loader import default_story_path, load_story
from cyoa.story.problems import StoryError
from cyoa.voteserver.rehearse import send_sms

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOWN = 60_000  # ms: the guard for a change to show on a loaded 2-core machine
SCREEN = {"width": 1280, "height": 800}
SCREENSHOT = ROOT / "tests" / "artifacts" / "presenter-view.png"  # copied to docs/screenshots
NOTES = "Wave to the room, then ask who deployed a Python web app this year."
SCENES = {
    "01-start.md": f"""
        ---
        id: start
        title: Welcome
        next: pick
        ---

        Hello, room.

        ## Speaker notes

        {NOTES}
        """,
    "02-pick.md": """
        ---
        id: pick
        title: Pick a way
        choice:
          question: Which way?
          options:
            - key: "1"
              label: Left, by the river
              goto: left
            - key: "2"
              label: Right, up the hill
              goto: right
            - key: "3"
              label: Straight on through the woods
              goto: ahead
        ---

        Vote now.
        """,
    "03-left.md": "---\nid: left\ntitle: The river path\nending: You went left\n---\n\nWet.\n",
    "04-right.md": "---\nid: right\ntitle: The hill path\nending: You went right\n---\n\nSteep.\n",
    "05-ahead.md": "---\nid: ahead\ntitle: The woods path\nending: You went on\n---\n\nDark.\n",
}
OPTIONS = [("left", "The river path"), ("right", "The hill path"), ("ahead", "The woods path")]

# Every element of the view lies inside the viewport, and inside any ancestor that would
# clip it, except inside the boxes that clip on purpose: a preview's frame (a slide that
# overflows is the slide view's business), the notes and vote boxes (they scroll when very
# long) and the previews' captions (an ellipsis). The view itself is fixed to the viewport,
# so no box outside it clips it. Answers the offenders, the page's overflow in pixels and
# the view's own box.
FIT = """() => {
  const root = document.querySelector('.cyoa-presenter');
  const meant = '.cyoa-pv-frame, .cyoa-pv-notes, .cyoa-pv-vote, figcaption';
  const bad = [];
  for (const e of root.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height || !e.checkVisibility()) continue;
    const clipper = e.parentElement.closest(meant);
    if (clipper && root.contains(clipper)) continue;
    let why = '';
    if (r.left < -0.5 || r.top < -0.5 || r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5)
      why = 'outside the viewport';
    for (let a = e.parentElement; a && !why && a !== root.parentElement; a = a.parentElement) {
      if (getComputedStyle(a).overflow === 'visible') continue;
      const c = a.getBoundingClientRect();
      if (r.left < c.left - 0.5 || r.top < c.top - 0.5 || r.right > c.right + 0.5 ||
          r.bottom > c.bottom + 0.5) why = 'clipped by ' + a.className;
    }
    if (why) bad.push(`${e.tagName}.${e.className} "${e.innerText?.slice(0, 30)}" ${why}`);
  }
  const page = document.scrollingElement;
  const boxes = [...root.querySelectorAll('.cyoa-pv-notes, .cyoa-pv-vote')]
    .filter(b => b.scrollHeight > b.clientHeight + 1).map(b => b.className);
  const view = root.getBoundingClientRect();
  return {
    bad, boxes, view: [view.left, view.top, view.width, view.height],
    overflow: [page.scrollWidth - innerWidth, page.scrollHeight - innerHeight],
  };
}"""


@pytest.fixture(scope="module")
def presenting(tmp_path_factory):
    root = tmp_path_factory.mktemp("presenter-view")
    folder = write_story(root / "talk", SCENES)
    with open(folder / "story.yaml", "a", encoding="utf-8") as handle:
        handle.write("duration: 20s\n")
    run = Presenting(root / "state", free_port(), free_port(), present_env(), str(folder))
    try:
        run.wait_ready()
        yield run
    finally:
        run.kill()


@pytest.fixture
def laptop(presenting: Presenting, browser):
    """The presenter view at the talk's first slide, in a 1280x800 window."""
    auth = {"Authorization": f"Bearer {PRESENTER_TOKEN}"}
    moved = requests.put(
        presenting.vote_url + "/api/state",
        json={"scene": "start", "path": ["start"]},
        headers=auth,
        timeout=10,
    )
    assert moved.ok, moved.text
    for action in ("reset", "open"):  # a fresh vote at the decision (404: not reached yet)
        requests.post(f"{presenting.vote_url}/api/polls/pick/{action}", headers=auth, timeout=10)
    context = browser.new_context(viewport=SCREEN)
    page = context.new_page()
    page.goto(presenting.info["presenter_url"])
    shows(page, "now", "start")
    yield page
    context.close()


def shows(page, where: str, *scenes: str) -> None:
    """Until the ``now`` or ``next`` previews show exactly ``scenes``, in order."""
    page.wait_for_function(
        "([where, want]) => [...document.querySelectorAll(`.cyoa-pv-${where} figure`)]"
        ".map(f => f.dataset.scene).join(',') === want",
        arg=[where, ",".join(scenes)],
        timeout=SHOWN,
    )


def text_of(page, selector: str, text: str) -> None:
    """Until the element ``selector`` contains ``text``."""
    page.wait_for_function(
        "([s, t]) => (document.querySelector(s)?.innerText || '').includes(t)",
        arg=[selector, text],
        timeout=SHOWN,
    )


def preview_titles(page, where: str) -> list[str]:
    return page.eval_on_selector_all(
        f".cyoa-pv-{where} .cyoa-pv-stage .cyoa-title", "els => els.map(e => e.innerText)"
    )


def fits(page, scrolls: tuple[str, ...] = ()) -> None:
    """Everything on screen, no page scroll; only the boxes named in ``scrolls`` scroll."""
    answer = page.evaluate(FIT)
    assert answer["view"] == [0, 0, SCREEN["width"], SCREEN["height"]], "not the whole screen"
    assert answer["bad"] == [], answer["bad"]
    assert answer["overflow"] == [0, 0], "the page scrolls"
    scrolling = [name for name in answer["boxes"] if not any(s in name for s in scrolls)]
    assert scrolling == [], "a box scrolls with content that fits"


def notes_size(page) -> float:
    return page.eval_on_selector(
        ".cyoa-pv-notes .cyoa-notes", "e => parseFloat(getComputedStyle(e).fontSize)"
    )


def test_the_previews_show_this_slide_and_the_next_and_follow_the_deck(
    presenting: Presenting, laptop
) -> None:
    shows(laptop, "next", "pick")
    assert preview_titles(laptop, "now") == ["Welcome"]
    assert preview_titles(laptop, "next") == ["Pick a way"]
    # Scaled down from the projector's 1280x720 slide, not laid out again at a smaller size.
    frame = laptop.locator(".cyoa-pv-now .cyoa-pv-frame").bounding_box()
    assert frame["width"] < 1280 and abs(frame["width"] / frame["height"] - 16 / 9) < 0.01
    notes = laptop.locator(".cyoa-pv-notes .cyoa-notes")
    assert NOTES in notes.inner_text()
    assert notes_size(laptop) >= 24  # short notes in the largest type

    laptop.keyboard.press("ArrowRight")  # at the decision: each option's first slide
    shows(laptop, "now", "pick")
    shows(laptop, "next", *(scene for scene, _ in OPTIONS))
    assert preview_titles(laptop, "next") == [title for _, title in OPTIONS]
    captions = laptop.eval_on_selector_all(
        ".cyoa-pv-next figcaption", "els => els.map(e => e.innerText)"
    )
    assert [c.split(maxsplit=1)[0] for c in captions] == ["1", "2", "3"]
    assert "Straight on through the woods" in captions[2]
    assert "Which way?" in laptop.inner_text(".cyoa-pv-now .cyoa-pv-stage")
    text_of(laptop, ".cyoa-pv-notes", "no notes")

    # The projector's window moves the talk (through the vote server): the laptop follows.
    auth = {"Authorization": f"Bearer {PRESENTER_TOKEN}"}

    def server_at(scene: str) -> bool:  # the laptop's own move reached the server first
        state = requests.get(presenting.vote_url + "/api/state", headers=auth, timeout=10)
        return state.ok and state.json().get("scene") == scene

    wait_until(lambda: server_at("pick"), "the laptop's move to the decision on the server")
    moved = requests.put(
        presenting.vote_url + "/api/state",
        json={"scene": "right", "path": ["start", "pick", "right"]},
        headers=auth,
        timeout=10,
    )
    assert moved.ok, moved.text
    shows(laptop, "now", "right")
    assert preview_titles(laptop, "now") == ["The hill path"]
    assert laptop.locator(".cyoa-pv-next figure").count() == 0
    text_of(laptop, ".cyoa-pv-next", "The end")
    # An ending slide links to every path: the vote server's story page, as a QR code.
    story_page = presenting.info["audience_url"].split("://", 1)[-1].rstrip("/") + "/story"
    text_of(laptop, ".cyoa-pv-now .cyoa-endlink .cyoa-url", story_page)
    assert laptop.locator(".cyoa-pv-now .cyoa-endlink .cyoa-qr svg").count() == 1


def clock_turns(page, state: str) -> str:
    """Until the elapsed time shows colour ``state``; the time it showed with it."""
    shown = page.wait_for_function(
        "s => { const e = document.querySelector('.cyoa-pv-elapsed');"
        " return e?.classList.contains('cyoa-time-' + s) && e.innerText; }",
        arg=state,
        timeout=SHOWN,
    )
    return shown.json_value()


def test_the_clock_turns_amber_then_red_against_the_planned_length(laptop) -> None:
    text_of(laptop, ".cyoa-pv-timer", "of 00:20")
    clock_turns(laptop, "red")  # the talk started before this window opened
    laptop.keyboard.press("z")  # restart the clock: within the plan again
    assert clock_turns(laptop, "ok") < "00:16"
    assert "00:16" <= clock_turns(laptop, "amber") <= "00:20"  # past 80% of 20 s
    assert clock_turns(laptop, "red") > "00:20"  # over time


def test_the_keys_drive_the_vote_and_the_numbers_show_phones_and_votes(
    presenting: Presenting, laptop, browser
) -> None:
    legend = laptop.inner_text(".cyoa-pv-keys")
    for key, does in KEYS:
        assert f"{key} {does}" in " ".join(legend.split()), key

    laptop.keyboard.press("?")  # the legend's last key: every key, in a dialog
    laptop.get_by_role("dialog", name="Keys").wait_for(state="visible")
    laptop.keyboard.press("?")
    laptop.get_by_role("dialog", name="Keys").wait_for(state="detached")
    laptop.keyboard.press("PageDown")  # a clicker's "next", as the legend says
    shows(laptop, "now", "pick")
    text_of(laptop, ".cyoa-pv-live", "voting open")
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    phone.goto(presenting.vote_url + "/")
    text_of(laptop, ".cyoa-pv-phones", "1 phone with the audience page open")
    for number in range(4):
        reply = send_sms(presenting.vote_url, "2", f"+1555000010{number}", TWILIO_TOKEN)
        assert reply.outcome == "counted", reply
    text_of(laptop, ".cyoa-pv-rate", "4 votes")
    rate = float(laptop.inner_text(".cyoa-pv-rate-value"))
    assert rate > 0  # four votes in the last few seconds

    laptop.keyboard.press("Shift+R")  # reset the votes
    text_of(laptop, ".cyoa-pv-rate", "0 votes")
    laptop.keyboard.press("l")  # lift the voters-per-address cap
    text_of(laptop, ".cyoa-pv-sources", "voters per address: no cap")
    laptop.keyboard.press("c")  # close the vote
    text_of(laptop, ".cyoa-pv-live", "vote closed")
    laptop.keyboard.press("o")  # reopen it
    text_of(laptop, ".cyoa-pv-live", "voting open")
    laptop.keyboard.press("3")  # pick by hand: the talk goes that way
    shows(laptop, "now", "ahead")
    laptop.keyboard.press("ArrowLeft")
    shows(laptop, "now", "pick")
    laptop.keyboard.press("g")  # the jump list, by keyboard only
    assert laptop.evaluate("() => document.activeElement.closest('.cyoa-jump') !== null")
    laptop.keyboard.press("Home")  # the first scene in the list: Welcome
    laptop.keyboard.press("Enter")
    shows(laptop, "now", "start")
    phone.close()


def test_the_view_fits_a_1280x800_laptop_screen_without_scrolling(
    presenting: Presenting, laptop
) -> None:
    shows(laptop, "next", "pick")
    fits(laptop)
    laptop.keyboard.press("ArrowRight")  # the fullest state: three previews, the vote, moderation
    shows(laptop, "next", *(scene for scene, _ in OPTIONS))
    laptop.wait_for_selector(".cyoa-pv-sources p", timeout=SHOWN)
    for number in range(3):
        reply = send_sms(presenting.vote_url, str(number + 1), f"+1555000020{number}", TWILIO_TOKEN)
        assert reply.outcome == "counted", reply
    text_of(laptop, ".cyoa-pv-rate", "3 votes")
    fits(laptop)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """The shipped talk, planned for 30 minutes, rehearsed from its decision with the
    longest notes."""
    root = tmp_path_factory.mktemp("presenter-view-shipped")
    folder = shutil.copytree(default_story_path(), root / "wsgi")
    with open(folder / "story.yaml", "a", encoding="utf-8") as handle:
        handle.write("duration: 30m\n")
    run = Presenting(
        root / "state", free_port(), free_port(), present_env(), "--from", "timeouts", str(folder)
    )
    try:
        run.wait_ready()
        yield run
    finally:
        run.kill()


def test_the_shipped_talk_fits_with_its_notes_in_large_type(
    shipped: Presenting, browser, phone
) -> None:
    story = load_story(default_story_path())
    decision = story.scene("timeouts")
    page = browser.new_context(viewport=SCREEN).new_page()
    page.goto(shipped.info["presenter_url"])
    shows(page, "now", decision.id)
    shows(page, "next", *(option.goto for option in decision.choice.options))
    text_of(page, ".cyoa-pv-timer", "of 30:00")
    text_of(page, ".cyoa-pv-notes", decision.notes.split()[0])
    text_of(page, ".cyoa-pv-live", "voting open")
    phone.goto(shipped.vote_url + "/")
    text_of(page, ".cyoa-pv-phones", "1 phone with the audience page open")
    for number, option in enumerate(decision.choice.options * 2):
        reply = send_sms(shipped.vote_url, option.key, f"+1555000030{number}", TWILIO_TOKEN)
        assert reply.outcome == "counted", reply
    text_of(page, ".cyoa-pv-rate", f"{2 * len(decision.choice.options)} votes")
    page.wait_for_function(  # the notes' type fitted to their box, all of them shown
        "() => { const b = document.querySelector('.cyoa-pv-notes');"
        " return b.querySelector('.cyoa-notes').style.fontSize && "
        "b.scrollHeight <= b.clientHeight + 1; }",
        timeout=SHOWN,
    )
    assert notes_size(page) >= 18
    fits(page)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))

    # The longest notes in the talk: the smallest type, and j scrolls the rest into view.
    longest = max(story.scenes, key=lambda scene: len(scene.notes))
    page.keyboard.press("g")  # to the jump list; pick the scene there; Enter jumps
    page.select_option(".cyoa-jump select", label=f"{longest.title} ({longest.id})")
    page.keyboard.press("Enter")
    shows(page, "now", longest.id)
    page.wait_for_function(
        "() => document.querySelector('.cyoa-pv-notes .cyoa-notes').style.fontSize === '16px'",
        timeout=SHOWN,
    )
    fits(page, scrolls=("cyoa-pv-notes",))
    page.keyboard.press("j")
    page.wait_for_function("() => document.querySelector('.cyoa-pv-notes').scrollTop > 0")
    page.context.close()


@pytest.mark.parametrize(
    ("written", "seconds"), [("30m", 1800), ("1h15m", 4500), ("90s", 90), ("25", 1500)]
)
def test_a_planned_duration_is_read_from_story_yaml(tmp_path, written: str, seconds: int) -> None:
    folder = write_story(tmp_path / "talk", SCENES)
    with open(folder / "story.yaml", "a", encoding="utf-8") as handle:
        handle.write(f"duration: {written}\n")
    assert load_story(folder).duration == seconds


def test_a_story_without_a_duration_has_none_and_a_bad_one_is_explained(tmp_path) -> None:
    folder = write_story(tmp_path / "talk", SCENES)
    assert load_story(folder).duration is None
    with open(folder / "story.yaml", "a", encoding="utf-8") as handle:
        handle.write("duration: half an hour\n")
    with pytest.raises(StoryError) as raised:
        load_story(folder)
    message = str(raised.value)
    assert "story.yaml:4" in message  # the file and the line of the field
    assert "'duration' must be the talk's planned length, such as 30m" in message
    assert "half an hour" in message
