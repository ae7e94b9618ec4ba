"""The frame every demo runs in: narrated steps, real commands, recorded facts, cleanup.

A demo is a function ``fn(run: Run) -> None`` decorated with :func:`demo`. It prints what
it does as it goes (the learner and the audience read along), records the facts it showed
(``run.fact("status", 502)``) for the tests, and returns a :class:`DemoResult`. Processes
and the scratch directory are released when the demo ends, however it ends; a missing tool
or an unexpected error is reported in the output instead of failing the notebook.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cyoa.demos import processes, tools
from cyoa.demos.scratch import scratch_dir

#: The MIME type of a demo's facts in a notebook's outputs (read by the tests and the deck).
FACTS_MIME = "application/vnd.cyoa.demo+json"

REGISTRY: dict[str, Callable[..., DemoResult]] = {}

#: The story's two products (the room's first vote); every demo runs as one of them.
PRODUCTS = {"dachshund": "Dachshund Doc Send", "pets": "Tinder for Pets"}
DEFAULT_PRODUCT = "dachshund"


def neutral(text: str) -> str:
    """This machine's paths replaced by what any reader can type: ``python``, ``~``.

    The venv's interpreter becomes ``python`` and the commands beside it (gunicorn,
    ansible-playbook) their bare names, the way an activated venv runs them; the home
    directory becomes ``~``. A slide or a recording must not show where it was made.
    """
    venv_bin = os.path.dirname(sys.executable)
    for python in sorted({sys.executable, os.path.realpath(sys.executable)}, key=len)[::-1]:
        text = re.sub(re.escape(python) + r"(?![\w/])", "python", text)
    text = text.replace(venv_bin + "/", "")
    text = text.replace(sys.prefix + "/", "$VENV/")
    home = os.path.expanduser("~")
    if home not in ("", "/"):
        text = re.sub(r"(?<![\w$/.~-])" + re.escape(home) + r"(?=/)", "~", text)
    return text


@dataclass
class DemoResult:
    """What a demo showed: its facts, the tools that were missing, any error, its duration."""

    name: str
    facts: dict[str, Any] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    services: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.missing and self.error is None

    def summary(self) -> str:
        state = "ok" if self.ok else ("tool missing" if self.missing else "failed")
        return f"demo {self.name}: {state} in {self.seconds:.1f} s"

    def as_json(self) -> dict[str, Any]:
        data = {k: v for k, v in vars(self).items() if k != "extra"}
        return json.loads(json.dumps({**data, "ok": self.ok}, default=str))

    def __getitem__(self, key: str) -> Any:
        return self.facts[key]

    def __repr__(self) -> str:
        return self.summary()

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict:
        return {"text/plain": self.summary(), FACTS_MIME: self.as_json()}


class Run:
    """One run of a demo: its scratch directory, its processes, what it says and finds."""

    def __init__(
        self, name: str, stack: ExitStack, scratch: Path, product: str = DEFAULT_PRODUCT
    ) -> None:
        if product not in PRODUCTS:
            known = ", ".join(sorted(PRODUCTS))
            raise ValueError(f"unknown product {product!r}: one of {known}")
        self.name = name
        self.stack = stack
        self.scratch = scratch
        self.product = product
        self.result = DemoResult(name)
        self.result.facts["product"] = product

    # -- telling the story -------------------------------------------------------------
    def step(self, title: str) -> None:
        """A heading for the next thing the demo does."""
        print(f"\n▶ {title}", flush=True)

    def say(self, text: str) -> None:
        print(f"  {text}", flush=True)

    def show(self, text: str, indent: str = "    ") -> None:
        for line in text.rstrip().splitlines() or [""]:
            print(f"{indent}{line}")
        sys.stdout.flush()

    def short(self, text: str) -> str:
        """Paths shown as ``$SCRATCH/...``: shorter, and still a valid shell command."""
        return neutral(text.replace(str(self.scratch), "$SCRATCH"))

    def fact(self, key: str, value: Any, label: str | None = None) -> Any:
        """Record a fact the demo showed (the tests assert on these) and print it."""
        self.result.facts[key] = value
        print(f"  ✔ {label or key}: {value}", flush=True)
        return value

    # -- doing things ------------------------------------------------------------------
    def need(self, tool: str, would_run: Sequence[str] = ()) -> str:
        return tools.need(tool, [self.short(c) for c in would_run])

    def write(self, path: Path, text: str, show: bool = True, mode: int | None = None) -> Path:
        """Write a file in the scratch directory and show it, as one would in an editor."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if mode is not None:
            path.chmod(mode)
        if show:
            print(f"  📝 {self.short(str(path))}")
            self.show(self.short(text), indent="    │ ")
        return path

    def sh(
        self,
        argv: Sequence[str | Path],
        *,
        check: bool = True,
        show_output: bool = True,
        timeout: float = 60,
        **kwargs: Any,
    ) -> subprocess.CompletedProcess[str]:
        """Run a command, print it and its output (merged), raise on failure if ``check``."""
        args = [str(a) for a in argv]
        print(f"  $ {self.short(shlex.join(args))}", flush=True)
        done = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
            **kwargs,
        )
        output = (done.stdout + done.stderr).strip()
        if show_output and output:
            self.show(self.short(output))
        if check and done.returncode != 0:
            raise RuntimeError(f"{args[0]} exited with {done.returncode}")
        return done

    def start(self, name: str, argv: Sequence[str | Path], **kwargs: Any) -> processes.Service:
        """Start a real process, stopped when the demo ends (even on error or interrupt)."""
        args = [str(a) for a in argv]
        print(f"  $ {self.short(shlex.join(args))} &", flush=True)
        kwargs.setdefault("log", self.scratch / f"{name}.log")
        service = processes.start(name, args, **kwargs)
        self.result.services.append({"name": name, "pid": service.pid, "port": service.port})
        where = f" on 127.0.0.1:{service.port}" if service.port else ""
        print(f"  ⏵ {name} running{where} (pid {service.pid})", flush=True)
        self.stack.callback(self._stop, service)
        return service

    def stop(self, service: processes.Service) -> None:
        """Stop a service before the demo ends (e.g. to restart it differently)."""
        if service.popen.returncode is None:
            service.stop()
            print(f"  ⏹ stopped {service.name} (pid {service.pid})", flush=True)

    _stop = stop


