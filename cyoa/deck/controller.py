"""The one piece of browser code: keys, clicker, fullscreen, theme and a heartbeat.

An anywidget whose ES module lives in ``static/controller.js``. It only reports what the
browser saw; the Python side decides. Actions can be called from Python too, so the deck is
tested without a browser.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from cyoa.deck.render import code_css

STATIC = Path(__file__).parent / "static"


class Controller(anywidget.AnyWidget):
    """Zero-size widget: forwards key actions to ``on_action`` and keeps ``last_beat`` fresh."""

    _esm = STATIC / "controller.js"
    _css = traitlets.Unicode((STATIC / "deck.css").read_text() + code_css()).tag(sync=True)
    theme = traitlets.Unicode("dark").tag(sync=True)

    def __init__(
        self,
        on_action: Callable[[str], Any],
        on_beat: Callable[[], Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.on_action = on_action
        self.on_beat = on_beat
        self.last_beat = 0.0  # monotonic time of the page's last sign of life
        self.on_msg(self._message)

    def _message(self, _widget: Any, content: dict[str, Any], _buffers: Any) -> None:
        self.last_beat = time.monotonic()
        if self.on_beat is not None:
            self.on_beat()
        if content.get("type") == "key" and isinstance(content.get("action"), str):
            self.on_action(content["action"])

    def alive(self, timeout: float) -> bool:
        """True while the page has sent a heartbeat within ``timeout`` seconds."""
        return time.monotonic() - self.last_beat < timeout
