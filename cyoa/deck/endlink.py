"""The ending slide's way to every path: a QR code of the story's page on the vote server.

At an ending every phone shows "the end" and a link to ``<audience URL>/story``, the whole
story with the room's path marked, served by the vote server itself (docs/http.md). The
slide shows the same link as a QR code, so a phone already put away can still scan it.
The vote server's ``/qr.svg`` encodes only the audience URL, so this code is drawn here,
with segno, the library and settings ``voteserver/qr.py`` uses for the join panel's.
"""

from __future__ import annotations

import functools
import html

import segno

from cyoa.deck.render import scalable_svg

STORY_PATH = "/story"  # the vote server's page of the whole story, with the room's path


def story_url(audience_url: str) -> str:
    """Where the whole story is, for the phones that voted at ``audience_url``."""
    return audience_url.rstrip("/") + STORY_PATH


@functools.lru_cache(maxsize=4)
def end_link_html(audience_url: str) -> str:
    """The QR code and the URL of the story's page, for an ending slide."""
    url = story_url(audience_url)
    svg = segno.make(url, error="m", micro=False).svg_inline(
        scale=10, border=4, title="Scan for every path"
    )
    shown = url.split("://", 1)[-1]
    return (
        f'<div class="cyoa-join cyoa-endlink"><div class="cyoa-qr">{scalable_svg(svg)}</div>'
        '<div><p class="cyoa-join-lead">Every path, and the one we took:</p>'
        f'<p class="cyoa-url">{html.escape(shown)}</p></div></div>'
    )