def demo(name: str, title: str) -> Callable[[Callable[..., None]], Callable[..., DemoResult]]:
    """Register ``fn(run, **options)`` as the demo ``name``; calling it runs it safely."""

    def decorate(fn: Callable[..., None]) -> Callable[..., DemoResult]:
        @functools.wraps(fn)
        def runner(product: str = DEFAULT_PRODUCT, **options: Any) -> DemoResult:
            started = time.monotonic()
            print(f"━━ {title} ({PRODUCTS.get(product, product)}) ━━", flush=True)
            with ExitStack() as stack:
                scratch = stack.enter_context(scratch_dir(name))
                run = Run(name, stack, scratch, product)
                print(f"  SCRATCH={scratch}")
                try:
                    fn(run, **options)
                except tools.ToolMissing as missing:
                    run.result.missing.append(missing.tool)
                    print(f"\n⚠ {missing}", flush=True)
                except Exception as error:  # a demo must never take the notebook down
                    run.result.error = f"{type(error).__name__}: {error}"
                    print(f"\n✘ the demo failed: {run.short(run.result.error)}", flush=True)
                    print(run.short("".join(traceback.format_exc(limit=-3))), file=sys.stderr)
            run.result.seconds = round(time.monotonic() - started, 2)
            print(f"━━ {run.result.summary()} ━━", flush=True)
            return run.result

        runner.demo_name = name  # type: ignore[attr-defined]
        REGISTRY[name] = runner
        return runner

    return decorate
