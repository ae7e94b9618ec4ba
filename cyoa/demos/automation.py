"""Automation: an idempotent deploy script, an Ansible playbook, and CI that tests then deploys.

Demo ``automation``: the deploy script (``deploy.py``, kept in the app's repository) does
what we did by hand over SSH. Its first run changes everything; a second run changes
nothing; after a new commit, it updates only the code and reloads the app server, and the
site shows the change. Then the same deploy as an Ansible playbook (``deploy.yml``) run with
``ansible-playbook`` against localhost, on a second fresh server: its first run changes
things, its second reports ``changed=0``, and the site answers through nginx (a few seconds
more; without ansible-playbook the demo says how to install it and goes on). gunicorn is
never ``--daemon``: the demo supervises it in the foreground, as the systemd unit it shows
would, and the deploys only reload it. Then the CI workflow file (its deploy step a real
``ssh deployer@... deploy.py``), and its test step run here for real.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

import requests
import yaml

from cyoa.demos import processes, tools
from cyoa.demos.app import APP_DIR, app_env, git, make_repo, source_dir
from cyoa.demos.nginx import MAIN_CONF, Nginx
from cyoa.demos.runner import Run, demo
from cyoa.demos.wsgi import _quiet_flags, gunicorn_cmd

#: How a server runs the app: systemd keeps gunicorn in the foreground, as its own user.
APP_UNIT = """\
[Unit]
Description=the app (gunicorn)
After=network.target

[Service]
User=app
WorkingDirectory={dest}
EnvironmentFile=/etc/app/env
ExecStart={command}
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure

