"""Read a story folder (``story.yaml`` plus one Markdown file per scene) into the model.

The loader only refuses what it cannot represent (bad YAML, a missing title, a scene that goes
on in two ways at once); graph problems such as broken links are the checker's job, so a
presenter sees them all in one run.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt

from cyoa.story.model import Choice, Ending, Option, Scene, Source, Story, field_line
from cyoa.story.problems import Problem, StoryError, blame
from cyoa.story.textfile import read_text
from cyoa.story.variants import VariantError, parse_blocks

STORY_FILE = "story.yaml"
SCENES_DIR = "scenes"
NOTES_HEADING = "speaker notes"
SCENE_FIELDS = ("id", "title", "image", "alt", "demo", "next", "choice", "ending")
CHOICE_FIELDS = ("question", "options", "default", "hide_results", "time_limit")
OPTION_FIELDS = ("key", "label", "goto", "sms")
STORY_FIELDS = ("name", "title", "start", "description", "notebooks")
OPTIONAL_FIELDS = ("description", "notebooks")
PLANNING_FIELDS = ("duration",)  # not text: read by duration_seconds
_DURATION = re.compile(r"^(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?\s*(?:(\d+)\s*s)?$")

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S | re.M)
_OPENING = re.compile(r"\A---[ \t]*(?:\r?\n|\Z)")
_ID_LINE = re.compile(r"^id:[ \t]*[\"']?([a-z0-9][a-z0-9-]*)", re.M)
EMPTY_WAY = {
    "next": "name the scene that comes next (next: <id>)",
    "choice": "give it a question and options (see story/README.md)",
    "ending": "say how this path ends (ending: You went left)",
}
_markdown = MarkdownIt("commonmark")


def default_story_path() -> Path:
    """The adventure shipped with cyoa, used when a command gets no STORY argument."""
    return Path(__file__).resolve().parent / "adventures" / "wsgi"


def scene_files(root: Path) -> list[Path]:
    """Every scene file, in the order the story lists its scenes (sorted paths)."""
    return sorted((Path(root) / SCENES_DIR).rglob("*.md"))


def load_story(root: Path | str) -> Story:
    """Load the story in folder ``root``; raise StoryError listing every file that is unusable."""
    root = Path(root)
    problems: list[Problem] = []
    with blame(root / STORY_FILE):
        meta = _load_meta(root, problems)
    files = scene_files(root)
    if not files and not problems:
        problems.append(Problem(f"no scenes: no .md files under {SCENES_DIR}/", root / SCENES_DIR))
    scenes = []
    for file in files:
        try:
            with blame(file):
                scenes.append(parse_scene(read_text(file), file))
        except StoryError as error:
            scene = guess_id(file)
            problems.extend(
                replace(problem, scene=problem.scene or scene) for problem in error.problems
            )
    if problems:
        raise StoryError(problems)
    return Story(
        name=meta["name"],
        title=meta["title"],
        start=meta["start"],
        description=meta.get("description", ""),
        notebooks=meta.get("notebooks", ""),
        duration=int(meta["duration"]) if meta.get("duration") else None,
        scenes=tuple(scenes),
        root=root,
    )


def guess_id(file: Path) -> str | None:
    """The ``id:`` line of a scene file that cannot be parsed, so its problems name the scene."""
    try:
        text = file.read_bytes()[:4000].decode("utf-8", errors="replace")
    except OSError:
        return None
    found = _ID_LINE.search(text)
    return found[1] if found else None


def _load_meta(root: Path, problems: list[Problem]) -> dict[str, str]:
    file = root / STORY_FILE
    if not file.is_file():
        problems.append(Problem(f"no {STORY_FILE}: a story folder names its title and start", file))
        return {}
    try:
        text = read_text(file)
        data = yaml.safe_load(text) or {}
        lines = dict(_field_lines(yaml.compose(text, Loader=yaml.SafeLoader), first_line=1))
    except StoryError as error:
        problems.extend(error.problems)
        return {}
    except yaml.YAMLError as error:
        problems.append(Problem(f"not valid YAML: {_yaml_reason(error)}", file, _yaml_line(error)))
        return {}
    if not isinstance(data, dict):
        problems.append(Problem("must be a mapping of name, title, start, description", file, 1))
        return {}
    meta: dict[str, str] = {}
    for name in STORY_FIELDS:
        value = data.get(name, "" if name in OPTIONAL_FIELDS else None)
        if not isinstance(value, str) or (name not in OPTIONAL_FIELDS and not value.strip()):
            problems.append(Problem(f"'{name}' must be a non-empty text", file, lines.get(name)))
        else:
            meta[name] = value.strip()
    if "duration" in data:
        seconds = duration_seconds(data["duration"])
        if seconds is None:
            problems.append(
                Problem(
                    "'duration' must be the talk's planned length, such as 30m, 1h15m or 25 "
                    f"(minutes), not {_shown(data['duration'])}",
                    file,
                    lines.get("duration"),
                )
            )
        else:
            meta["duration"] = str(seconds)
    for name in data:
        if name not in STORY_FIELDS + PLANNING_FIELDS:
            known = ", ".join(STORY_FIELDS + PLANNING_FIELDS)
            problems.append(
                Problem(f"unknown field '{name}' (known: {known})", file, lines.get(name))
            )
    return meta


def duration_seconds(value: object) -> int | None:
    """A planned length in seconds: ``30m``, ``1h15m``, ``90s``, or a number of minutes;
    None when it is none of these (or zero)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value * 60 if value > 0 else None
    match = _DURATION.match(value.strip().lower()) if isinstance(value, str) else None
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    return total or None


