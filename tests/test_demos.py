"""The learner notebooks run top to bottom with a real kernel, and show what they claim.

Each demo cell returns a result whose facts travel in the notebook's outputs (MIME type
``FACTS_MIME``); these tests read them back, then check that nothing the demos started
is still running or listening.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest
from nbclient import NotebookClient

from cyoa.demos import FACTS_MIME, demo_names, run_demo
from cyoa.demos.notebooks import CHAPTERS, NOTEBOOKS, build, demo_cells, learner_notebooks
from cyoa.demos.processes import OWNER_VAR, SCOPE_VAR

pytestmark = pytest.mark.slow


def execute(path: Path, env: dict[str, str]) -> nbformat.NotebookNode:
    """Run a notebook in a fresh python3 kernel whose environment is ``env``, in a folder of
    its own: the hands-on cells write files (``%%writefile``), never into the repository."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="cyoa-learner-") as folder:
        client = NotebookClient(
            nb, kernel_name="python3", timeout=180, resources={"metadata": {"path": folder}}
        )
        client.execute(env=env)
    return nb


def results(nb: nbformat.NotebookNode) -> dict[str, dict]:
    """Each demo's result (facts, missing tools, services...) from the outputs."""
    found = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if FACTS_MIME in data:
                found[data[FACTS_MIME]["name"]] = data[FACTS_MIME]
    return found


def text_of(nb: nbformat.NotebookNode, name: str) -> str:
    """Everything the cells tagged ``demo:<name>`` printed."""
    text = []
    for cell in nb.cells:
        if f"demo:{name}" in cell.get("metadata", {}).get("tags", []):
            text += [o.get("text", "") for o in cell.get("outputs", []) if o.get("text")]
    return "".join(text)


def leftovers(token: str) -> list[str]:
    """Processes still running that a demo started (they carry the owner mark)."""
    left = []
    for proc in psutil.process_iter(["pid", "name"]):
        try:
            if proc.environ().get(OWNER_VAR) == token:
                left.append(f"{proc.info['pid']} {proc.info['name']}")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return left


def listening_ours(token: str) -> set[int]:
    """Ports listened on by a process with the owner mark (or one we cannot inspect).

    A port a demo used may be taken since by anything else on the machine (a kernel's ZMQ
    port, another job): only a listener of ours counts as left behind.
    """
    ports = set()
    for conn in psutil.net_connections("tcp"):
        if conn.status != psutil.CONN_LISTEN:
            continue
        try:
            ours = conn.pid is None or psutil.Process(conn.pid).environ().get(OWNER_VAR) == token
        except psutil.Error:
            continue
        if ours:
            ports.add(conn.laddr.port)
    return ports


def assert_nothing_left(token: str, ran: dict[str, dict]) -> None:
    assert leftovers(token) == []
    ports = listening_ours(token)
    for result in ran.values():
        for service in result["services"]:
            assert not psutil.pid_exists(service["pid"]), service
            assert service["port"] not in ports, service


@pytest.fixture(scope="module")
def ran() -> dict[str, dict]:
    """Every learner notebook, executed; then nothing they started may be left."""
    token = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, OWNER_VAR: token}
    found: dict[str, dict] = {}
    for path in learner_notebooks():
        found.update(results(execute(path, env)))
    assert_nothing_left(token, found)
    return found


def test_every_demo_ran_and_succeeded(ran: dict[str, dict]) -> None:
    assert sorted(ran) == demo_names()
    failed = {name: r["error"] or r["missing"] for name, r in ran.items() if not r["ok"]}
    assert failed == {}


def test_the_app_runs_on_a_laptop(ran: dict[str, dict]) -> None:
    facts = ran["app"]["facts"]
    assert facts["status"] == 200
    assert facts["title"] == "Dachshund Doc Send"


def test_git_clone_puts_the_code_on_the_server(ran: dict[str, dict]) -> None:
    assert ran["git-clone"]["facts"]["cloned"] is True


