"""Read a story's text files, turning every way a read can fail into a Problem on that file.

An author's editor may save Latin-1, or a folder may hold a file nobody can read; either must
become a line naming the file (and the line of the first bad byte), never a traceback.
"""

from __future__ import annotations

from pathlib import Path

from cyoa.story.problems import Problem, StoryError


def read_text(file: Path) -> str:
    """The text of ``file`` as UTF-8 (a byte-order mark is dropped); else StoryError on it."""
    try:
        data = Path(file).read_bytes()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise StoryError([Problem(f"cannot be read: {reason}", file)]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise StoryError([not_utf8(file, data, error)]) from None


def not_utf8(file: Path, data: bytes, error: UnicodeDecodeError) -> Problem:
    """Where the first byte that is not UTF-8 sits, said so that an editor can find it."""
    before = data[: error.start]
    line = before.count(b"\n") + 1
    column = error.start - (before.rfind(b"\n") + 1) + 1
    byte = data[error.start]
    return Problem(
        f"not UTF-8: byte 0x{byte:02x} in column {column} (the file was saved in another "
        "encoding, perhaps Latin-1; save it as UTF-8)",
        file,
        line,
    )
