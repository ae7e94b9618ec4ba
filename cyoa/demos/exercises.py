"""The hands-on cells of the learner notebooks: the real files, runs of them, exercises.

After a deck demo's cell (kept as the room saw it), a chapter gets the same setup as files
the learner owns (``%%writefile launch-site.conf``, a cell holding the gunicorn command),
a cell that runs them through :mod:`cyoa.demos.lab`, and at the chapter's end an exercise:
break it, see the symptom, and a check cell that says pass or fail and why.

Cells are tagged so tests can find them: ``lab-file:<file name>`` writes a file,
``lab-run:<what>`` runs the files, ``lab-check:<chapter>`` checks them.
"""

from __future__ import annotations

import nbformat

FILE_TAG, RUN_TAG, CHECK_TAG = "lab-file:", "lab-run:", "lab-check:"


def md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(text.strip())


def code(tag: str, source: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source.strip())
    cell.metadata["tags"] = [tag]
    return cell


def writefile(name: str, text: str) -> nbformat.NotebookNode:
    """A cell that writes ``name`` next to the notebook: the learner's own copy to edit."""
    return code(f"{FILE_TAG}{name}", f"%%writefile {name}\n{text.strip()}\n")


def lab_call(tag: str, call: str, comment: str = "") -> nbformat.NotebookNode:
    note = f"# {comment}\n" if comment else ""
    return code(tag, f"{note}from cyoa.demos import lab\n\n{call}")


# -- chapter 1: launch ---------------------------------------------------------------------
SITE_PROXY = """
upstream app_servers {
    server 127.0.0.1:8000;
}

server {
    listen 127.0.0.1:8080;
    server_name www.example.com;

    location / {
        proxy_pass http://app_servers;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
    }
}
"""

STATIC_LOCATION = """
    location /static/ {
        alias /var/www/static/;
        expires 1h;
    }

    location / {"""

SITE_STATIC = SITE_PROXY.replace("\n    location / {", STATIC_LOCATION, 1)

GUNICORN_LAUNCH = "gunicorn --chdir /srv/app --bind 127.0.0.1:8000 --workers 4 wsgi:app"

LAUNCH_FILES, LAUNCH_COMMAND = "launch-site.conf", "launch-gunicorn.sh"

AFTER_NGINX = [
    md(
        f"""
### Your turn: the site config is your file

The demo above wrote its config from code. Here it is as a file of your own: the next cell
writes `{LAUNCH_FILES}` next to this notebook, and the one after hands it to the same
machinery the demo uses. nginx checks it (`nginx -t`), starts with it, and a visitor
arrives. Nothing listens behind it yet, so expect the same **502 Bad Gateway**.

Your file names the addresses a real server would use: nginx on `127.0.0.1:8080`, the app
on `127.0.0.1:8000`. The lab moves each to a free port of this machine and says where, so
nothing collides; two ports that differ in your files still differ after the move.
"""
    ),
    writefile(LAUNCH_FILES, SITE_PROXY),
    lab_call("lab-run:launch-nginx", f'lab.launch("{LAUNCH_FILES}")', "nginx only, no app yet"),
]

AFTER_GUNICORN = [
    md(
        """
### Your turn: the gunicorn command line

This is the line a server runs (in a systemd unit, say): `--chdir /srv/app` is the app's
clone, `--bind` the address nginx proxies to, `--workers 4` four processes, and `wsgi:app`
the module and the variable holding the WSGI app. Run both cells: the 502 becomes a 200,
answered by the app. (Without `--timeout`, each worker gets gunicorn's default 30 s:
chapter 3 is about that.)
"""
    ),
    writefile(LAUNCH_COMMAND, GUNICORN_LAUNCH),
    lab_call("lab-run:launch-gunicorn", f'lab.launch("{LAUNCH_FILES}", "{LAUNCH_COMMAND}")'),
]

AFTER_STATIC = [
    md(
        f"""
### Your turn: four lines for the static files

The cell below writes `{LAUNCH_FILES}` again, with a `location /static/` block. A deploy
copies the app's `static/` folder to `/var/www/static` (the lab does it for you, in its
throwaway folder); `alias` tells nginx to serve `/static/...` from there. The run shows
who answered each request: the page comes from the app, the stylesheet from nginx.
"""
    ),
    writefile(LAUNCH_FILES, SITE_STATIC),
    lab_call("lab-run:launch-static", f'lab.launch("{LAUNCH_FILES}", "{LAUNCH_COMMAND}")'),
]