def test_nginx_without_an_app_server_answers_502(ran: dict[str, dict]) -> None:
    facts = ran["nginx-502"]["facts"]
    assert facts["config_ok"] is True
    assert facts["status"] == 502
    assert facts["server"] == "nginx"  # server_tokens off: no version for a scanner to match
    assert facts["nosniff"] is True  # the security headers, on nginx's own error page too
    assert facts["refused"] is True


def test_gunicorn_turns_the_502_into_a_200(ran: dict[str, dict]) -> None:
    facts = ran["gunicorn"]["facts"]
    assert (facts["status_before"], facts["status_after"]) == (502, 200)
    assert facts["answered_by"] == "Dachshund Doc Send"
    assert facts["dev_rps"] > 0
    assert facts["gunicorn_rps"] > 0


def test_nginx_serves_static_files_itself(ran: dict[str, dict]) -> None:
    facts = ran["static-files"]["facts"]
    assert facts["css_before"] == 404
    assert facts["css_after"] == 200
    assert facts["css_same_file"] is True
    assert facts["css_served_by_app"] is False
    assert facts["page_served_by_app"] is True


def test_notebooks_are_generated_from_the_chapters(tmp_path: Path) -> None:
    """The committed notebooks match their source, carry no outputs, and tag every demo."""
    committed = learner_notebooks()
    assert [p.name for p in committed] == [f"learn-{c['slug']}.ipynb" for c in CHAPTERS]
    for chapter, path in zip(CHAPTERS, committed, strict=True):
        on_disk = nbformat.read(path, as_version=4)
        assert [c.source for c in on_disk.cells] == [c.source for c in build(chapter).cells]
        assert all(not c.get("outputs") for c in on_disk.cells if c.cell_type == "code")
    assert sorted(demo_cells(NOTEBOOKS)) == demo_names()


def test_a_missing_tool_is_named_and_the_notebook_still_completes(tmp_path: Path) -> None:
    """nginx taken off PATH: the notebook runs to the end and says what it would have run."""
    shim = tmp_path / "bin"
    shim.mkdir()
    for folder in ("/usr/sbin", "/sbin"):
        for tool in Path(folder).iterdir() if Path(folder).is_dir() else []:
            if tool.name != "nginx" and not (shim / tool.name).exists():
                (shim / tool.name).symlink_to(tool)
    path = [d for d in os.environ["PATH"].split(os.pathsep) if d not in ("/usr/sbin", "/sbin")]
    token = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "PATH": os.pathsep.join([*path, str(shim)]),
        "CYOA_DEMOS_EXTRA_PATH": "/usr/lib/postgresql/*/bin",
        OWNER_VAR: token,
    }
    nb = execute(NOTEBOOKS / "learn-1-launch.ipynb", env)
    found = results(nb)
    assert found["nginx-502"]["missing"] == ["nginx"]
    assert found["gunicorn"]["missing"] == ["nginx"]
    output = text_of(nb, "nginx-502")
    assert "tool missing: nginx" in output
    assert "apt-get install nginx" in output
    assert "it would have run:" in output
    assert "nginx -p $SCRATCH/nginx" in output
    assert found["git-clone"]["ok"] is True
    assert_nothing_left(token, found)


def test_the_app_writes_to_postgresql_as_a_role_of_its_own(ran: dict[str, dict]) -> None:
    facts = ran["postgres"]["facts"]
    assert facts["rows"] == 3
    assert facts["engine"].startswith("PostgreSQL")
    assert facts["app_role_superuser"] == "f"
    assert facts["password_stored_as"] == "SCRAM-SHA-256"
    assert facts["wrong_password_refused"] is True
    assert facts["table_owner"] == "app"


def test_the_deploy_script_is_idempotent_and_ci_tests_first(ran: dict[str, dict]) -> None:
    facts = ran["automation"]["facts"]
    assert facts["first_changed"] >= 3
    assert facts["second_changed"] == []
    assert facts["third_changed"] == ["code at origin/main", "app server reloaded"]
    assert facts["new_version_live"] is True
    assert facts["ci_deploy_needs_test"] is True


