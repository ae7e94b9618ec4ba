"""Chapters 2 and 4 hands-on: the deploy files, the sshd drop-in and the weekly query run as
shipped in a real kernel (chapter 2's invitations also in ``test_learn_invitations.py``),
and each exercise's break shows its symptom for real (a real
ansible-playbook and gunicorn, a real sshd on a loopback port, a real PostgreSQL).

The helpers are chapter 1's (:mod:`tests.test_learn_notebooks`): the notebooks copied out
with ``cyoa notebooks DIR``, a fresh kernel in that folder, the lab runs' facts read from
the outputs, and nothing left running afterwards.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_learn_notebooks import (
    HYPERGROWTH,
    SECURITY_OR_TRACTION,
    copy_out,
    run_broken,
    run_chapter,
)

from cyoa.demos.exercises import WEEKLY_ACTIVE_SQL

pytestmark = pytest.mark.slow

SCRIPT, PLAYBOOK = "deploy.py", "deploy.yml"
DEPLOY_CHECK = "lab-check:automation"  # the chapter's other branch: lab-check:invitations
RELOAD_TASK = (
    "    - name: Reload the app server (new code)\n"
    "      ansible.builtin.shell:\n"
    '        cmd: kill -HUP "$(cat {{ gunicorn_pid }})"\n'
    '        removes: "{{ gunicorn_pid }}"\n'
    "      when: code.changed\n"
)
SCRIPT_RELOAD = (
    "    if code:\n"
    '        report("app server reloaded", signal_pidfile(pids / "gunicorn.pid", signal.SIGHUP))\n'
)
OLD_CODE = "the site still shows the old version"


# -- chapter 2: automation -----------------------------------------------------------------
def test_the_automation_branch_deploys_with_the_learners_own_script_and_playbook(
    tmp_path: Path,
) -> None:
    runs = run_chapter(copy_out(tmp_path / "course"), HYPERGROWTH)

    ran = {
        "lab-run:deploy-script": [SCRIPT],
        "lab-run:deploy-playbook": [PLAYBOOK],
        "lab-check:automation": [SCRIPT, PLAYBOOK],
    }
    for tag, files in ran.items():
        deploys = runs[tag]["facts"]["deploys"]
        assert sorted(deploys) == sorted(files)
        for facts in deploys.values():
            assert facts["status"] == 200
            assert facts["second_changed"] == []  # run twice, nothing touched
            assert facts["new_version_live"] is True
    playbook = runs["lab-check:automation"]["facts"]["deploys"][PLAYBOOK]
    assert "Reload nginx" in playbook["first_changed"]  # the handler ran
    assert playbook["third_changed"] == ["Code at origin/main", "Reload the app server (new code)"]
    assert runs["lab-check:automation"]["facts"]["passed"] is True
    assert "Check: PASS" in runs["lab-check:automation"]["text"]
    # The invitations branch, as shipped: both servers sign with changeme, and a forger gets in.
    for tag in ("lab-run:invitations", "lab-check:invitations"):
        facts = runs[tag]["facts"]
        assert (facts["invite_status"], facts["link_statuses"]) == (201, [201, 409])
        assert facts["forged"] is True
    assert runs["lab-check:invitations"]["facts"]["passed"] is False
    assert (
        "SECRET_KEY=changeme is among the first keys anyone tries"
        in (runs["lab-check:invitations"]["text"])
    )


def test_without_the_reload_task_the_old_code_keeps_answering(tmp_path: Path) -> None:
    edits = [(PLAYBOOK, RELOAD_TASK, "")]

    result = run_broken(copy_out(tmp_path / "course"), HYPERGROWTH, edits, DEPLOY_CHECK)

    facts = result["facts"]
    playbook = facts["deploys"][PLAYBOOK]
    assert playbook["status"] == 200
    assert playbook["third_changed"] == ["Code at origin/main"]  # the push was deployed...
    assert playbook["new_version_live"] is False  # ...and the old code still answers
    assert playbook["app_reloads"] == 0
    assert facts["deploys"][SCRIPT]["new_version_live"] is True
    assert facts["passed"] is False
    assert f"deploy.yml: after the push the code on disk changed, but {OLD_CODE}" in result["text"]


def test_a_reload_on_every_run_makes_a_second_deploy_change_something(tmp_path: Path) -> None:
    edits = [(PLAYBOOK, "      when: code.changed\n", "")]

    result = run_broken(copy_out(tmp_path / "course"), HYPERGROWTH, edits, DEPLOY_CHECK)

    playbook = result["facts"]["deploys"][PLAYBOOK]
    assert playbook["second_changed"] == ["Reload the app server (new code)"]
    assert playbook["new_version_live"] is True
    assert result["facts"]["passed"] is False
    assert "a second deploy with nothing new must change nothing" in result["text"]


def test_without_notify_nginx_never_loads_the_site(tmp_path: Path) -> None:
    edits = [(PLAYBOOK, "      notify: Reload nginx\n", "")]

    result = run_broken(copy_out(tmp_path / "course"), HYPERGROWTH, edits, DEPLOY_CHECK)

    playbook = result["facts"]["deploys"][PLAYBOOK]
    assert "Nginx site config" in playbook["first_changed"]  # the file was written...
    assert "Reload nginx" not in playbook["first_changed"]
    assert playbook["status"] is None  # ...and nothing listens where it says
    assert result["facts"]["passed"] is False
    assert "nginx never loaded the new site" in result["text"]
    assert OLD_CODE not in result["text"]  # the app itself did reload


def test_the_script_without_its_reload_leaves_the_old_code_live(tmp_path: Path) -> None:
    edits = [(SCRIPT, SCRIPT_RELOAD, "")]

    result = run_broken(copy_out(tmp_path / "course"), HYPERGROWTH, edits, DEPLOY_CHECK)

    script = result["facts"]["deploys"][SCRIPT]
    assert script["third_changed"] == ["code at origin/main"]
    assert script["new_version_live"] is False
    assert result["facts"]["deploys"][PLAYBOOK]["new_version_live"] is True
    assert f"deploy.py: after the push the code on disk changed, but {OLD_CODE}" in result["text"]


# -- chapter 4: security and traction ------------------------------------------------------
DROPIN = "10-hardening.conf"
SQL = "weekly-active.sql"
SHIPPED_QUERY = WEEKLY_ACTIVE_SQL.strip().split("\n", 1)[1]  # after its comment line
SIGNUPS = (
    "SELECT date_trunc('week', created) AS week, count(*) AS signups\n"
    "FROM users GROUP BY week ORDER BY week;"
)
CUMULATIVE = (
    "SELECT date_trunc('week', created) AS week,\n"
    "       sum(count(*)) OVER (ORDER BY date_trunc('week', created)) AS users\n"
    "FROM users GROUP BY week ORDER BY week;"
)


def test_chapter_4_hardens_sshd_and_queries_weekly_actives_from_the_learners_files(
    tmp_path: Path,
) -> None:
    runs = run_chapter(copy_out(tmp_path / "course"), SECURITY_OR_TRACTION)

    for tag in ("lab-run:ssh", "lab-check:security"):
        facts = runs[tag]["facts"]
        assert facts["sshd_config_ok"] is True
        logins = (facts["root_login"], facts["password_login"], facts["key_login"])
        assert logins == ("refused", "refused", "ada")
    assert runs["lab-check:security"]["facts"]["passed"] is True
    for tag in ("lab-run:traction", "lab-check:traction"):
        facts = runs[tag]["facts"]
        assert facts["weeks"] == 26
        assert facts["is_active_customers"] is True
        assert facts["only_up"] is False  # customers come and go: not a vanity curve
    assert runs["lab-check:traction"]["facts"]["passed"] is True


def test_password_authentication_yes_lets_a_password_in(tmp_path: Path) -> None:
    edits = [(DROPIN, "PasswordAuthentication no", "PasswordAuthentication yes")]

    result = run_broken(
        copy_out(tmp_path / "course"), SECURITY_OR_TRACTION, edits, "lab-check:security"
    )

    facts = result["facts"]
    assert (facts["passwordauthentication"], facts["password_login"]) == ("yes", "ada")
    assert (facts["root_login"], facts["key_login"]) == ("refused", "ada")
    assert facts["passed"] is False
    assert "Accepted password for ada" in result["text"]


def test_saying_nothing_about_passwords_lets_the_cloud_images_dropin_turn_them_on(
    tmp_path: Path,
) -> None:
    edits = [(DROPIN, "PasswordAuthentication no\n", "")]

    result = run_broken(
        copy_out(tmp_path / "course"), SECURITY_OR_TRACTION, edits, "lab-check:security"
    )

    assert result["facts"]["password_login"] == "ada"
    assert "The cloud image's 50-cloud-init.conf says yes" in result["text"]


def test_without_permit_root_login_no_root_gets_in_with_a_key(tmp_path: Path) -> None:
    edits = [(DROPIN, "PermitRootLogin no\n", "")]

    result = run_broken(
        copy_out(tmp_path / "course"), SECURITY_OR_TRACTION, edits, "lab-check:security"
    )

    facts = result["facts"]
    assert (facts["root_login"], facts["password_login"]) == ("root", "refused")
    assert facts["passed"] is False
    assert "root got in with the key" in result["text"]


def test_a_typo_in_the_dropin_is_refused_by_sshd_t(tmp_path: Path) -> None:
    edits = [(DROPIN, "PermitRootLogin no", "PermitRootLogin nope")]

    result = run_broken(
        copy_out(tmp_path / "course"), SECURITY_OR_TRACTION, edits, "lab-check:security"
    )

    assert result["facts"]["sshd_config_ok"] is False
    assert "root_login" not in result["facts"]  # no sshd was started with it
    assert (
        f"sshd -t rejects the config: $SCRATCH/server/etc/ssh/sshd_config.d/{DROPIN} line"
        in (result["text"])
    )


def test_counting_signups_is_not_counting_active_customers(tmp_path: Path) -> None:
    edits = [(SQL, SHIPPED_QUERY, SIGNUPS)]

    result = run_broken(
        copy_out(tmp_path / "course"), SECURITY_OR_TRACTION, edits, "lab-check:traction"
    )

    facts = result["facts"]
    assert facts["is_active_customers"] is False
    assert facts["passed"] is False
    assert "these are signups per week" in result["text"]


def test_cumulative_signups_are_the_vanity_curve_that_only_goes_up(tmp_path: Path) -> None:
    edits = [(SQL, SHIPPED_QUERY, CUMULATIVE)]

    result = run_broken(
        copy_out(tmp_path / "course"), SECURITY_OR_TRACTION, edits, "lab-check:traction"
    )

    facts = result["facts"]
    assert facts["only_up"] is True
    assert facts["yours_last_week"] > facts["active_last_week"]
    assert facts["passed"] is False
    assert "That is the vanity curve" in result["text"]


# -- files the lab cannot run: a failed check that says what to change, nothing started ----
def test_files_the_lab_cannot_run_fail_their_check_with_what_to_change(tmp_path: Path) -> None:
    from cyoa.demos import lab

    (tmp_path / "notes.txt").write_text("ansible-playbook deploy.yml\n")
    cases = [
        (lab.check_deploy(str(tmp_path / "notes.txt")), "a script (.py) or a playbook (.yml)"),
        (lab.check_deploy(str(tmp_path / "missing.yml")), "run the %%writefile cell above first"),
        (lab.check_harden_ssh("Port 22\nPermitRootLogin no\n"), "drop the Port line"),
        (lab.check_harden_ssh("ListenAddress 0.0.0.0\n"), "drop the ListenAddress line"),
        (lab.check_traction("SELECT 1; DROP TABLE users"), "one SELECT only"),
        (lab.check_traction("  ;  "), "the SQL file holds no query"),
    ]
    for result, said in cases:
        assert result.ok, result.error
        assert result.facts["passed"] is False
        assert any(said in reason for reason in result.facts["problems"]), result.facts
        assert result.services == []  # refused before anything started
