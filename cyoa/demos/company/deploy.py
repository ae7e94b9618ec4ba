"""Deploy the app on this server: every step we used to do by hand over SSH, as a script.

Safe to run again and again: a step with nothing to do says ``ok`` and changes nothing;
only ``changed`` steps touch the server. CI runs it after the tests pass.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

#: The production server's layout; the demo's scratch server passes its own.
DEFAULTS = {
    "repo": None,  # only for the first deploy; later the clone's origin is used
    "dest": "/srv/app",
    "www": "/var/www/app/static",
    "site": "/etc/nginx/sites-enabled/app.conf",
    "listen": "80",
    "app_port": "8000",
    "nginx": "nginx",
    "pids": "/run/app",
}


def report(name: str, changed: bool) -> bool:
    print(f"{'changed' if changed else 'ok':<8} {name}", flush=True)
    return changed


def git(*args: str | Path) -> str:
    return subprocess.run(
        ["git", *map(str, args)], check=True, capture_output=True, text=True
    ).stdout


def update_code(repo: str | None, dest: Path) -> bool:
    """Clone the first time; later, move to the newest commit only if there is one."""
    if not (dest / ".git").exists():
        if not repo:
            sys.exit(f"{dest} has no clone yet: give --repo for the first deploy")
        git("clone", "-q", repo, dest)
        return True
    git("-C", dest, "fetch", "-q", "origin")
    if git("-C", dest, "rev-parse", "HEAD") == git("-C", dest, "rev-parse", "origin/main"):
        return False
    git("-C", dest, "reset", "-q", "--hard", "origin/main")
    return True


def sync_static(source: Path, www: Path) -> bool:
    """Copy static files where nginx reads them, only those that differ."""
    changed = False
    for path in sorted(source.rglob("*")):
        target = www / path.relative_to(source)
        if path.is_file() and (not target.exists() or target.read_bytes() != path.read_bytes()):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
            changed = True
    return changed


def write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


def signal_pidfile(pidfile: Path, sig: int) -> bool:
    """Signal a running server (HUP: reload); False when it is not running yet."""
    pid = pidfile.read_text().strip() if pidfile.exists() else ""
    if not pid:
        return False
    os.kill(int(pid), sig)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    for option, default in DEFAULTS.items():
        parser.add_argument(f"--{option.replace('_', '-')}", default=default)
    args = parser.parse_args()
    dest, www, pids = Path(args.dest), Path(args.www), Path(args.pids)
    nginx = args.nginx.split()
    code = report("code at origin/main", update_code(args.repo, dest))
    report("static files", sync_static(dest / "static", www))
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "init-db"],
        cwd=dest,
        check=True,
        capture_output=True,
    )
    report("database tables", False)
    template = (dest / "nginx-site.conf").read_text()
    site = template.format(listen=args.listen, app_port=args.app_port, www=www)
    if report("nginx site config", write_if_changed(Path(args.site), site)):
        subprocess.run([*nginx, "-t", "-q"], check=True)
        report("nginx reloaded", signal_pidfile(pids / "nginx.pid", signal.SIGHUP))
    if code:
        report("app server reloaded", signal_pidfile(pids / "gunicorn.pid", signal.SIGHUP))


if __name__ == "__main__":
    main()
