"""Build small story folders on disk, written the way a presenter writes them."""

from __future__ import annotations

import textwrap
from pathlib import Path

DEMOS = "hello: prints hello\nnginx-502: nginx with nothing behind it\n"

VALID_SCENES = {
    "01-start.md": """
        ---
        id: start
        title: Welcome
        demo: hello
        next: pick
        ---

        Hello, room.

        ## Speaker notes

        Wave.
        """,
    "02-pick.md": """
        ---
        id: pick
        title: Pick one
        choice:
          question: Which way?
          default: "2"
          options:
            - key: "1"
              label: Left
              sms: [left]
              goto: left
            - key: "2"
              label: Right
              goto: right
        ---

        Vote now.
        """,
    "03-left.md": """
        ---
        id: left
        title: Left
        ending: You went left
        ---

        The end.
        """,
    "04-right.md": """
        ---
        id: right
        title: Right
        image: images/map.svg
        alt: a map
        ending: You went right
        ---

        The other end.
        """,
}


def write_story(
    root: Path,
    scenes: dict[str, str] | None = None,
    *,
    start: str = "start",
    demos: str = DEMOS,
    replace: dict[str, str | None] | None = None,
) -> Path:
    """A story folder under ``root``: the valid scenes, with ``replace`` swapping files in.

    ``replace`` maps a file name to new text, or to None to leave the file out.
    """
    files = dict(VALID_SCENES if scenes is None else scenes)
    for name, text in (replace or {}).items():
        if text is None:
            files.pop(name, None)
        else:
            files[name] = text
    (root / "scenes").mkdir(parents=True, exist_ok=True)
    (root / "images").mkdir(exist_ok=True)
    (root / "images" / "map.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', encoding="utf-8"
    )
    (root / "story.yaml").write_text(f"name: tiny\ntitle: Tiny\nstart: {start}\n")
    (root / "demos.yaml").write_text(demos, encoding="utf-8")
    for name, text in files.items():
        (root / "scenes" / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root
