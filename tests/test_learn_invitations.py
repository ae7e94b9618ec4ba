"""Chapter 2's invitations branch hands-on: two app servers, each with the learner's own
EnvironmentFile, a real SMTP relay (aiosmtpd), a mailed link followed on the other server,
and a stranger signing invitations with the keys everyone tries first.

The helpers are chapter 1's (:mod:`tests.test_learn_notebooks`). As shipped (``changeme``
on both servers) the chapter test checks it, in ``test_learn_chapters_2_4.py``.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from test_learn_notebooks import HYPERGROWTH, copy_out, run_broken

pytestmark = pytest.mark.slow

FIRST, SECOND, CHECK = "app-1.env", "app-2.env", "lab-check:invitations"
SHIPPED = "SECRET_KEY=changeme"


def check_with(tmp_path: Path, edits: list[tuple[str, str, str]]) -> dict:
    """The chapter's check cell, with the EnvironmentFiles edited."""
    return run_broken(copy_out(tmp_path / "course"), HYPERGROWTH, edits, CHECK)


def test_one_random_key_on_both_servers_passes(tmp_path: Path) -> None:
    key = f"SECRET_KEY={secrets.token_hex(32)}"

    result = check_with(tmp_path, [(FIRST, SHIPPED, key), (SECOND, SHIPPED, key)])

    facts = result["facts"]
    assert facts["link_statuses"] == [201, 409]  # in once on the other server, then used up
    assert facts["forged"] is False
    assert facts["passed"] is True
    assert "Check: PASS" in result["text"]


def test_a_key_of_its_own_on_each_server_refuses_the_others_links(tmp_path: Path) -> None:
    edits = [
        (FIRST, SHIPPED, f"SECRET_KEY={secrets.token_hex(32)}"),
        (SECOND, SHIPPED, f"SECRET_KEY={secrets.token_hex(32)}"),
    ]

    result = check_with(tmp_path, edits)

    assert result["facts"]["link_statuses"] == [400, 400]
    assert result["facts"]["passed"] is False
    assert "hold different SECRET_KEYs" in result["text"]


def test_a_random_key_on_one_server_leaves_the_other_forgeable(tmp_path: Path) -> None:
    result = check_with(tmp_path, [(FIRST, SHIPPED, f"SECRET_KEY={secrets.token_hex(32)}")])

    assert result["facts"]["forged"] is True
    assert "app-2.env: SECRET_KEY=changeme is among the first keys" in result["text"]
    assert "app-1.env: SECRET_KEY" not in result["text"]


def test_a_short_key_is_called_guessable(tmp_path: Path) -> None:
    key = "SECRET_KEY=hunter2hunter2"

    result = check_with(tmp_path, [(FIRST, SHIPPED, key), (SECOND, SHIPPED, key)])

    assert result["facts"]["forged"] is False  # not in the stranger's list...
    assert result["facts"]["passed"] is False  # ...and still too short to trust
    assert "SECRET_KEY is 14 characters" in result["text"]


def test_the_wrong_relay_port_makes_the_invite_a_500(tmp_path: Path) -> None:
    key = f"SECRET_KEY={secrets.token_hex(32)}"
    edits = [(FIRST, SHIPPED, key), (SECOND, SHIPPED, key)]
    edits.append((FIRST, "SMTP_PORT=2525", "SMTP_PORT=25"))

    result = check_with(tmp_path, edits)

    assert result["facts"]["invite_status"] == 500
    assert "nothing listens on 127.0.0.1:25 (SMTP_PORT)" in result["text"]


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ("SMTP_HOST=127.0.0.1", "SMTP_HOST=smtp.example.com", "the lab never mails beyond"),
        (SHIPPED, "DATABASE_URL=postgresql://x", "DATABASE_URL is the lab's to set"),
        (SHIPPED, "SECRET_KEY changeme", "is not KEY=VALUE"),
    ],
)
def test_settings_the_lab_will_not_run_fail_the_check_before_anything_starts(
    tmp_path: Path, old: str, new: str, says: str
) -> None:
    result = check_with(tmp_path, [(FIRST, old, new)])

    assert result["facts"]["passed"] is False
    assert "invite_status" not in result["facts"]
    assert says in result["text"]
