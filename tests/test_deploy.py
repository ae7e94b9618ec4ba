"""deploy/: the nginx site really proxies to `cyoa serve`, and Twilio signatures hold."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
from conftest import ROOT, TWILIO_TOKEN, free_port
from twilio.request_validator import RequestValidator

SITE = ROOT / "deploy" / "cyoa-vote.nginx"
UNIT = ROOT / "deploy" / "cyoa-vote.service"

pytestmark = pytest.mark.slow


def nginx_conf(prefix: Path, listen: int, upstream: int) -> Path:
    """The shipped site inside a minimal nginx.conf, on loopback ports of the test's."""
    site = SITE.read_text()
    site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{upstream};")
    site = site.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    site = site.replace("listen [::]:80;", "")
    for sub in ("logs", "tmp"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(f"""
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    {site}
}}
""")
    return conf


@pytest.fixture
def nginx_in_front(start_server, server_env, tmp_path):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is needed (./dev test installs it)"
    env = {**server_env, "CYOA_TRUST_PROXY": "1"}
    server = start_server(env)
    listen = free_port()
    conf = nginx_conf(tmp_path / "nginx", listen, server.port)
    check = subprocess.run(
        [nginx, "-t", "-c", str(conf), "-p", str(tmp_path / "nginx")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(
        [nginx, "-c", str(conf), "-p", str(tmp_path / "nginx")], stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{listen}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.1)
    yield url
    process.terminate()
    process.wait(timeout=10)


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
