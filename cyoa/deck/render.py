"""Scenes as HTML: Markdown, highlighted code, inlined images, the join panel.

Everything is inlined (images as data URIs, the QR code as SVG, styles from the deck's own
CSS) so the deck works with no network at all: nothing is ever fetched from a CDN.
"""

from __future__ import annotations

import base64
import functools
import html
import mimetypes
import re
from pathlib import Path
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

if TYPE_CHECKING:
    from cyoa.deck.machine import Tally
    from cyoa.story.model import Choice, Scene, Story


def _highlight(code: str, lang: str, _attrs: str) -> str:
    try:
        lexer = get_lexer_by_name(lang) if lang else TextLexer()
    except ClassNotFound:
        lexer = TextLexer()
    return highlight(code, lexer, HtmlFormatter(nowrap=False, cssclass="cyoa-code"))


_markdown = MarkdownIt("commonmark", {"highlight": _highlight, "html": True}).enable("table")


def markdown(text: str) -> str:
    return _markdown.render(text or "")


def code_css() -> str:
    """Pygments colours that read on both themes (a projector washes out light greys)."""
    return HtmlFormatter(style="monokai", cssclass="cyoa-code").get_style_defs(".cyoa-code")


def data_uri(path: Path) -> str:
    """The file inlined as a data URI; read again once it changes (an edit under --watch)."""
    stat = path.stat()
    return _data_uri(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=64)
def _data_uri(path: Path, _mtime_ns: int, _size: int) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{kind};base64," + base64.b64encode(path.read_bytes()).decode()


def image_html(story: Story, scene: Scene) -> str:
    if not scene.image or story.root is None:
        return ""
    path = (story.root / scene.image).resolve()
    if not path.is_file():
        return f'<p class="cyoa-missing">image not found: {html.escape(scene.image)}</p>'
    alt = html.escape(scene.alt or scene.title)
    return f'<img class="cyoa-image" src="{data_uri(path)}" alt="{alt}">'


def scene_html(story: Story, scene: Scene) -> str:
    """The slide's text part: title, Markdown body, image, ending label."""
    parts = [f'<h1 class="cyoa-title">{html.escape(scene.title)}</h1>']
    body = markdown(scene.body)
    image = image_html(story, scene)
    if image:
        parts.append(f'<div class="cyoa-cols"><div>{body}</div><div>{image}</div></div>')
    else:
        parts.append(f'<div class="cyoa-body">{body}</div>')
    if scene.ending is not None:
        parts.append(f'<p class="cyoa-ending">{html.escape(scene.ending.label)}</p>')
    return "\n".join(parts)


def options_html(
    choice: Choice, tally: Tally, chosen: str | None, title: str = "", hidden: bool = False
) -> str:
    """The question and the numbered options, with their counts unless ``hidden``; the
    winner (or the pick) marked once decided."""
    items = []
    for number, option in enumerate(choice.options, 1):
        mark = " cyoa-chosen" if option.key == chosen else ""
        count = tally.votes.get(option.key, 0)
        votes = "" if hidden else f'<span class="cyoa-votes">{count}</span>'
        items.append(
            f'<li class="cyoa-option{mark}" data-key="{html.escape(option.key)}">'
            f'<span class="cyoa-num">{number}</span> {html.escape(option.label)}{votes}</li>'
        )
    question = "" if choice.question == title else html.escape(choice.question)
    return (
        f'<h2 class="cyoa-question">{question}</h2><ol class="cyoa-options">{"".join(items)}</ol>'
    )


AXIS_LINE = {1: 30, 2: 24, 3: 18, 4: 14}  # characters per line under a bar, by option count


def axis_labels(labels: list[str]) -> list[str]:
    """The chart's labels under the bars: the number, then the label wrapped at words on two
    lines at most, shortened at a word with an ellipsis (the options list shows it whole).
    Past four options only the numbers fit under the bars."""
    width = AXIS_LINE.get(len(labels))
    if width is None:
        return [str(number) for number in range(1, len(labels) + 1)]
    return [wrap_words(f"{n}. {label}", width) for n, label in enumerate(labels, 1)]


