"""What every lab run shares: its result, its frame, its problems and its verdict."""

from __future__ import annotations

import functools
from collections.abc import Callable

from cyoa.demos.runner import REGISTRY, DemoResult, Run, demo

#: The MIME type of a lab run's facts in a notebook's outputs (a deck demo's is FACTS_MIME).
LAB_MIME = "application/vnd.cyoa.lab+json"


class LabResult(DemoResult):
    """A lab run's result: a demo result, shown under its own MIME type (not a deck demo)."""

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict:
        return {"text/plain": self.summary(), LAB_MIME: self.as_json()}

    def summary(self) -> str:
        if not self.ok or "passed" not in self.facts:
            return super().summary()
        verdict = "PASS" if self.facts["passed"] else "FAIL"
        return f"{self.name}: check {verdict} ({self.seconds:.1f} s)"


class LabInputError(ValueError):
    """A learner's file that the lab cannot run as given; the message says what to change."""


def unlisted(name: str, title: str) -> Callable[[Callable[..., None]], Callable[..., LabResult]]:
    """The deck's demo frame (narration, scratch, cleanup, missing tools), not a scene's demo.

    Registering would make it a demo the story and the deck must tag; these runs belong to
    the learner's notebook only.
    """

    def decorate(fn: Callable[..., None]) -> Callable[..., LabResult]:
        runner = demo(name, title)(fn)
        REGISTRY.pop(name, None)

        @functools.wraps(fn)
        def lab_runner(**options: object) -> LabResult:
            return LabResult(**vars(runner(**options)))

        return lab_runner

    return decorate


def problem(run: Run, text: str) -> None:
    """Record one reason the learner's setup does not do what the chapter wants."""
    run.result.facts.setdefault("problems", []).append(text)


def verdict(run: Run, problems: list[str], goal: str) -> None:
    """Say pass or fail, with the reasons, and record it."""
    run.fact("passed", not problems, "check passed")
    run.step(f"Check: {'PASS' if not problems else 'FAIL'}: {goal}")
    for reason in problems:
        run.say(f"✘ {reason}")
    if not problems:
        run.say("✔ all good")


def could_not_start(run: Run, check: bool, goal: str) -> None:
    """The setup never came up: say why (as the check's verdict, when checking)."""
    problems = run.result.facts.get("problems", [])
    if check:
        verdict(run, problems, goal)
    else:
        for reason in problems:
            run.say(f"✘ {reason}")


def conclude(run: Run, problems: list[str], check: bool, goal: str) -> None:
    """Record the run's problems, then the verdict when checking, else each reason said."""
    run.result.facts.setdefault("problems", []).extend(problems)
    if check:
        verdict(run, problems, goal)
    else:
        for reason in problems:
            run.say(f"✘ {reason}")
