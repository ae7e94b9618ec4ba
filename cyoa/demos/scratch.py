"""A scratch directory per demo run, so a demo never writes outside it.

Every file a demo makes (configs, logs, databases, keys) lives here and is deleted when the
demo ends; set ``CYOA_DEMOS_KEEP=1`` to keep it for a look afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def scratch_dir(name: str) -> Iterator[Path]:
    """A fresh directory named after the demo; removed afterwards, even on failure."""
    path = Path(tempfile.mkdtemp(prefix=f"cyoa-{name}-"))
    path.chmod(0o755)  # nginx's and PostgreSQL's unprivileged processes must reach inside
    try:
        yield path
    finally:
        if not os.environ.get("CYOA_DEMOS_KEEP"):
            shutil.rmtree(path, ignore_errors=True)


def open_to(path: Path, user: str) -> None:
    """Let an unprivileged ``user`` own ``path`` and reach it (PostgreSQL refuses root)."""
    path.mkdir(parents=True, exist_ok=True)
    for parent in (path, *path.parents):
        if parent == Path(tempfile.gettempdir()) or parent == Path("/"):
            break
        parent.chmod(parent.stat().st_mode | 0o755)
    shutil.chown(path, user=user)