def test_the_ansible_playbook_changes_things_once_then_nothing(ran: dict[str, dict]) -> None:
    facts = ran["automation"]["facts"]
    assert facts["ansible_ran"] is True
    assert facts["ansible_first_changed"] >= 4  # code, static files, site config, gunicorn...
    assert facts["ansible_second_changed"] == 0
    assert facts["ansible_failed"] == 0
    assert facts["ansible_status"] == 200


def test_without_ansible_the_automation_demo_says_so_and_still_deploys(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """ansible-playbook off PATH (and out of the venv's bin): named, install hint, command."""
    venv_bin = os.path.dirname(sys.executable)
    path = [
        d
        for d in os.environ["PATH"].split(os.pathsep)
        if d and d != venv_bin and not (Path(d) / "ansible-playbook").exists()
    ]
    token = f"test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PATH", os.pathsep.join(path))
    monkeypatch.setenv("CYOA_DEMOS_EXTRA_PATH", "/usr/sbin:/sbin")
    monkeypatch.setenv(OWNER_VAR, token)
    result = run_demo("automation")
    output = capsys.readouterr().out
    assert result.ok, result.error
    assert result.facts["ansible_ran"] is False
    assert result.facts["new_version_live"] is True
    assert "tool missing: ansible-playbook; install with `pip install ansible-core`" in output
    assert "$ ansible-playbook -i localhost, -c local deploy.yml -e repo=$SCRATCH/" in output
    assert_nothing_left(token, {"automation": result.as_json()})


def test_invitations_carry_a_signed_link_that_works_once_and_expires(
    ran: dict[str, dict],
) -> None:
    facts = ran["email-invitations"]["facts"]
    assert facts["sent_in_request"] == 3  # no queue yet: that is the async branch's fix
    assert facts["received"] == ["ada@example.com", "grace@example.com", "linus@example.com"]
    # first click, second click, a forged signature, a link older than a week
    assert facts["link_statuses"] == [201, 409, 400, 410]


def test_the_worker_does_the_slow_job_and_the_scheduled_one(ran: dict[str, dict]) -> None:
    facts = ran["async-rq"]["facts"]
    assert facts["inline_answer_waited_for_the_crawl"] is True  # inline: after the work
    assert facts["answered_before_the_job_ended"] is True  # enqueued: the answer came first
    assert facts["job_status"] == "finished"
    assert facts["done_by_worker"] is True
    assert facts["scheduled_status"] == "scheduled"  # held by RQ's scheduler, not queued
    assert facts["scheduled_waited_until_due"] is True  # and started when due


def test_a_cache_or_more_workers_end_the_timeouts(ran: dict[str, dict]) -> None:
    facts = ran["timeouts-cache"]["facts"]
    assert 504 in facts["before"]
    assert set(facts["with_cache"]) == {200}
    assert set(facts["more_workers"]) == {200}


def test_security_files_pass_the_real_checkers(ran: dict[str, dict]) -> None:
    facts = ran["security"]["facts"]
    assert facts["user_created"] and facts["in_sudo_group"]
    assert facts["sudoers_ok"] and facts["typo_rejected"]
    assert facts["key_type"] == "ED25519"
    assert facts["sshd_config_ok"] is True
    assert (facts["permitrootlogin"], facts["passwordauthentication"]) == ("no", "no")
    # a real sshd: root refused (even with an authorized key), the right password refused
    # (never even asked for), Ada's key let in
    assert facts["root_login"] == "refused"
    assert facts["password_login"] == "refused"
    assert facts["key_login"] == "ada"
    assert facts["jail_ok"] is True
    assert facts["failed_logins_matched"] == 6
    assert facts["auto_upgrades"] is True


def test_the_replica_refuses_writes_and_the_backup_restores_users(ran: dict[str, dict]) -> None:
    facts = ran["data-replication"]["facts"]
    assert facts["replica_users"] == 120
    assert facts["replica_read_only"] is True
    assert facts["replica_refused_write"] is True
    assert facts["deleted"] == 120
    assert facts["replica_after_delete"] == 0
    assert facts["restored"] == facts["replica_restored"] == 120


def test_a_second_app_server_shares_the_load(ran: dict[str, dict]) -> None:
    facts = ran["scaling"]["facts"]
    assert facts["processes_answering"] == 2
    assert facts["rps_one"] > 0
    assert facts["rps_two"] > 0


