"""Voilà's kernel manager, made safe for a pre-heated deck whose kernel dies before use.

Voilà pre-heats a kernel per notebook: it runs the deck before anyone asks, so the first
slide appears at once. If that kernel dies while it waits in the pool (a crash, the OOM
killer, a port clash at start-up), Jupyter's restarter starts a blank kernel under the same
id, and Voilà would later serve that blank kernel with the dead one's page: the deck would
never show. Here a pooled kernel that restarts is shut down and the pool refilled, so the
next page load gets a kernel that really ran the deck.

``cyoa present`` passes this class to Voilà as
``--VoilaConfiguration.multi_kernel_manager_class``; Voilà adds its pool on top of it. That
pool is Voilà's internals (``_pools``, ``fill_if_needed``, pool items that are tasks giving
``{"kernel_id": ...}``), pinned by requirements.lock and checked by tests/test_voila_internals.py;
where they are missing this raises VoilaChanged, never degrades silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from typing import Any

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

RESTART_WAIT = 30.0  # seconds for the restarter's new process to come up before we end it


class VoilaChanged(RuntimeError):
    """Voilà's kernel pool no longer has what this module relies on."""


def pooled_kernel(task: asyncio.Task) -> str:
    """The kernel id a finished pre-heat task gives; VoilaChanged if it gives no such thing."""
    result = task.result()
    if not isinstance(result, dict) or not isinstance(result.get("kernel_id"), str):
        raise VoilaChanged(
            f"a pre-heat task of Voilà's pool gave {type(result).__name__}, not a "
            "dict with a kernel_id: pin Voilà to the version requirements.lock has"
        )
    return result["kernel_id"]


class FreshPoolKernelManager(AsyncMappingKernelManager):
    """Kernels that restart while pre-heated are replaced by freshly pre-heated ones."""

    def voila_pools(self) -> dict[str, list[asyncio.Task]]:
        """Voilà's pre-heat pools (notebook -> tasks); VoilaChanged if Voilà has none."""
        pools = getattr(self, "_pools", None)
        if not isinstance(pools, dict) or not callable(getattr(self, "fill_if_needed", None)):
            raise VoilaChanged(
                f"Voilà's kernel manager ({type(self).__qualname__}) has no "
                "pre-heat pool (_pools, fill_if_needed): FreshPoolKernelManager needs "
                "--preheat_kernel=True and the Voilà version requirements.lock pins."
            )
        return pools

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:
        try:  # fail the first kernel, loudly, rather than every restart quietly
            self.voila_pools()
        except VoilaChanged as error:
            self.log.critical("VoilaChanged: %s", error)  # cyoa present stops on this line
            raise
        kernel_id = await super().start_kernel(*args, **kwargs)
        restarting = functools.partial(self._kernel_restarting, kernel_id)
        self.get_kernel(kernel_id).add_restart_callback(restarting, "restart")
        return kernel_id

    def take_from_pool(self, kernel_id: str) -> str | None:
        """Remove ``kernel_id`` from its pool at once; its notebook, or None if not pooled.

        At once, because a page that arrives while the restart is under way must get
        another kernel, not this one.
        """
        for notebook, pool in self.voila_pools().items():
            for task in list(pool):
                ready = task.done() and not task.cancelled() and task.exception() is None
                if ready and pooled_kernel(task) == kernel_id:
                    pool.remove(task)
                    return notebook
        return None

    def _kernel_restarting(self, kernel_id: str) -> None:
        notebook = self.take_from_pool(kernel_id)
        if notebook is None:
            return  # a page is using it: the page sees its kernel died, a reload gets a new one
        self.log.warning("pre-heated kernel %s of %s died; replacing it", kernel_id, notebook)
        self.fill_if_needed(delay=0, notebook_name=notebook)  # type: ignore[attr-defined]
        asyncio.get_running_loop().create_task(self._end(kernel_id))

    async def _end(self, kernel_id: str) -> None:
        """Shut the restarted, blank kernel down once the restarter has brought it up."""
        kernel = self.get_kernel(kernel_id)
        deadline = time.monotonic() + RESTART_WAIT
        while not await kernel.is_alive() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        with contextlib.suppress(KeyError, RuntimeError):
            await self.shutdown_kernel(kernel_id, now=True)
