"""Static files: nginx serves ``/static/`` from disk, the app never sees those requests.

Demo ``static-files``: the page arrives without its CSS and images (the production app
leaves static files to the web server), then ``location /static/ { alias ...; }`` and the
page is whole; the response headers show nginx served the files, not the app.
"""

from __future__ import annotations

import shutil

import requests

from cyoa.demos.app import app_env, checkout
from cyoa.demos.nginx import Nginx, site_conf
from cyoa.demos.runner import Run, demo
from cyoa.demos.wsgi import init_db, start_gunicorn

#: The page's stylesheet and each product's picture.
IMAGES = {"dachshund": "/static/dachshund.svg", "pets": "/static/paw.svg"}
CSS = "/static/style.css"


def fetch_assets(run: Run, nginx: Nginx) -> dict[str, requests.Response]:
    """Fetch the page's CSS and image through nginx, and show who answered."""
    found = {}
    for path in (CSS, IMAGES[run.product]):
        response = requests.get(nginx.url(path), timeout=5)
        served_by = response.headers.get("X-App") or "nginx (from disk)"
        run.show(f"GET {path} → {response.status_code}  served by: {served_by}")
        found[path] = response
    return found


@demo("static-files", "Static files: nginx serves /static/ itself")
def static_files_demo(run: Run) -> None:
    """Before and after ``location /static/``: status codes and who answered."""
    code = checkout(run)
    env = app_env(run)
    init_db(run, code, env)
    server = start_gunicorn(run, code, workers=2, env=env)
    nginx = Nginx(run)
    nginx.configure(site_conf(nginx.root, nginx.port, [server.port]), show=False)
    nginx.start()
    run.step("The page loads, but its CSS and image do not")
    page = requests.get(nginx.url("/"), timeout=5)
    run.show(f"GET / → {page.status_code}  (links {CSS}, {IMAGES[run.product]})")
    before = fetch_assets(run, nginx)
    run.fact("css_before", before[CSS].status_code, "CSS before")
    run.step("Copy the files where the web server reads them (like collectstatic)")
    www = run.scratch / "var" / "www" / "static"
    shutil.copytree(code / "static", www)
    run.say(f"$ cp -r srv/app/static {run.short(str(www))}")
    run.step("Four lines in the site config: location /static/ with an alias")
    nginx.configure(site_conf(nginx.root, nginx.port, [server.port], static_dir=www))
    run.fact("config_ok", nginx.test(), "nginx -t")
    css_url = nginx.url(CSS)
    nginx.reload(lambda: requests.get(css_url, timeout=5).status_code == 200)
    run.step("The page is whole")
    after = fetch_assets(run, nginx)
    css = after[CSS]
    run.show("response headers for /static/style.css:")
    for key in ("Server", "Content-Type", "ETag", "Expires", "X-App"):
        run.show(f"  {key}: {css.headers.get(key, '(none)')}")
    run.fact("css_after", css.status_code, "CSS after")
    run.fact("css_same_file", css.content == (www / "style.css").read_bytes(), "same bytes")
    run.fact("css_served_by_app", "X-App" in css.headers, "did the app serve it")
    run.fact("svg_type", after[IMAGES[run.product]].headers.get("Content-Type"), "image type")
    run.fact("page_served_by_app", "X-App" in requests.get(nginx.url("/"), timeout=5).headers)