[Install]
WantedBy=multi-user.target
"""

#: What a fresh server's nginx serves before any site is deployed.
DEFAULT_SITE = """\
server {{
    listen 127.0.0.1:{port} default_server;
    location / {{ return 404 "Welcome to nginx: no site here yet\\n"; }}
}}
"""


def changed_steps(output: str) -> list[str]:
    return [
        line.split("changed", 1)[1].strip() for line in output.splitlines() if "changed" in line
    ]


def play_recap(output: str) -> dict[str, int]:
    """The counts of the PLAY RECAP line (``ok=7 changed=5 ... failed=0``), summed over hosts."""
    recap = output.split("PLAY RECAP", 1)[-1]
    counts: dict[str, int] = {}
    for key, value in re.findall(r"(\w+)=(\d+)", recap):
        counts[key] = counts.get(key, 0) + int(value)
    return counts


@demo("automation", "Automation: a deploy script and an Ansible playbook you can run twice, and CI")
def automation_demo(run: Run) -> None:
    """Deploy, deploy again (nothing changes), push a change, deploy (only that changes)."""
    repo = make_repo(run, show=False)
    nginx = Nginx(run)
    binary = run.need("nginx", [" ".join(nginx.command())])
    nginx_cmd = " ".join([binary, *nginx.command()[1:]])
    (nginx.root / "tmp").mkdir(parents=True)
    nginx.conf.write_text(MAIN_CONF.format(root=nginx.root))
    pids = nginx.root  # nginx.pid is there; gunicorn.pid joins it
    dest = run.scratch / "srv" / APP_DIR
    app_port = processes.free_port()
    deploy = [sys.executable, "deploy.py", "--repo", str(repo), "--dest", str(dest)]
    deploy += ["--www", str(run.scratch / "var" / "www" / "static"), "--site", str(nginx.site)]
    deploy += ["--listen", str(nginx.port), "--app-port", str(app_port), "--nginx", nginx_cmd]
    deploy += ["--pids", str(pids)]
    env = {**os.environ, **app_env(run)}
    # The script ships in the repository; its first run must come from a copy of it.
    bootstrap = run.scratch / "deploy.py"
    bootstrap.write_text((repo / "deploy.py").read_text())
    run.step("First deploy on a fresh server: everything changes")
    first = run.sh([sys.executable, bootstrap, *deploy[2:]], env=env, cwd=run.scratch).stdout
    run.fact("first_changed", len(changed_steps(first)), "steps changed")
    run.step("The init system starts the services (once), and keeps them running")
    argv = gunicorn_cmd(app_port, 2, "--pid", str(pids / "gunicorn.pid"))
    unit = APP_UNIT.format(command=run.short(" ".join(argv)), dest=run.short(str(dest)))
    run.write(run.scratch / "etc" / "systemd" / "system" / "app.service", unit)
    run.say("(no systemd in this sandbox: the demo runs that ExecStart in the foreground")
    run.say(" and stops it at the end, as systemd would; never gunicorn --daemon)")
    env_app = app_env(run)
    ready = processes.http_ready(f"http://127.0.0.1:{app_port}/healthz")
    run.start("gunicorn", argv, port=app_port, cwd=dest, env=env_app, ready=ready)
    nginx.start()
    run.say(f"GET / → {requests.get(nginx.url('/'), timeout=5).status_code}")
    run.step("Deploy again: nothing to do, nothing touched")
    second = run.sh(deploy, env=env, cwd=dest).stdout
    run.fact("second_changed", changed_steps(second), "steps changed")
    run.step("A developer pushes a change")
    company = repo / "company.py"
    company.write_text(
        company.read_text().replace("</h1></header>", " (now with tracking!)</h1></header>")
    )
    git(run, "commit", "-q", "-am", "New tagline", cwd=repo)
    run.step("Deploy: only the code changes, and gunicorn reloads its workers")
    third = run.sh(deploy, env=env, cwd=dest).stdout
    run.fact("third_changed", changed_steps(third), "steps changed")
    processes.wait_until(
        lambda: "now with tracking" in requests.get(nginx.url("/"), timeout=5).text
    )
    run.fact("new_version_live", True, "the site shows the new tagline")
    ansible_deploy(run, repo)
    ci(run, dest)


def ansible_deploy(run: Run, repo: Path) -> None:
    """The same deploy as an Ansible playbook, on a second fresh server; run it twice."""
    run.step("The same deploy as an Ansible playbook, on a second fresh server")
    server = run.scratch / "server2"
    nginx = Nginx(run, root=server / "nginx")
    ops = run.scratch / "ops"  # where the playbook is run from: the ops checkout
    for name in ("deploy.yml", "nginx-site.conf.j2"):
        run.write(ops / name, (source_dir() / name).read_text(), show=name == "deploy.yml")
    http_port, app_port = processes.free_port(), processes.free_port()
    extra = {
        "repo": repo,
        "dest": server / "srv" / APP_DIR,
        "static_dir": server / "var" / "www" / "static",
        "nginx_site": nginx.site,
        "http_port": http_port,
        "app_port": app_port,
        "pid_dir": nginx.root,
        "ansible_python_interpreter": sys.executable,
    }
    argv = ["ansible-playbook", "-i", "localhost,", "-c", "local", "deploy.yml"]
    for key, value in extra.items():
        argv += ["-e", f"{key}={value}"]
    binary = tools.find("ansible-playbook")
    if binary is None:
        missing = tools.ToolMissing(
            "ansible-playbook", tools.install_hint("ansible-playbook"), [run.short(" ".join(argv))]
        )
        print(f"\n⚠ {missing}", flush=True)
        run.fact("ansible_ran", False, "the playbook (the deploy script above did the job)")
        return
    run.say("The server runs nginx with its default site only (the init system started it):")
    (nginx.root / "tmp").mkdir(parents=True)
    nginx.conf.write_text(MAIN_CONF.format(root=nginx.root))
    run.write(nginx.site.with_name("default.conf"), DEFAULT_SITE.format(port=nginx.port))
    nginx.start()
    env = ansible_env(run, ops)
    argv[0] = binary
    run.step("ansible-playbook, first run: it changes things")
    first = run.sh(argv, env=env, cwd=ops, timeout=120).stdout
    run.fact("ansible_first_changed", play_recap(first).get("changed"), "PLAY RECAP: changed")
    run.step("The init system starts the app server (the playbook only reloads it)")
    gunicorn = gunicorn_cmd(app_port, 2, "--pid", str(nginx.root / "gunicorn.pid"))
    ready = processes.http_ready(f"http://127.0.0.1:{app_port}/healthz")
    run.start(
        "gunicorn-2", gunicorn, port=app_port, cwd=extra["dest"], env=app_env(run), ready=ready
    )
    site = f"http://127.0.0.1:{http_port}/"
    processes.wait_until(lambda: _status(site) == 200)
    run.fact("ansible_status", _status(site), f"GET {site} through nginx")
    run.step("ansible-playbook, second run: nothing to do, nothing touched")
    second = run.sh(argv, env=env, cwd=ops, timeout=120).stdout
    recap = play_recap(second)
    run.fact("ansible_second_changed", recap.get("changed"), "PLAY RECAP: changed")
    run.fact("ansible_failed", recap.get("failed", 0) + recap.get("unreachable", 0))
    run.fact("ansible_ran", True, "the playbook deployed the site")


def ansible_env(run: Run, ops: Path) -> dict[str, str]:
    """ansible-playbook's environment: its home, temp files and config in ``ops``, the
    machine's own ansible.cfg ignored, and the app's settings (the playbook runs flask)."""
    home = ops / "home"  # Ansible writes nothing outside the scratch directory
    env = {
        **os.environ,
        **app_env(run),
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(home),
        "LC_ALL": "C.UTF-8",
        "ANSIBLE_HOME": str(home / ".ansible"),
        "ANSIBLE_LOCAL_TEMP": str(home / ".ansible" / "tmp"),
        "ANSIBLE_REMOTE_TEMP": str(home / ".ansible" / "remote-tmp"),
        "ANSIBLE_CONFIG": str(ops / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        processes.OWNER_VAR: processes.owner(),
    }
    if flags := _quiet_flags():
        env["GUNICORN_CMD_ARGS"] = " ".join(flags)
    (ops / "ansible.cfg").write_text("[defaults]\n# (empty: the machine's own config is ignored)\n")
    home.mkdir(exist_ok=True)
    return env


def changed_tasks(output: str) -> list[str]:
    """The tasks and handlers an ansible-playbook run reported ``changed``, by name."""
    found, current = [], ""
    for line in output.splitlines():
        if match := re.match(r"(?:TASK|RUNNING HANDLER) \[(.*)\]", line):
            current = match.group(1)
        elif line.startswith("changed:") and current not in found:
            found.append(current)
    return found


def _status(url: str) -> int | None:
    try:
        return requests.get(url, timeout=5).status_code
    except requests.RequestException:
        return None


def stop_pidfile(run: Run, pidfile: Path, name: str) -> None:
    """Stop a daemon we did not start ourselves (and its workers), found by its pid file."""
    import psutil

    try:
        main = psutil.Process(int(pidfile.read_text().strip()))
        procs = [main, *main.children(recursive=True)]
    except (OSError, ValueError, psutil.Error):
        return
    processes.terminate(procs, timeout=5)
    print(f"  ⏹ stopped {name} (pid {main.pid})", flush=True)


def ci(run: Run, dest: os.PathLike) -> None:
    """Show the CI workflow, check its shape, and run its test step here."""
    run.step("CI: a workflow that runs the tests, then the deploy script")
    workflow_path = os.path.join(dest, ".github", "workflows", "deploy.yml")
    with open(workflow_path) as file:
        text = file.read()
    run.show(text, indent="    │ ")
    workflow = yaml.safe_load(text)
    run.fact("ci_deploy_needs_test", workflow["jobs"]["deploy"]["needs"] == "test")
    if importlib.util.find_spec("pytest") is None:
        run.say("(pytest is not installed here: `pip install pytest` to run the test step)")
        return
    tests = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_app.py"]
    done = run.sh(tests, cwd=dest, check=False, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    run.fact("ci_tests_pass", done.returncode == 0, "the CI test step, run here")
