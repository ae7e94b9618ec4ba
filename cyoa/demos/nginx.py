"""nginx as the site's reverse proxy, on a loopback port with its own config and files.

The site config is what the story shows; a small main config around it keeps every path
(pid, logs, temp files) inside the scratch directory, so the machine's own nginx, if any,
is never touched. Demo ``nginx-502``: nginx proxies to nothing yet, and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import requests

from cyoa.demos import processes
from cyoa.demos.runner import Run, demo

MAIN_CONF = """\
# Machinery only: keeps nginx in the foreground and every file in {root}.
daemon off;
worker_processes 2;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 512; }}
http {{
    types {{ text/html html; text/css css; image/svg+xml svg; application/javascript js; }}
    default_type application/octet-stream;
    access_log {root}/access.log;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    include {root}/sites-enabled/*.conf;
}}
"""

SITE_CONF = """\
upstream app_servers {{
{servers}
}}

server {{
    listen 127.0.0.1:{port};
    server_name www.example.com;
    server_tokens off;  # no version in headers and error pages
    add_header X-Content-Type-Options nosniff always;  # a file is what its type says
    add_header X-Frame-Options DENY always;  # no page of ours inside another's frame
    access_log {root}/site.access.log;
{static}
    location / {{
        proxy_pass http://app_servers;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_read_timeout {read_timeout};
    }}
}}
"""

STATIC_BLOCK = """
    location /static/ {{
        alias {static_dir}/;
        expires 1h;
    }}
"""


def site_conf(
    root: Path,
    port: int,
    upstreams: list[int],
    static_dir: Path | None = None,
    read_timeout: str = "30s",
) -> str:
    """The site's config: upstream app servers, optional static files, the proxy."""
    servers = "\n".join(f"    server 127.0.0.1:{p};" for p in upstreams)
    static = STATIC_BLOCK.format(static_dir=static_dir) if static_dir else ""
    return SITE_CONF.format(
        servers=servers, port=port, root=root, static=static, read_timeout=read_timeout
    )


class Nginx:
    """An nginx of our own: config files under ``$SCRATCH/nginx``; test, start, reload."""

    def __init__(self, run: Run, root: Path | None = None) -> None:
        self.run = run
        self.root = root or run.scratch / "nginx"
        self.port = processes.free_port()
        self.conf = self.root / "nginx.conf"
        self.site = self.root / "sites-enabled" / "app.conf"
        self.service: processes.Service | None = None

    def command(self, *extra: str) -> list[str]:
        return ["nginx", "-p", str(self.root), "-c", str(self.conf), "-e", "stderr", *extra]

    def configure(self, site: str, show: bool = True) -> None:
        """Write the main config (hidden: machinery) and the site config (shown)."""
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        self.run.write(self.conf, MAIN_CONF.format(root=self.root), show=False)
        self.run.write(self.site, site, show=show)

    def test(self) -> bool:
        """``nginx -t``: is the config valid?"""
        binary = self.run.need("nginx", [" ".join(self.command("-t"))])
        done = self.run.sh([binary, *self.command("-t")[1:]], check=False)
        return done.returncode == 0

    def start(self) -> processes.Service:
        binary = self.run.need("nginx", [" ".join(self.command())])
        self.service = self.run.start(
            "nginx", [binary, *self.command()[1:]], port=self.port, stop_signal=15
        )
        return self.service

    def reload(self, done: Callable[[], bool]) -> None:
        """Re-read the config without dropping connections; wait until ``done()``.

        The old workers finish what they hold and exit; until they have, a new connection
        may still reach one with the old config, so wait for them too.
        """
        binary = self.run.need("nginx")
        old = self.workers()
        self.run.sh([binary, *self.command("-s", "reload")[1:]])
        processes.wait_until(lambda: not self.workers() & old and done(), timeout=10)

    def workers(self) -> set[int]:
        """The pids of the running master's worker processes (empty before ``start``)."""
        import psutil

        if self.service is None:
            return set()
        try:
            return {child.pid for child in psutil.Process(self.service.pid).children()}
        except psutil.Error:
            return set()

    def errors(self) -> list[str]:
        """nginx's error log, line by line."""
        log = self.root / "error.log"
        return log.read_text(errors="replace").splitlines() if log.exists() else []

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@demo("nginx-502", "nginx in front, nothing behind it: 502 Bad Gateway")
def nginx_502_demo(run: Run) -> None:
    """Configure nginx from a copied config, start it, and meet the 502."""
    run.step("The site config, copied from Stack Overflow: proxy to an app server")
    nginx = Nginx(run)
    app_port = processes.free_port()
    nginx.configure(site_conf(nginx.root, nginx.port, [app_port]))
    run.step("Check it, then start nginx")
    run.fact("config_ok", nginx.test(), "nginx -t")
    nginx.start()
    run.step("A visitor arrives")
    response = requests.get(nginx.url("/"), timeout=5)
    run.say(f"$ curl -i {nginx.url('/')}")
    run.show(f"HTTP/1.1 {response.status_code} {response.reason}")
    run.show(f"Server: {response.headers.get('Server')}")
    run.show(f"X-Content-Type-Options: {response.headers.get('X-Content-Type-Options')}")
    run.fact("status", response.status_code, "what visitors get")
    run.fact("server", response.headers.get("Server", ""), "who answered")
    sniff = response.headers.get("X-Content-Type-Options", "")
    run.fact("nosniff", sniff == "nosniff", "security headers, even on an error page")
    run.step("Why? nginx's error log says it")
    errors = [line for line in nginx.errors() if "connect()" in line]
    run.show(run.short(errors[-1] if errors else "(no error logged)"))
    run.fact("refused", bool(errors), "nginx could not connect to the app server")
    run.say(f"Nothing listens on 127.0.0.1:{app_port}: nginx is a proxy with nobody to ask.")