LAUNCH_EXERCISE = [
    md(
        f"""
## Exercise: break the launch, and see

Each change below is a real mistake with a real symptom. Make one change in a
`%%writefile` cell above (the last one for `{LAUNCH_FILES}`, or `{LAUNCH_COMMAND}`), run
that cell, then run the check below and read what it says. Put the line back, and check
again until it passes.

1. **Point nginx at the wrong port.** Change `server 127.0.0.1:8000;` to port `8001`.
   Expect **502 Bad Gateway**, and nginx's error log: `connect() failed (111: Connection
   refused) while connecting to upstream`. Nothing listens where nginx points.
2. **Delete the `proxy_pass` line.** Expect **404 Not Found** from nginx itself (no
   `X-App` header): with no proxy, nginx looks for a file in its own `html/` folder.
3. **Drop the `location /static/` block (and its `alias`).** The page still loads, but
   `/static/style.css` is a **404 from the app**: nginx passed it on, and in production the
   app serves no static files.
4. **Write `root` instead of `alias`.** Expect a **404 from nginx**, and an error log that
   names `/var/www/static/static/style.css`: `root` appends the whole URI to the folder,
   `alias` replaces the location's prefix.
5. **Bind gunicorn elsewhere.** In `{LAUNCH_COMMAND}`, use `--bind 127.0.0.1:9000`. The app
   runs, but not where nginx points: **502** again.
"""
    ),
    lab_call(
        "lab-check:launch",
        f'lab.check_launch("{LAUNCH_FILES}", "{LAUNCH_COMMAND}")',
        "PASS: the page from the app, its CSS from nginx's disk",
    ),
]

# -- chapter 3: timeouts -------------------------------------------------------------------
SITE_TIMEOUTS = """
upstream app_servers {
    server 127.0.0.1:8000;
}

server {
    listen 127.0.0.1:8080;
    server_name www.example.com;

    location / {
        proxy_pass http://app_servers;
        proxy_set_header Host $http_host;
        proxy_read_timeout 8s;
    }
}
"""

GUNICORN_TIMEOUTS = (
    "gunicorn --chdir /srv/app --bind 127.0.0.1:8000 --workers 2 --timeout 2 wsgi:app"
)

TIMEOUT_FILES, TIMEOUT_COMMAND = "timeouts-site.conf", "timeouts-gunicorn.sh"
REPORT_SECONDS = 5

AFTER_CACHE = [
    md(
        f"""
## Who gives up first: gunicorn or nginx?

Two timeouts guard every request. gunicorn's `--timeout` (30 s by default) aborts a sync
worker that has been busy too long; nginx's `proxy_read_timeout` (60 s by default) stops
waiting for the app's answer. Whichever runs out first decides what the visitor sees:

- **gunicorn first** (the defaults: 30 s before 60 s): the worker is aborted mid-request.
  On this stack gunicorn answers **500 Internal Server Error** as the worker goes (the app
  never answers: no `X-App` header). A worker stuck in C code, where the abort cannot reach
  it, is killed outright a second later; then nginx, left with a closed connection, answers
  **502 Bad Gateway**.
- **nginx first**: **504 Gateway Time-out**, and the worker goes on computing for nobody.

The files below scale the defaults down so that nobody waits a minute: gunicorn gives up
after 2 s, nginx after 8 s, and the report takes {REPORT_SECONDS} s. (About six seconds.)
"""
    ),
    writefile(TIMEOUT_FILES, SITE_TIMEOUTS),
    writefile(TIMEOUT_COMMAND, GUNICORN_TIMEOUTS),
    lab_call(
        "lab-run:timeouts",
        f'lab.slow_report("{TIMEOUT_FILES}", "{TIMEOUT_COMMAND}", report_seconds={REPORT_SECONDS})',
    ),
    md(
        f"""
## Exercise: move the timeouts, and see

Change a `%%writefile` cell above, run it, then run the check below. As shipped the check
fails, and says why: making it pass is the exercise.

1. **Let nginx give up first.** In `{TIMEOUT_FILES}`, set `proxy_read_timeout 1s;`. Expect
   **504 Gateway Time-out** after about a second, nginx's error log `upstream timed out`,
   and no `WORKER TIMEOUT` from gunicorn.
2. **Give the report the time it needs.** Put `proxy_read_timeout 8s;` back, and raise
   gunicorn's `--timeout` to `10`. The report answers **200** after {REPORT_SECONDS} s, and
   the check passes.
3. **Add threads.** Back to `--timeout 2`, and add `--threads 2`. gunicorn now runs the
   gthread worker, whose main thread keeps reporting in while a thread works: `--timeout`
   no longer limits how long a request may run, only nginx's `proxy_read_timeout` does.
   Expect **200** and no `WORKER TIMEOUT`. (With `proxy_read_timeout 1s` it is a 504 again.)

Raising a timeout is the right fix only for work that is slow by nature, and rare. For
the rest: a cache, more workers, or a task queue, as above.
"""
    ),
    lab_call(
        "lab-check:timeouts",
        f'lab.check_slow_report("{TIMEOUT_FILES}", "{TIMEOUT_COMMAND}", '
        f"report_seconds={REPORT_SECONDS})",
        "PASS: the slow report reaches the visitor (200)",
    ),
]

