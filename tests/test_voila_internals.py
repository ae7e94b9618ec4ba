"""The Voilà internals the deck relies on are still there, or the deck says so loudly.

``cyoa.deck.kernels`` reaches into Voilà's pre-heat pool (``_pools``, ``fill_if_needed``,
pool tasks giving ``{"kernel_id": ...}``) and the deck's template deletes the lab template's
CDN links by their exact text. requirements.lock pins Voilà; these tests fail, and the code
raises, the day a Voilà upgrade moves any of it, instead of the deck degrading in silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import nbformat
import psutil
import pytest
import requests
from conftest import free_port
from voila.app import Voila
from voila.voila_kernel_manager import voila_kernel_manager_factory
from waiting import wait_until

from cyoa.deck.kernels import FreshPoolKernelManager, VoilaChanged, pooled_kernel
from cyoa.deck.template import TemplateChanged, check_lab_template, lab_template, removed_texts
from cyoa.present import TEMPLATES, Settings, voila_argv, voila_changed

OUTPUT = "rendered in a pre-heated kernel"


def pool_manager(root: Path, preheat: bool) -> FreshPoolKernelManager:
    """The kernel manager class Voilà builds on ours, as ``cyoa present`` has it built."""
    app = Voila()
    app.root_dir = str(root)  # empty: nothing is pre-heated at construction
    return voila_kernel_manager_factory(FreshPoolKernelManager, preheat, 1)(parent=app)


def test_voilas_pool_has_what_the_deck_reaches_into(tmp_path: Path) -> None:
    manager = pool_manager(tmp_path, preheat=True)

    assert manager.voila_pools() == {}
    fill = inspect.signature(manager.fill_if_needed).parameters
    assert {"delay", "notebook_name"} <= fill.keys()


def run_alone(coroutine):
    """Run ``coroutine`` on a loop of its own thread: Playwright's sync API (the session's
    browser fixture) keeps a loop running on this one, where asyncio.run refuses."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_a_kernel_manager_without_the_pool_refuses_loudly(tmp_path: Path) -> None:
    manager = pool_manager(tmp_path, preheat=False)

    with pytest.raises(VoilaChanged, match="_pools, fill_if_needed"):
        run_alone(manager.start_kernel())
    assert manager.list_kernel_ids() == []  # refused before any kernel started


def test_a_pool_task_of_another_shape_is_an_error_not_a_miss() -> None:
    async def finished(result: object) -> asyncio.Task:
        task = asyncio.ensure_future(asyncio.sleep(0, result))
        await task
        return task

    assert pooled_kernel(run_alone(finished({"kernel_id": "k1", "task": None}))) == "k1"
    with pytest.raises(VoilaChanged, match="not a dict with a kernel_id"):
        pooled_kernel(run_alone(finished(("k1", None))))


def test_the_lab_template_holds_every_text_the_decks_template_removes() -> None:
    assert len(removed_texts()) == 2  # Font Awesome's two stylesheets
    check_lab_template()


def test_a_changed_lab_template_stops_the_deck(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    changed = tmp_path / "voila" / "templates" / "lab" / "index.html.j2"
    changed.parent.mkdir(parents=True)
    original = lab_template().read_text()
    changed.write_text(original.replace("fontawesome-free@^5", "fontawesome-free@^6"))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))  # found first, as Voilà would

    assert lab_template() == changed
    with pytest.raises(TemplateChanged, match=re.escape("fontawesome-free@^5/css/all.min.css")):
        check_lab_template()


@contextlib.contextmanager
def serving(tmp_path: Path, preheat: bool = True) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """Voilà serving a one-cell notebook with the flags ``cyoa present`` gives it."""
    root = tmp_path / "deck"
    root.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell(f"print({OUTPUT!r})"))
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, root / "tiny.ipynb")
    port = free_port()
    settings = Settings(story=tmp_path, state_dir=tmp_path, deck_port=port)
    env = {**os.environ, "JUPYTER_PATH": os.pathsep.join([str(TEMPLATES), *jupyter_path_env()])}
    argv = voila_argv(root, settings)
    argv[argv.index("--preheat_kernel=True")] = f"--preheat_kernel={preheat}"
    log = tmp_path / "voila.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield f"http://127.0.0.1:{port}", process, log
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def jupyter_path_env() -> list[str]:
    return [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]


def wait_log(log: Path, text: str, count: int, process: subprocess.Popen) -> None:
    """Until Voilà's log says ``text`` ``count`` times; fail with the log at the deadline."""

    def logged() -> bool:
        assert process.poll() is None, f"Voilà exited:\n{log.read_text(errors='replace')}"
        return log.read_text(errors="replace").count(text) >= count

    wait_until(logged, f"{text!r} x{count} in {log}")


@pytest.mark.slow
def test_a_killed_pre_heated_kernel_is_replaced_through_voilas_pool(tmp_path: Path) -> None:
    with serving(tmp_path) as (base, process, log):
        wait_log(log, "Kernel pool of tiny.ipynb is filled", 1, process)
        voila = psutil.Process(process.pid)
        (kernel,) = [p for p in voila.children() if "ipykernel" in " ".join(p.cmdline())]

        kernel.kill()

        wait_log(log, "died; replacing it", 1, process)  # found in _pools: the shape held
        wait_log(log, "Kernel pool of tiny.ipynb is filled", 2, process)  # fill_if_needed ran
        page = requests.get(f"{base}/voila/render/tiny.ipynb", timeout=120)
        assert page.status_code == 200
        assert OUTPUT in page.text
        assert "VoilaChanged" not in log.read_text()
        assert "cdn.jsdelivr.net" not in page.text  # the cyoa template removed the CDN links


@pytest.mark.slow
def test_without_voilas_pool_the_page_fails_and_cyoa_present_reads_why(tmp_path: Path) -> None:
    with serving(tmp_path, preheat=False) as (base, process, log):
        wait_log(log, "Voilà is running at", 1, process)
        page = requests.get(f"{base}/voila/render/tiny.ipynb", timeout=120)

        assert OUTPUT not in page.text  # no kernel ran it: refused, not served blank
        assert "has no pre-heat pool (_pools, fill_if_needed)" in voila_changed(log, 0)
