"""What the room chose: the export of a talk, read after the talk, and a printed report.

After ``cyoa present`` has stopped, no vote server runs: the export is read straight from
the state directory's Redis (started for the moment, or the one ``REDIS_URL`` names).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cyoa.story.model import Story


class ResultsError(Exception):
    """No results to show, worded for the presenter."""


def fetch(talk: str = "", url: str = "", state_dir: str = "") -> tuple[dict[str, Any], str]:
    """The export (JSON shape and CSV text) of ``talk``, or of the current talk."""
    if url:
        from cyoa.deck.client import VoteClient
        from cyoa.voteserver.rehearse import unreachable

        client = VoteClient(url, os.environ.get("CYOA_PRESENTER_TOKEN", "") or _token(state_dir))
        talk = talk or (client.state() or {}).get("talk", "")
        data = client.export(talk, "json") if client.failure is None else None
        table = client.export(talk, "csv") if data is not None else None
        if client.failure is not None:
            raise ResultsError(unreachable(url, client.failure))
        if data is None or table is None:
            raise ResultsError(
                f"no results for talk {talk!r} from {url} ({client.error or 'refused'})"
            )
        return data, table
    from cyoa.voteserver.app import connect
    from cyoa.voteserver.embedded import EmbeddedRedis
    from cyoa.voteserver.settings import load_config
    from cyoa.voteserver.store import VoteStore

    config = load_config({"state_dir": state_dir or None})
    embedded = None if config.redis_url else EmbeddedRedis(config.state_dir)
    try:
        redis_url = config.redis_url or embedded.start()  # type: ignore[union-attr]
        store = VoteStore(connect(redis_url, timeout=5), config.talk)
        talk = talk or store.current_talk()
        if not store.list_polls(talk) and not store.get_state(talk).path:
            raise ResultsError(f"no talk {talk!r} in {config.redis_url or config.state_dir}")
        return store.export(talk), store.export_csv(talk)
    finally:
        if embedded is not None:
            embedded.stop()


def _token(state_dir: str) -> str:
    from cyoa.voteserver.settings import load_config

    path = os.path.join(load_config({"state_dir": state_dir or None}).state_dir, "presenter_token")
    try:
        with open(path) as handle:
            return handle.read().strip()
    except OSError:
        return ""


def report(data: dict[str, Any], story: Story | None = None) -> str:
    """The path, one line per scene, with each decision's tally and the option followed."""
    if story is not None and data.get("story") not in ("", story.name):
        story = None
    polls = {poll.get("scene") or poll["poll"]: poll for poll in data.get("polls", [])}
    path = data.get("path") or []
    lines = [f"Talk {data['talk']} · story {data.get('story') or '?'} · {len(path)} scenes"]
    for step, scene_id in enumerate(path, 1):
        title = story.by_id[scene_id].title if story and scene_id in story.by_id else ""
        lines.append(f"{step:3d}. {scene_id}" + (f" · {title}" if title else ""))
        poll = polls.get(scene_id)
        if poll is None:
            continue
        after = path[step] if step < len(path) else None
        followed = _followed(story, scene_id, after) or poll.get("winner")
        lines.append(f"       “{poll['question']}” · {poll['total']} votes · {poll['status']}")
        top = max([o["votes"] for o in poll["options"]] + [1])
        for option in poll["options"]:
            mark = "▶" if option["key"] == followed else " "
            bar = "█" * round(20 * option["votes"] / top)
            label = option["label"][:30]
            lines.append(f"     {mark} {option['key']:>2} {label:<30} {option['votes']:>5} {bar}")
        lines += _stuffing(poll)
    others = [p for p in data.get("polls", []) if (p.get("scene") or p["poll"]) not in path]
    for poll in others:  # polls off the path: only what stood out in their votes
        notes = _stuffing(poll)
        if notes:
            lines.append(f"     poll {poll['poll']} (not on the path)")
            lines += notes
    return "\n".join(lines)


def _stuffing(poll: dict[str, Any]) -> list[str]:
    """The votes refused and the alerts of a poll (exports made before them have none)."""
    lines = []
    refused = poll.get("refused") or 0
    if refused:
        lines.append(
            f"       refused {refused} vote{'s' if refused != 1 else ''} "
            "(voters-per-address cap or a blocked source)"
        )
    lines += [f"       ! {alert}" for alert in poll.get("alerts") or []]
    return lines


def _followed(story: Story | None, scene_id: str, after: str | None) -> str | None:
    if story is None or after is None or scene_id not in story.by_id:
        return None
    choice = story.by_id[scene_id].choice
    keys = [o.key for o in choice.options if o.goto == after] if choice else []
    return keys[0] if keys else None
