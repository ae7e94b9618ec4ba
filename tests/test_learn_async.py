"""Chapter 3's async branch hands-on: the learner's ``rq worker`` command runs for real (a
throwaway Redis, the app under gunicorn, RQ's own worker), and each break of the exercise
leaves the job it should: a crawl on a queue nobody listens to, a nightly job nobody moves.

The helpers are chapter 1's (:mod:`tests.test_learn_notebooks`): the notebooks copied out,
a fresh kernel, the lab run's facts read from the outputs, nothing left running afterwards.
As shipped (no scheduler) the chapter test checks it, in ``test_learn_notebooks.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_learn_notebooks import TIMEOUTS, copy_out, run_broken

pytestmark = pytest.mark.slow

WORKER, CHECK = "worker.sh", "lab-check:async"
SHIPPED = "rq worker --url redis://127.0.0.1:6379/0"


def check_with(tmp_path: Path, command: str) -> dict:
    """The chapter's check cell, with the worker file's command line replaced."""
    return run_broken(copy_out(tmp_path / "course"), TIMEOUTS, [(WORKER, SHIPPED, command)], CHECK)


def test_with_the_scheduler_the_worker_does_both_jobs_and_the_check_passes(tmp_path: Path) -> None:
    result = check_with(tmp_path, f"{SHIPPED} --with-scheduler")

    facts = result["facts"]
    assert (facts["crawl_status"], facts["crawl_by_worker"]) == ("finished", True)
    assert facts["nightly_status"] == "finished"
    assert facts["passed"] is True
    assert "Check: PASS" in result["text"]


def test_a_worker_on_another_queue_leaves_the_crawl_queued(tmp_path: Path) -> None:
    result = check_with(tmp_path, f"{SHIPPED} --with-scheduler reports")

    facts = result["facts"]
    assert facts["worker_queues"] == ["reports"]
    assert (facts["crawl_status"], facts["nightly_status"]) == ("queued", "scheduled")
    assert facts["passed"] is False
    assert "your worker listens to reports" in result["text"]


def test_naming_both_queues_gets_the_crawl_done_again(tmp_path: Path) -> None:
    facts = check_with(tmp_path, f"{SHIPPED} --with-scheduler default reports")["facts"]

    assert facts["worker_queues"] == ["default", "reports"]
    assert (facts["crawl_status"], facts["nightly_status"]) == ("finished", "finished")


def test_a_worker_on_another_db_sees_no_job(tmp_path: Path) -> None:
    command = "rq worker --with-scheduler --url redis://127.0.0.1:6379/1"

    result = check_with(tmp_path, command)

    facts = result["facts"]
    assert facts["worker_db"] == 1
    assert (facts["crawl_status"], facts["nightly_status"]) == ("queued", "scheduled")
    assert "your worker watches Redis db 1" in result["text"]


def test_a_burst_worker_quits_before_the_jobs_come(tmp_path: Path) -> None:
    result = check_with(tmp_path, f"{SHIPPED} --with-scheduler --burst")

    assert result["facts"]["passed"] is False
    assert "--burst stops a worker as soon as the queue is empty" in result["text"]


def test_a_worker_pointed_at_another_port_says_where_the_apps_redis_is(tmp_path: Path) -> None:
    result = check_with(tmp_path, "rq worker --url redis://127.0.0.1:6380/0")

    assert result["facts"]["passed"] is False
    assert "nothing listens on 127.0.0.1:6380" in result["text"]
    assert "The app's Redis is 127.0.0.1:6379" in result["text"]


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("rq worker", "give rq worker --url redis://127.0.0.1:PORT/DB (got no --url)"),
        ("rq worker --url redis://10.1.2.3:6379/0", "the lab never uses a Redis beyond its own"),
        ("rq worker -c settings --url redis://127.0.0.1:6379/0", "drop -c"),
        ("celery -A tasks worker", "the command must start with rq worker"),
    ],
)
def test_a_worker_command_the_lab_will_not_run_fails_the_check_with_what_to_change(
    tmp_path: Path, command: str, says: str
) -> None:
    result = check_with(tmp_path, command)

    assert result["facts"]["passed"] is False
    assert says in result["text"]