def test_traction_is_weekly_active_customers_from_postgresql(ran: dict[str, dict]) -> None:
    facts = ran["traction"]["facts"]
    assert facts["database"] == "PostgreSQL"  # the server's own version(), not SQLite
    assert facts["weeks"] >= 26
    assert facts["users"] > 1000
    assert 0 < facts["active_last_week"] < facts["users"]  # actives, not everyone ever
    assert facts["growth"] > 10


def test_a_daemon_left_by_a_killed_kernel_is_stopped_by_the_next_demo(tmp_path: Path) -> None:
    # A scope of its own: another suite's demos on this machine (a second checkout's tests)
    # reap only their own orphans, so the next kernel below is the one that stops this one.
    env = {k: v for k, v in os.environ.items() if k != OWNER_VAR}
    env[SCOPE_VAR] = f"test-{uuid.uuid4().hex}"
    # A "kernel" starts a detached daemon (as gunicorn --daemon under Ansible) and is killed.
    kernel = subprocess.run(
        [sys.executable, "-c", DAEMONIZING_KERNEL],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert kernel.returncode == -9, kernel.stderr
    daemon = psutil.Process(int(kernel.stdout))
    assert daemon.environ()[OWNER_VAR].endswith(f"@{env[SCOPE_VAR]}")

    # A kernel of another scope (another lab, another suite) leaves it alone...
    elsewhere = subprocess.run(
        [sys.executable, "-c", FIRST_DEMO.format(log=str(tmp_path / "elsewhere.log"))],
        env={**env, SCOPE_VAR: f"other-{uuid.uuid4().hex}"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "killed kernel left" not in elsewhere.stdout
    assert daemon.is_running() and daemon.status() != psutil.STATUS_ZOMBIE

    # ...and the next kernel of its own finds it by its dead owner's mark and stops it.
    next_kernel = subprocess.run(
        [sys.executable, "-c", FIRST_DEMO.format(log=str(tmp_path / "sleep.log"))],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert "process(es) an earlier, killed kernel left" in next_kernel.stdout
    assert not daemon.is_running() or daemon.status() == psutil.STATUS_ZOMBIE


DAEMONIZING_KERNEL = """
import os, subprocess
from cyoa.demos.processes import OWNER_VAR, owner
daemon = subprocess.Popen(["sleep", "120"], start_new_session=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          env={**os.environ, OWNER_VAR: owner()})
print(daemon.pid, flush=True)
os.kill(os.getpid(), 9)
"""
FIRST_DEMO = """
from pathlib import Path
from cyoa.demos import processes
with processes.running("sleep", ["sleep", "30"], log=Path({log!r})):
    pass
"""


def test_the_pets_product_runs_its_own_app(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The room chose Tinder for Pets: the app, its repository and its table are the pets'."""
    token = f"test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(OWNER_VAR, token)
    result = run_demo("app", product="pets")
    output = capsys.readouterr().out
    assert result.ok, result.error
    assert result.facts["title"] == "Tinder for Pets"
    assert "Dachshund" not in output
    assert_nothing_left(token, {"app": result.as_json()})


def test_an_unknown_product_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown product 'cats'"):
        run_demo("git-clone", product="cats")


def test_the_password_try_is_real_with_passwords_on_it_gets_in(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The control for the security demo: the same try, against an sshd that allows
    passwords, logs Ada in, so its refusal above is sshd's doing, not the client's."""
    import cyoa.demos.security as security

    allowing = security.SSHD_CONFIG.replace(
        "PasswordAuthentication no", "PasswordAuthentication yes"
    )
    monkeypatch.setattr(security, "SSHD_CONFIG", allowing)
    token = f"test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(OWNER_VAR, token)
    result = run_demo("security")
    assert result.ok, result.error
    assert result.facts["passwordauthentication"] == "yes"
    assert result.facts["password_login"] == "ada"
    assert result.facts["root_login"] == "refused"
    assert_nothing_left(token, {"security": result.as_json()})