# -- chapter 5: scaling --------------------------------------------------------------------
SITE_SCALING = """
upstream app_servers {
    server 127.0.0.1:8000;
    server 127.0.0.1:8001;
}

server {
    listen 127.0.0.1:8080;
    server_name www.example.com;

    location / {
        proxy_pass http://app_servers;
        proxy_set_header Host $http_host;
    }
}
"""

GUNICORN_SCALING = """
# one app server a line: on two machines, this would be one line on each
gunicorn --chdir /srv/app --bind 127.0.0.1:8000 --workers 1 wsgi:app
gunicorn --chdir /srv/app --bind 127.0.0.1:8001 --workers 1 wsgi:app
"""

SCALING_FILES, SCALING_COMMANDS = "scaling-site.conf", "scaling-gunicorn.sh"

AFTER_SCALING = [
    md(
        f"""
### Your turn: an upstream of two app servers

`{SCALING_FILES}` names two app servers in its `upstream` block; `{SCALING_COMMANDS}`
starts them, one gunicorn command a line. Twenty visitors arrive one after another, and
each answer says which app server gave it (`/healthz` reports its address): nginx takes
them in turn (round robin).
"""
    ),
    writefile(SCALING_FILES, SITE_SCALING),
    writefile(SCALING_COMMANDS, GUNICORN_SCALING),
    lab_call("lab-run:scaling", f'lab.share_out("{SCALING_FILES}", "{SCALING_COMMANDS}")'),
    md(
        f"""
## Exercise: take the upstream apart, and see

Make one change in a `%%writefile` cell above, run it, then run the check below.

1. **Stop an app server.** Delete the second line of `{SCALING_COMMANDS}`. Expect every
   visitor to get a **200** anyway, all from `127.0.0.1:8000`, and nginx's error log:
   `connect() failed (111: Connection refused)`. nginx tried the dead server, failed, and
   passed the request on. Its health checks are passive (`max_fails`, `fail_timeout`):
   open-source nginx never polls a `/healthz`; a balancer that polls is another product
   (HAProxy, a cloud load balancer, NGINX Plus).
2. **Forget it in the upstream.** Put the line back, and delete `server 127.0.0.1:8001;`
   instead. The second app server runs, and gets nothing.
3. **Keep it for emergencies.** Write `server 127.0.0.1:8001 backup;`: it takes requests
   only when the first one fails. Then stop the first one and see.
"""
    ),
    lab_call(
        "lab-check:scaling",
        f'lab.check_share_out("{SCALING_FILES}", "{SCALING_COMMANDS}")',
        "PASS: every request answered, every app server took a share",
    ),
]

#: The hands-on cells to add after the deck demo cell of that name.
AFTER_DEMO: dict[str, list[nbformat.NotebookNode]] = {
    "nginx-502": AFTER_NGINX,
    "gunicorn": AFTER_GUNICORN,
    "static-files": AFTER_STATIC,
    "postgres": LAUNCH_EXERCISE,
    "timeouts-cache": AFTER_CACHE,
    "scaling": AFTER_SCALING,
}


def with_exercises(cells: list) -> list:
    """A chapter's cells (Markdown or ``(demo, code)``) with the hands-on cells added."""
    out: list = []
    for cell in cells:
        out.append(cell)
        if isinstance(cell, tuple) and cell[0] in AFTER_DEMO:
            out.extend(nbformat.from_dict(c) for c in AFTER_DEMO[cell[0]])
    return out
