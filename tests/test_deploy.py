"""deploy/: the nginx site really proxies to `cyoa serve`, and Twilio signatures hold."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
import requests
from conftest import ROOT, TWILIO_TOKEN, free_port
from twilio.request_validator import RequestValidator
from waiting import wait_until

SITE = ROOT / "deploy" / "cyoa-vote.nginx"
UNIT = ROOT / "deploy" / "cyoa-vote.service"

pytestmark = pytest.mark.slow


def replaced(text: str, old: str, new: str) -> str:
    """``text`` with ``old`` replaced; a site that no longer says ``old`` fails the test."""
    assert old in text, f"deploy/cyoa-vote.nginx no longer has {old!r}: update the test"
    return text.replace(old, new)


def nginx_conf(
    prefix: Path, listen: int, upstreams: Sequence[int], http_extra: str = "access_log off;"
) -> Path:
    """The shipped site inside a minimal nginx.conf, on loopback ports of the test's.

    Only what a test must change is changed: the ports, the cache's folder (the test's own,
    not /var/lib/nginx) and the upstream's servers (one line per ``cyoa serve``).
    """
    servers = "\n    ".join(f"server 127.0.0.1:{port};" for port in upstreams)
    site = SITE.read_text()
    site = replaced(site, "server 127.0.0.1:8000;", servers)
    site = replaced(site, "listen 80;", f"listen 127.0.0.1:{listen};")
    site = replaced(site, "listen [::]:80;", "")
    site = replaced(site, "/var/lib/nginx/cyoa-live", f"{prefix}/cache/cyoa-live")
    for sub in ("logs", "tmp", "cache"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    # As root, nginx's workers would be "nobody", who cannot enter pytest's private
    # folders (the cache, the temp files): they stay the test's user.
    user = "user root;" if os.geteuid() == 0 else ""
    conf = prefix / "nginx.conf"
    conf.write_text(f"""
{user}
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
    {http_extra}
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    {site}
}}
""")
    return conf


def start_nginx(prefix: Path, listen: int, upstreams: Sequence[int], http_extra: str = ""):
    """A real nginx on the shipped site (checked by ``nginx -t`` first), once it answers."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is needed (./dev test installs it)"
    conf = nginx_conf(prefix, listen, upstreams, http_extra or "access_log off;")
    argv = [nginx, "-c", str(conf), "-p", str(prefix)]
    check = subprocess.run([*argv, "-t"], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(argv, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{listen}"

    def answers() -> bool:
        assert process.poll() is None, (prefix / "logs" / "error.log").read_text()
        with contextlib.suppress(requests.RequestException):
            return requests.get(url + "/healthz", timeout=1).status_code == 200
        return False

    wait_until(answers, "nginx to answer")
    return process, url


def stop_nginx(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def nginx_in_front(start_server, server_env, tmp_path):
    server = start_server({**server_env, "CYOA_TRUST_PROXY": "1"})
    process, url = start_nginx(tmp_path / "nginx", free_port(), [server.port])
    yield url
    stop_nginx(process)


def test_nginx_site_proxies_to_the_vote_server(nginx_in_front):
    response = requests.get(nginx_in_front + "/healthz", timeout=5)
    assert response.json() == {"status": "ok"}
    too_big = requests.post(nginx_in_front + "/vote", data={"poll": "x" * 40000}, timeout=5)
    assert too_big.status_code == 413


def test_twilio_signature_holds_through_the_proxy(nginx_in_front):
    url = nginx_in_front + "/sms"
    params = {
        "MessageSid": "SM" + "1" * 32,
        "From": "+15551230000",
        "Body": "1",
        "To": "+15005550006",
        "AccountSid": "AC" + "2" * 32,
    }
    signed = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    good = requests.post(url, data=params, headers={"X-Twilio-Signature": signed}, timeout=5)
    assert good.status_code == 200 and "<Response" in good.text
    bad = requests.post(url, data=params, headers={"X-Twilio-Signature": "forged"}, timeout=5)
    assert bad.status_code == 403


def test_systemd_unit_is_valid():
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is needed (Debian package systemd)"
    text = UNIT.read_text()
    settings = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert "EnvironmentFile=/etc/cyoa/vote.env" in settings
    assert not [line for line in settings if "TOKEN" in line or "SECRET" in line]
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(UNIT)], capture_output=True, text=True, check=False
    )
    # verify resolves paths of this host: only syntax problems are ours to fix
    problems = [
        line
        for line in result.stderr.splitlines()
        if "Unknown key" in line or "Invalid" in line or "Failed to parse" in line
    ]
    assert not problems, result.stderr
