"""The shipped WSGI adventure passes the checker, and ``cyoa check`` says what it contains."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from story_helpers import write_story

from cyoa.cli import main
from cyoa.story.checker import check_story, summarize
from cyoa.story.demos import demo_summaries, known_demos, notebook_demos
from cyoa.story.loader import default_story_path, load_story
from cyoa.story.paths import count_paths, enumerate_paths

ROOM_PICKS = ["Dachshund Doc Send", "Automated deployments", "A task queue for the slow work",
              "Hackers - lock down the server", "Somebody deleted the data",
              "Reject it and bootstrap"]  # fmt: skip


@pytest.fixture(scope="module")
def shipped():
    return load_story(default_story_path())


def test_shipped_story_has_no_errors_and_no_warnings(shipped) -> None:
    assert check_story(shipped) == []


def test_shipped_story_has_six_binary_decisions_and_64_paths(shipped) -> None:
    summary = summarize(shipped)
    paths = enumerate_paths(shipped)
    assert (summary.decisions, summary.endings) == (6, 2)
    assert all(len(scene.choice.options) == 2 for scene in shipped.decisions)
    assert len(paths) == count_paths(shipped) == summary.paths == 2**6


def test_the_rooms_path_is_one_of_the_paths(shipped) -> None:
    labels = [path.labels(shipped) for path in enumerate_paths(shipped)]
    assert ROOM_PICKS in labels
    room = enumerate_paths(shipped)[labels.index(ROOM_PICKS)]
    assert room.ending == "ending-bootstrapped"
    defaults = [scene.choice.default for scene in shipped.decisions]
    assert [key for _, key in room.picks] == defaults  # nobody votes: the room's picks


def test_every_branch_has_the_same_depth(shipped) -> None:
    """Branches the room did not take are as long as the ones it did."""
    lengths = {len(path.scenes) for path in enumerate_paths(shipped)}
    assert len(lengths) == 1


def test_every_deployment_step_names_a_declared_demo(shipped) -> None:
    demos = known_demos(shipped.root)
    used = {scene.demo for scene in shipped.scenes if scene.demo}
    assert used == demos, "every declared demo is used, and only those"
    for name in ("gunicorn", "nginx-502", "static-files", "postgres", "async-rq", "security"):
        assert name in used


def test_every_scene_has_speaker_notes(shipped) -> None:
    assert [scene.id for scene in shipped.scenes if not scene.notes] == []


def test_the_commands_on_the_slides_are_current(shipped) -> None:
    text = "\n".join(scene.body + "\n" + scene.notes for scene in shipped.scenes)
    for expected in (
        "gunicorn -w 4 -b 127.0.0.1:8000 app:app",
        "proxy_pass http://127.0.0.1:8000;",
        "location /static/ {",
        "alias /srv/app/static/;",
        "rq worker --with-scheduler",
        "PermitRootLogin no",
        "PasswordAuthentication no",
        "ssh-keygen -t ed25519",
        "/etc/fail2ban/jail.local",
        "20auto-upgrades",
        "pg_basebackup",
        "archive_command",
        "Celery",
    ):
        assert expected in text, expected
    assert "runserver" in text and "DELETE FROM users" in text


def check_output(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def test_cyoa_check_prints_the_counts_and_every_path(shipped) -> None:
    code, out, err = check_output()
    assert code == 0, err
    assert "56 scenes, 6 decisions, 2 endings, 64 paths from 'welcome' to an ending" in out
    listed = re.findall(r"^\s*\d+\. (.+) → (\S+) \(\d+ scenes\)$", out, re.M)
    assert len(listed) == count_paths(shipped)
    assert (" › ".join(ROOM_PICKS), "ending-bootstrapped") in listed
    assert out.rstrip().endswith("OK: no errors, 0 warnings.")


def test_cyoa_check_refuses_a_broken_story_with_file_and_scene(tmp_path: Path) -> None:
    root = write_story(
        tmp_path, replace={"03-left.md": "---\nid: left\ntitle: Left\nnext: nowhere\n---\n"}
    )
    code, out, err = check_output(str(root))
    assert code == 1
    assert "03-left.md:4: error: scene 'left': broken link: next 'nowhere' is not a scene" in err
    assert "Error: 1 error; fix them first" in err
    assert "paths" not in out


def test_cyoa_check_quiet_prints_counts_only(tmp_path: Path) -> None:
    code, out, _ = check_output(str(write_story(tmp_path)), "--quiet")
    assert code == 0
    assert "4 scenes, 1 decision, 2 endings, 2 paths from 'start' to an ending" in out
    assert "→" not in out


def test_every_declared_demo_is_a_cell_of_the_learner_notebooks(shipped) -> None:
    """One source per demo: the deck and the learner run the same tagged notebook cells."""
    declared = set(demo_summaries(shipped.root))
    tagged = set(notebook_demos(shipped.notebooks_path))
    assert declared == tagged
    assert known_demos(shipped.root, shipped.notebooks_path) == declared


def test_the_mechanisms_are_the_corrected_ones(shipped) -> None:
    """What a deployment engineer checks first: each mechanism as it really works."""

    def text(scene_id: str) -> str:
        scene = shipped.scene(scene_id)
        return scene.body + "\n" + scene.notes

    # gunicorn 27 answers 500 itself when its timeout aborts a worker (tests/test_learn_notebooks
    # makes it happen); 502 only when the worker is killed outright.
    assert "**500 Internal Server Error**" in text("timeouts") and "502" in text("timeouts")
    assert "`proxy_read_timeout`" in text("timeouts") and "504" in text("timeouts")
    assert text("cache-layers").count("key_prefix=per_customer") == 2  # one per product
    assert "`--timeout` no longer limits a request" in shipped.scene("cache-workers").body
    assert "passive" in text("scaling-static") and "--preload" in text("scaling-static")
    assert "ProxyFix" in text("nginx")
    assert ".venv/bin/pip install gunicorn" in shipped.scene("gunicorn").body
    assert "User=app" in text("gunicorn")
    assert '/srv/app/.venv/bin/pip install "psycopg[binary]"' in shipped.scene("postgres").body
    deploy = text("automation-tools")
    assert deploy.index("useradd --create-home --shell /bin/bash deployer") < deploy.index(
        "NOPASSWD: /usr/bin/systemctl reload app"
    )
    assert "sudo -n systemctl reload app" in deploy and "never `--daemon`" in deploy
    # the script rewrites the nginx site and reloads nginx: the rules allow that too, no more
    assert "NOPASSWD: /usr/sbin/nginx -t, /usr/bin/systemctl reload nginx" in deploy
    assert "chown deployer: /etc/nginx/sites-available/app" in deploy
    assert "ExecReload=/bin/kill -HUP $MAINPID" in text("gunicorn")  # what `reload` sends
    assert "pg_read_all_data" in text("data") and "ALTER DEFAULT PRIVILEGES" in text("data")
    backups = shipped.scene("data-backups").body
    assert backups.index("createdb app_restored") < backups.index("pg_restore")
    assert "`pg_basebackup`" in shipped.scene("data-wal").body
    assert "--with-scheduler" in text("async-rq") and "`rq cron`" in text("async-rq")


def test_current_practice_is_on_the_launch_path(shipped) -> None:
    launch = "\n".join(
        shipped.scene(s).body + shipped.scene(s).notes
        for s in ("server", "git-clone", "nginx", "gunicorn", "postgres", "launch")
    )
    expected = [
        "ufw enable",
        "--require-hashes",
        "uv sync --frozen",
        "server_tokens off",
        "certbot --nginx",
        "--redirect --hsts",
        "http2 on;",
        "SECRET_KEY",
        "managed PostgreSQL",
        "container image",
        "error tracking",
        "uptime check",
    ]
    queue, mail = (
        shipped.scene(s).body + shipped.scene(s).notes for s in ("async-rq", "invites-email")
    )
    assert "Redis or Valkey" in queue
    assert "reject bulk mail that fails SPF, DKIM" in mail  # refused, not only filed as spam
    assert [phrase for phrase in expected if phrase not in launch] == []
