"""QR codes of the audience URL, as SVG (crisp on a projector) and PNG (for slides).

segno writes both formats itself (its PNG writer needs no Pillow). The codes are cached per
URL: the deck may ask for them on every decision scene.
"""

from __future__ import annotations

import functools
import io

import segno
from flask import Blueprint, Response, request

from cyoa.voteserver.extensions import get_config

bp = Blueprint("qr", __name__)

ERROR_LEVEL = "m"  # survives a smudged screen or a glare spot on the projector
SVG_OPTIONS = {"scale": 10, "border": 4, "xmldecl": False, "title": "Scan to vote"}
PNG_OPTIONS = {"scale": 12, "border": 4}


def audience_url() -> str:
    """The URL phones should open: the configured public URL wins over the request's host."""
    return get_config().public_url or request.host_url


@functools.lru_cache(maxsize=16)
def render(url: str, kind: str) -> bytes:
    """The QR code of ``url`` as ``svg`` or ``png`` bytes."""
    options = SVG_OPTIONS if kind == "svg" else PNG_OPTIONS
    buffer = io.BytesIO()
    segno.make(url, error=ERROR_LEVEL, micro=False).save(buffer, kind=kind, **options)
    return buffer.getvalue()


def _send(kind: str, mimetype: str) -> Response:
    response = Response(render(audience_url(), kind), mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.vary.add("Host")
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/qr.svg")
def qr_svg() -> Response:
    return _send("svg", "image/svg+xml")


@bp.get("/qr.png")
def qr_png() -> Response:
    return _send("png", "image/png")