def parse_scene(text: str, file: Path) -> Scene:
    """Parse one scene file: YAML front matter, then the slide, then ``## Speaker notes``."""
    match = _FRONT_MATTER.match(text)
    if match is None and _OPENING.match(text):
        raise StoryError(
            [Problem("front matter never ends: add a --- line after its last field", file, 1)]
        )
    if match is None:
        raise StoryError([Problem("no front matter: the file must start with a --- line", file, 1)])
    try:
        data = yaml.safe_load(match.group(1))
        node = yaml.compose(match.group(1), Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        line = _yaml_line(error)
        raise StoryError(
            [
                Problem(
                    f"front matter is not valid YAML: {_yaml_reason(error)}",
                    file,
                    line and line + 1,
                )
            ]
        ) from None
    if not isinstance(data, dict):
        raise StoryError([Problem("front matter must be a mapping (id: ..., title: ...)", file, 2)])
    lines = tuple(_field_lines(node, first_line=2))
    reader = _Fields(file, dict(lines), _scalar(data.get("id")))
    body, notes = split_notes(text[match.end() :])
    first_line = text[: match.end()].count("\n") + 1
    for part in (body, notes):
        reader.variants(part, text[match.end() :], first_line)
    scene = reader.scene(data, body, notes, Source(file, lines))
    if reader.problems:
        raise StoryError(reader.problems)
    return scene


def split_notes(markdown: str) -> tuple[str, str]:
    """Split a scene's Markdown at its ``## Speaker notes`` heading: (slide, notes)."""
    tokens = _markdown.parse(markdown)
    lines = markdown.splitlines()
    for index, token in enumerate(tokens):
        if (
            token.type == "heading_open"
            and token.tag == "h2"
            and token.map
            and tokens[index + 1].content.strip().lower() == NOTES_HEADING
        ):
            start, end = token.map
            return "\n".join(lines[:start]).strip(), "\n".join(lines[end:]).strip()
    return markdown.strip(), ""


class _Fields:
    """Reads front-matter values into model objects, collecting a problem per bad field."""

    def __init__(self, file: Path, lines: dict[str, int], scene_id: str | None) -> None:
        self.file, self.lines, self.scene_id = file, lines, scene_id
        self.problems: list[Problem] = []

    def problem(self, message: str, field: str) -> None:
        line = field_line(self.lines, field) or 2
        self.problems.append(Problem(message, self.file, line, self.scene_id))

    def variants(self, part: str, rest: str, first_line: int) -> None:
        """Refuse a ``::: on`` variant block that is malformed, naming its line in the file."""
        try:
            parse_blocks(part)
        except VariantError as error:
            bad = part.splitlines()[error.line - 1]
            offset = rest.splitlines().index(bad) if bad in rest.splitlines() else 0
            self.problems.append(Problem(str(error), self.file, first_line + offset, self.scene_id))

    def text(self, data: dict, name: str, field: str, required: bool = False) -> str | None:
        value = _scalar(data.get(name))
        if value is None and data.get(name) is not None:
            self.problem(f"'{name}' must be a text, not {type(data[name]).__name__}", field)
        elif required and not (value or "").strip():
            self.problem(f"'{name}' is missing: every {_owner(field)} needs one", field)
        return value.strip() if isinstance(value, str) else value

    def unknown(self, data: dict, known: tuple[str, ...], prefix: str) -> None:
        for name in data:
            if name not in known:
                field = f"{prefix}{name}"
                self.problem(f"unknown field '{name}' (known: {', '.join(known)})", field)

    def scene(self, data: dict, body: str, notes: str, source: Source) -> Scene:
        self.unknown(data, SCENE_FIELDS, "")
        scene_id = self.text(data, "id", "id", required=True) or ""
        for name, hint in EMPTY_WAY.items():
            if name in data and (data[name] is None or data[name] == ""):
                self.problem(f"'{name}' is empty: {hint}", name)
        ways = [name for name in ("next", "choice", "ending") if data.get(name) is not None]
        if len(ways) > 1:
            self.problem(f"has {' and '.join(ways)}: a scene goes on in exactly one way", ways[1])
        ending = self.text(data, "ending", "ending")
        return Scene(
            id=scene_id,
            title=self.text(data, "title", "title", required=True) or "",
            body=body,
            notes=notes,
            image=self.text(data, "image", "image"),
            alt=self.text(data, "alt", "alt") or "",
            demo=self.text(data, "demo", "demo"),
            next=self.text(data, "next", "next"),
            choice=self.choice(data["choice"]) if data.get("choice") is not None else None,
            ending=Ending(ending) if ending else None,
            source=source,
        )

    def choice(self, data: Any) -> Choice | None:
        if not isinstance(data, dict):
            self.problem("'choice' must be a mapping with a question and options", "choice")
            return None
        self.unknown(data, CHOICE_FIELDS, "choice.")
        raw_options = data.get("options") or []
        if not isinstance(raw_options, list):
            self.problem("'options' must be a list, one '- key: ...' per option", "choice.options")
            raw_options = []
        options = [self.option(item, index) for index, item in enumerate(raw_options)]
        return Choice(
            question=self.text(data, "question", "choice.question", required=True) or "",
            options=tuple(option for option in options if option is not None),
            default=self.text(data, "default", "choice.default"),
            hide_results=self.flag(data, "hide_results", "choice.hide_results"),
            time_limit=self.seconds(data, "time_limit", "choice.time_limit"),
        )

    def flag(self, data: dict, name: str, field: str) -> bool:
        """A yes-or-no field: absent is False; anything but true or false is a problem."""
        value = data.get(name, False)
        if not isinstance(value, bool):
            self.problem(f"'{name}' must be true or false, not {_shown(value)}", field)
            return False
        return value

    def seconds(self, data: dict, name: str, field: str) -> int | None:
        """A whole number of seconds, or None when absent (the checker judges its range)."""
        value = data.get(name)
        if name not in data:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(
                f"'{name}' must be a whole number of seconds ({name}: 45), not {_shown(value)}",
                field,
            )
            return None
        return value

    def option(self, data: Any, index: int) -> Option | None:
        field = f"options.{index}"
        if not isinstance(data, dict):
            self.problem(f"option {index + 1} must be a mapping of key, label, goto", field)
            return None
        self.unknown(data, OPTION_FIELDS, f"{field}.")
        sms = data.get("sms") or []
        if isinstance(sms, str):
            sms = sms.replace(",", " ").split()
        if not isinstance(sms, list) or not all(isinstance(word, str) for word in sms):
            hint = ""
            if isinstance(sms, list) and any(isinstance(word, bool) for word in sms):
                hint = ' (quote words such as "no" and "off": bare, YAML reads them as true/false)'
            self.problem(f"'sms' must be a list of words{hint}", f"{field}.sms")
            sms = []
        key = self.text(data, "key", f"{field}.key") or str(index + 1)
        return Option(
            key=key,
            label=self.text(data, "label", f"{field}.label", required=True) or "",
            goto=self.text(data, "goto", f"{field}.goto", required=True) or "",
            sms=tuple(word.strip().lower() for word in sms if word.strip()),
        )


def _shown(value: Any) -> str:
    """A bad value as the author wrote it: ``'45s'``, ``2.5``, or "nothing" when empty."""
    if value is None:
        return "nothing"
    return repr(value) if isinstance(value, str) else str(value)


def _owner(field: str) -> str:
    if field.startswith("options."):
        return "option"
    return "choice" if field.startswith("choice.") else "scene"


def _scalar(value: Any) -> str | None:
    """Texts as they are; numbers as text (``key: 1`` and ``key: "1"`` mean the same)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    return value if isinstance(value, str) else None


def _field_lines(node: yaml.Node | None, first_line: int) -> list[tuple[str, int]]:
    """File line of each front-matter field, named like ``next`` or ``options.0.goto``."""
    found: list[tuple[str, int]] = []
    if not isinstance(node, yaml.MappingNode):
        return found
    for key, value in node.value:
        name = str(key.value)
        found.append((name, key.start_mark.line + first_line))
        if name == "choice" and isinstance(value, yaml.MappingNode):
            for choice_key, choice_value in value.value:
                found.append(
                    (f"choice.{choice_key.value}", choice_key.start_mark.line + first_line)
                )
                if choice_key.value == "options" and isinstance(choice_value, yaml.SequenceNode):
                    for index, item in enumerate(choice_value.value):
                        found.append((f"options.{index}", item.start_mark.line + first_line))
                        if isinstance(item, yaml.MappingNode):
                            found.extend(
                                (f"options.{index}.{k.value}", k.start_mark.line + first_line)
                                for k, _ in item.value
                            )
    return found


def _yaml_line(error: yaml.YAMLError) -> int | None:
    mark = getattr(error, "problem_mark", None)
    return mark.line + 1 if mark is not None else None


def _yaml_reason(error: yaml.YAMLError) -> str:
    return str(getattr(error, "problem", None) or error).strip()