def wrap_words(text: str, width: int, lines: int = 2) -> str:
    """``text`` on at most ``lines`` lines of about ``width`` characters joined by ``<br>``
    (Plotly's line break), cut only between words; what does not fit ends in an ellipsis."""
    rows: list[str] = []
    words = text.split()
    while words and len(rows) < lines:
        row = words.pop(0)
        while words and len(row) + 1 + len(words[0]) <= width:
            row += " " + words.pop(0)
        if len(row) > width:  # one word longer than a line: the only cut inside a word
            rows.append(row[: width - 1] + "…")
            return "<br>".join(html.escape(r) for r in rows)
        rows.append(row)
    if words:
        last = rows[-1]
        while " " in last and len(last) + 1 > width:
            last = last.rsplit(" ", 1)[0]
        rows[-1] = last + "…"
    return "<br>".join(html.escape(row) for row in rows)


def scalable_svg(svg: str) -> str:
    """Give an SVG without a viewBox one, so CSS can scale it instead of cropping it."""
    if not svg or "viewBox" in svg:
        return svg
    width = re.search(r'<svg[^>]*\swidth="(\d+)', svg)
    height = re.search(r'<svg[^>]*\sheight="(\d+)', svg)
    if not (width and height):
        return svg
    return svg.replace("<svg", f'<svg viewBox="0 0 {width[1]} {height[1]}"', 1)


def join_html(audience_url: str, qr_svg: str, sms_number: str, choice: Choice) -> str:
    """How the room votes: the QR code, the URL in large type, the SMS number and what to text."""
    shown = audience_url.split("://", 1)[-1].rstrip("/")
    qr = f'<div class="cyoa-qr">{scalable_svg(qr_svg)}</div>' if qr_svg else ""
    sms = ""
    if sms_number:
        first = choice.options[0]
        sms = (
            f'<p class="cyoa-sms">or text <b>1</b>–<b>{len(choice.options)}</b> to '
            f"<b>{html.escape(sms_number)}</b> (e.g. “{html.escape(first.key)}”)</p>"
        )
    return (
        f'<div class="cyoa-join">{qr}<div><p class="cyoa-join-lead">Vote at</p>'
        f'<p class="cyoa-url">{html.escape(shown)}</p>{sms}</div></div>'
    )


def countdown(seconds: int) -> str:
    """Seconds left as the room reads a clock: ``0:45``, ``2:05``."""
    return f"{seconds // 60}:{seconds % 60:02d}"


def status_html(
    tally: Tally,
    message: str,
    winner_label: str | None,
    left: int | None = None,
    hidden: bool = False,
) -> str:
    """The line under the chart: total (unless ``hidden``), state of the vote, the time
    ``left`` of a time limit, the winner or what to do."""
    state = {"open": "voting open", "closed": "vote closed"}.get(tally.status, "waiting")
    total = f'<span class="cyoa-total">{tally.total}</span> vote{"" if tally.total == 1 else "s"}'
    if hidden:
        total = '<span class="cyoa-hidden">results when the vote closes</span>'
    parts = [total, f'<span class="cyoa-state">{state}</span>']
    if left is not None:
        parts.append(f'<span class="cyoa-countdown">{countdown(left)} left</span>')
    if winner_label:
        parts.append(f'<span class="cyoa-winner">Winner: {html.escape(winner_label)}</span>')
    if message and message.strip(" .").lower() != state:  # never "vote closed · Vote closed."
        parts.append(f'<span class="cyoa-message">{html.escape(message)}</span>')
    return " · ".join(parts)


def demo_html(name: str, output: str, state: str) -> str:
    """A demo's output in the slide; ``state`` says recorded, running, done or missing."""
    label = {
        "missing": "no demo yet",
        "recorded": "recorded output · press D to run it live",
        "ready": "press D to run it live",
        "running": "running…",
        "done": "live run",
    }.get(state, state)
    text = f"<pre>{html.escape(output)}</pre>" if output else ""
    return (
        f'<div class="cyoa-demo cyoa-demo-{state}"><p class="cyoa-demo-head">demo '
        f"<b>{html.escape(name)}</b>: {label}</p>{text}</div>"
    )
