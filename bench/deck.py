"""Benchmark the deck in one run with a real browser: startup, slide-to-slide, vote-to-chart.

    .venv/bin/python bench/deck.py [--votes 40] [--slides 20]

Starts ``cyoa present --no-browser`` (embedded Redis, vote server, pre-heated Voilà) in a
temporary state directory, opens the deck in headless Chromium and measures:

- startup: ``cyoa present`` started until the first slide is on screen (and the part of it
  after the URLs were printed, i.e. what the presenter waits for after "ready");
- slide-to-slide: a key press until the next slide's title is on screen;
- vote-to-chart: a signed SMS vote posted until the deck's total shows it (target p95 < 700 ms).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from cyoa.deck.harness import Presenting  # noqa: E402
from cyoa.present import port_free  # noqa: E402
from cyoa.voteserver.rehearse import send_sms  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TOKEN = "bench-twilio-token"
TITLE_IS = "t => document.querySelector('.cyoa-title')?.innerText === t"
TOTAL_IS = "n => document.querySelector('.cyoa-total')?.innerText === String(n)"


def free_port(start: int) -> int:
    port = start
    while not port_free(port):
        port += 1
    return port


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(name: str, values_ms: list[float]) -> str:
    return (
        f"{name:<16} n={len(values_ms):<3} median {statistics.median(values_ms):6.0f} ms"
        f"  p95 {pct(values_ms, 0.95):6.0f} ms  max {max(values_ms):6.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--votes", type=int, default=40)
    parser.add_argument("--slides", type=int, default=20)
    args = parser.parse_args()
    from cyoa.story.loader import default_story_path, load_story

    story = load_story(default_story_path())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CYOA_", "TWILIO_"))}
    env.pop("REDIS_URL", None)
    env.update(CYOA_PRESENTER_TOKEN="bench-presenter", TWILIO_AUTH_TOKEN=TOKEN)
    port = free_port(18900)
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        run = Presenting(Path(tmp) / "state", port, free_port(port + 1), env)
        try:
            info = run.wait_ready()
            printed = time.monotonic()
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(info["deck_url"])
            page.wait_for_function(TITLE_IS, arg=story.scene(story.start).title, timeout=120_000)
            shown = time.monotonic()
            print(
                f"startup          cyoa present -> first slide {shown - run.started:5.1f} s "
                f"(URLs printed after {printed - run.started:.1f} s; "
                f"page -> first slide {shown - printed:.1f} s)"
            )

            scenes = [story.scene(story.start)]
            while scenes[-1].choice is None:
                scenes.append(story.scene(scenes[-1].next))
            slides, index = [], 0
            for step in range(args.slides):
                forward = index < len(scenes) - 2 and (step // (len(scenes) - 2)) % 2 == 0
                key, index = ("ArrowRight", index + 1) if forward else ("ArrowLeft", index - 1)
                started = time.monotonic()
                page.keyboard.press(key)
                page.wait_for_function(TITLE_IS, arg=scenes[index].title, polling="raf")
                slides.append((time.monotonic() - started) * 1000)
            while index < len(scenes) - 1:
                page.keyboard.press("ArrowRight")
                index += 1
                page.wait_for_function(TITLE_IS, arg=scenes[index].title)
            page.wait_for_function(TOTAL_IS, arg=0)
            page.wait_for_selector(".cyoa-state >> text=voting open")

            keys = [o.key for o in scenes[-1].choice.options]
            votes = []
            for number in range(args.votes):
                time.sleep(random.uniform(0.05, 0.6))  # land anywhere in the polling cycle
                started = time.monotonic()
                reply = send_sms(run.vote_url, random.choice(keys), f"+1555{number:07d}", TOKEN)
                assert reply.outcome == "counted", reply
                page.wait_for_function(TOTAL_IS, arg=number + 1, polling="raf", timeout=10_000)
                votes.append((time.monotonic() - started) * 1000)
            print(f"first key press  right after the first slide: {slides[0]:.0f} ms")
            print(summary("slide-to-slide", slides[1:]))
            print(summary("vote-to-chart", votes) + "   (target p95 < 700 ms)")
        finally:
            started = time.monotonic()
            status = run.stop()
            print(
                f"stop             Ctrl-C -> all stopped {time.monotonic() - started:.1f} s "
                f"(exit {status}; left over: {run.leftovers() or 'nothing'})"
            )
            run.kill()
            browser.close()


if __name__ == "__main__":
    main()
