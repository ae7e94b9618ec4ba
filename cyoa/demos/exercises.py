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

from cyoa.demos.app import source_dir

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
    server_tokens off;  # no version in headers and error pages
    add_header X-Content-Type-Options nosniff always;  # a file is what its type says
    add_header X-Frame-Options DENY always;  # no page of ours inside another's frame

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
    server_tokens off;  # no version in headers and error pages
    add_header X-Content-Type-Options nosniff always;  # a file is what its type says
    add_header X-Frame-Options DENY always;  # no page of ours inside another's frame

    location / {
        proxy_pass http://app_servers;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
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

# -- chapter 2: invitations ----------------------------------------------------------------
APP_ENV = """
# /etc/app/app.env, read by the app server's unit (EnvironmentFile=)
SECRET_KEY=changeme
SMTP_HOST=127.0.0.1
SMTP_PORT=2525
"""

ENV_FILES = ("app-1.env", "app-2.env")

AFTER_INVITATIONS = [
    md(
        f"""
### Your turn: the settings of two app servers

Invitations went well, and the app now runs on two servers behind one balancer. Each reads
its settings from its own EnvironmentFile: `{ENV_FILES[0]}` and `{ENV_FILES[1]}`. The lab
runs the mail relay on `127.0.0.1:2525`, both app servers on one database, invites a friend
through the first, and sends her click to the second, as a balancer may. Then it plays a
stranger who tries the keys everyone tries first.
"""
    ),
    writefile(ENV_FILES[0], APP_ENV),
    writefile(ENV_FILES[1], APP_ENV),
    lab_call("lab-run:invitations", f'lab.invitations("{ENV_FILES[0]}", "{ENV_FILES[1]}")'),
    md(
        f"""
## Exercise: one secret, shared, that nobody can guess

As shipped both servers sign with `changeme`, and the stranger signs an invitation of their
own that gets in. The check below fails and says so: making it pass is the exercise.

1. **A real secret.** Make one with
   `python -c "import secrets; print(secrets.token_hex(32))"` (run it in a cell with a `!`
   in front) and put it in `{ENV_FILES[0]}`. Run the check: the second server still signs
   with `changeme`.
2. **The same secret on every server.** Put a *different* random key in `{ENV_FILES[1]}`.
   Ada's link, signed by server 1, is "not one of our invitations" on server 2. Give both
   the same key, and the check passes. On real servers it comes from one secret store
   (Ansible Vault, your cloud's secret manager), never from the repository.
3. **The wrong relay.** Set `SMTP_PORT=25` in `{ENV_FILES[0]}`. The invite is a 500: the
   mail goes out inside the request, so a mail server that is down is the visitor's error.
"""
    ),
    lab_call(
        "lab-check:invitations",
        f'lab.check_invitations("{ENV_FILES[0]}", "{ENV_FILES[1]}")',
        "PASS: a link mailed by one app server works once on the other; nobody forges one",
    ),
]

# -- chapter 3: asynchronous tasks --------------------------------------------------------
WORKER_COMMAND = """
# the worker, one command line: on a server, its own systemd unit runs it
rq worker --url redis://127.0.0.1:6379/0
"""

WORKER_FILE = "worker.sh"

AFTER_ASYNC = [
    md(
        f"""
### Your turn: the worker

The app's `REDIS_URL` is `redis://127.0.0.1:6379/0`: its jobs go on RQ's `default` queue in
Redis db 0. `{WORKER_FILE}` holds the command that starts the worker. The lab runs a
throwaway Redis where your `--url` points, the app, and your worker; a visitor asks for a
crawl, and a nightly job is scheduled two seconds ahead (`enqueue_in`). Which of them runs?
(About fifteen seconds when a job is left waiting.)
"""
    ),
    writefile(WORKER_FILE, WORKER_COMMAND),
    lab_call("lab-run:async", f'lab.background("{WORKER_FILE}")'),
    md(
        f"""
## Exercise: a worker that misses its jobs

As shipped the crawl is done, but the nightly job never runs, and the check below says why.

1. **Run the scheduler.** Add `--with-scheduler` to the command in `{WORKER_FILE}`. RQ's
   scheduler runs inside a worker: it moves each scheduled job onto its queue when the job
   falls due. With it, the check passes.
2. **Listen to another queue.** Add a queue name at the end: `rq worker ... reports`. The
   worker now listens to `reports` only, and the crawl waits on `default` for nobody. Name
   both (`default reports`) and it is done again.
3. **Watch another db.** Change the URL's `/0` to `/1`. Redis answers, the worker starts,
   and nothing ever arrives: a queue lives in one db, and the app's is db 0.
4. **Quit when idle.** Add `--burst`: a worker in burst mode stops once the queue is empty,
   which is how CI runs a worker, never how a server does.
"""
    ),
    lab_call(
        "lab-check:async",
        f'lab.check_background("{WORKER_FILE}")',
        "PASS: the crawl done by the worker, and the nightly job run when it is due",
    ),
]

# -- chapter 5: data ------------------------------------------------------------------------
BACKUP_COMMANDS = """
# the nightly backup: the custom format (-Fc), the one pg_restore reads
pg_dump -Fc -f app.dump app
"""

RESTORE_COMMANDS = """
# after the intern's DELETE: restore into a database of its own, check it, then swap
pg_restore -d app_restored app.dump
"""

BACKUP_FILE, RESTORE_FILE = "backup.sh", "restore.sh"

AFTER_DATA = [
    md(
        f"""
### Your turn: the backup, and the restore

`{BACKUP_FILE}` is the nightly backup, `{RESTORE_FILE}` what you type after the intern
deleted every user. The lab starts a throwaway PostgreSQL with the app's database and its
120 users, runs your backup, lets the intern loose, runs your restore, then counts the users
in every database. Your lines run as typed on the server, as the database's superuser on its
local socket (`pg_dump`, `createdb`, `pg_restore`, `psql`, `dropdb`, and `>` or `<`).
"""
    ),
    writefile(BACKUP_FILE, BACKUP_COMMANDS),
    writefile(RESTORE_FILE, RESTORE_COMMANDS),
    lab_call("lab-run:data", f'lab.backup_and_restore("{BACKUP_FILE}", "{RESTORE_FILE}")'),
    md(
        f"""
## Exercise: a backup is only as good as its restore

As shipped, the restore fails, and the check below says why: making it pass is the exercise.

1. **Make the database first.** `pg_restore -d app_restored` fills a database; it does not
   create one. Add `createdb app_restored` before it in `{RESTORE_FILE}`. The check passes:
   the users are in `app_restored`, and the app's own database is untouched until you have
   looked at them.
2. **A plain dump.** Make the backup `pg_dump app > app.sql` (SQL text, the default format)
   and restore it the same way. pg_restore refuses it; `psql -d app_restored -f app.sql`
   reads it.
3. **Forget the name.** Drop `app` from the `pg_dump` line. It still succeeds, and backs up
   the wrong database: without a name, pg_dump dumps the one named like its user.
4. **Straight back into the app's database.** `pg_restore --data-only -d app app.dump`
   also brings the users back, faster, and with no chance to look first.

A backup nobody has restored is a hope. Restore one on a schedule, into a database of its
own, and check what comes back.
"""
    ),
    lab_call(
        "lab-check:data",
        f'lab.check_backup_and_restore("{BACKUP_FILE}", "{RESTORE_FILE}")',
        "PASS: every user back after the intern's DELETE, from your backup",
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
    server_tokens off;  # no version in headers and error pages
    add_header X-Content-Type-Options nosniff always;  # a file is what its type says
    add_header X-Frame-Options DENY always;  # no page of ours inside another's frame

    location / {
        proxy_pass http://app_servers;
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
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

# -- chapter 2: automation -----------------------------------------------------------------
#: The deck's own files (the demo runs these very files): the learner starts from them.
DEPLOY_SCRIPT = (source_dir() / "deploy.py").read_text()
PLAYBOOK = (source_dir() / "deploy.yml").read_text()
PLAYBOOK_TEMPLATE = (source_dir() / "nginx-site.conf.j2").read_text()

SCRIPT_FILE, PLAYBOOK_FILE, TEMPLATE_FILE = "deploy.py", "deploy.yml", "nginx-site.conf.j2"

AFTER_AUTOMATION = [
    md(
        f"""
### Your turn: the deploy script is your file

The next cell writes `{SCRIPT_FILE}`, the script the demo ran, next to this notebook. The
cell after runs *your* copy the way the demo did, on a fresh pretend server (nginx with its
default site, nothing else): a first deploy, the init system starting gunicorn (never
`--daemon`), a second deploy that must change nothing, a developer pushing a change, and a
third deploy after which the site must show it. Each step prints `changed` or `ok`.
"""
    ),
    writefile(SCRIPT_FILE, DEPLOY_SCRIPT),
    lab_call("lab-run:deploy-script", f'lab.deploy("{SCRIPT_FILE}")'),
    md(
        f"""
### Your turn: the same deploy as an Ansible playbook

`{PLAYBOOK_FILE}` and its nginx template `{TEMPLATE_FILE}`, as the demo ran them. The
playbook says *what* the server must look like; a task with nothing to do reports `ok`.
Handlers (`notify: Reload nginx`) run only when a task that notifies them changed
something. The run below is the same round as above (about 20 s: each
`ansible-playbook` run takes several seconds).
"""
    ),
    writefile(PLAYBOOK_FILE, PLAYBOOK),
    writefile(TEMPLATE_FILE, PLAYBOOK_TEMPLATE),
    lab_call("lab-run:deploy-playbook", f'lab.deploy("{PLAYBOOK_FILE}")'),
    md(
        f"""
## Exercise: break the deploy, and see

Make one change in a `%%writefile` cell above, run it, then run the check below (both
files, each on its own fresh server). Put it back, and check again until it passes.

1. **Forget to reload the app.** In `{PLAYBOOK_FILE}`, delete the task `Reload the app
   server (new code)` (its five lines). The push is deployed (`changed: [localhost]` on
   `Code at origin/main`), yet the site keeps showing the **old version**: gunicorn's
   workers keep the code they imported until they get a HUP (what `systemctl reload app`
   sends), and nothing sent one.
2. **Reload every time.** Put the task back, and delete its `when: code.changed` line. The
   second run, with nothing new, now reports `changed=1`: a deploy that always "changes"
   something hides the deploys that really do, and restarts the workers on every run.
3. **Drop the handler.** Delete `notify: Reload nginx`. The site config is written, but
   nginx never loads it: **nothing answers on the site's port** after the first deploy.
4. **The script too.** In `{SCRIPT_FILE}`, delete the last two lines of `main()` (`if
   code:` and the reload). Same symptom as 1: the new code sits on disk, the old answers.
"""
    ),
    lab_call(
        "lab-check:automation",
        f'lab.check_deploy("{SCRIPT_FILE}", "{PLAYBOOK_FILE}")',
        "PASS: the site up, nothing changed the second time, the pushed change live",
    ),
]

# -- chapter 4: security -------------------------------------------------------------------
SSH_DROPIN = """
# /etc/ssh/sshd_config.d/10-hardening.conf: keys only, never passwords; nobody logs in as root.
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
"""

DROPIN_FILE = "10-hardening.conf"

AFTER_SECURITY = [
    md(
        f"""
### Your turn: the sshd drop-in is your file

On a server, hardening goes in a drop-in file, `/etc/ssh/sshd_config.d/{DROPIN_FILE}`. The
next cell writes it here; the one after puts it on a pretend server beside what many cloud
images ship, a `50-cloud-init.conf` that says `PasswordAuthentication yes`. sshd reads the
drop-ins in name order and **the first value it reads wins**, so `10-...` beats `50-...`.
Then a real sshd starts on a loopback port (in a private mount namespace: the pretend
server's users stand in for the machine's, which are never touched) and three logins are
tried: root with a key that root's `authorized_keys` does hold, Ada with her right
password, and Ada with her key.
"""
    ),
    writefile(DROPIN_FILE, SSH_DROPIN),
    lab_call("lab-run:ssh", f'lab.harden_ssh("{DROPIN_FILE}")'),
    md(
        f"""
## Exercise: open the door, and see

Make one change in `{DROPIN_FILE}` above, run that cell, then the check below.

1. **Allow passwords.** Write `PasswordAuthentication yes`. Ada's password now gets her in
   (`Accepted password for ada` in sshd's log), and so would any bot that guesses it.
2. **Leave it to the defaults.** Delete the `PasswordAuthentication no` line. You said
   nothing, so the cloud image's `50-cloud-init.conf` decides: passwords are **on** again.
3. **Forget root.** Delete `PermitRootLogin no`. The default, `prohibit-password`, refuses
   root's *password* but not root's *key*: **root gets in**.
4. **A typo.** Write `PermitRootLogin nope`. `sshd -t` refuses the config and says which
   line: always run it before `systemctl reload ssh`, with a second session still open.
"""
    ),
    lab_call(
        "lab-check:security",
        f'lab.check_harden_ssh("{DROPIN_FILE}")',
        "PASS: root refused, passwords refused, Ada's key lets her in",
    ),
]

# -- chapter 4: traction -------------------------------------------------------------------
WEEKLY_ACTIVE_SQL = """
-- Weekly active customers: who used the product that week, each counted once.
SELECT to_char(date_trunc('week', created), 'IYYY-"W"IW') AS week,
       count(DISTINCT customer)                          AS active_customers
FROM   deliveries
GROUP  BY week
ORDER  BY week;
"""

SQL_FILE = "weekly-active.sql"

AFTER_TRACTION = [
    md(
        f"""
### Your turn: the query is your file

`{SQL_FILE}` holds the demo's query. The cell after runs *your* query against the same
made-up history in a throwaway PostgreSQL (psql exports it with `COPY (your query) TO
STDOUT CSV HEADER`), and draws what it returns: the week in the first column, a number in
the second.
"""
    ),
    writefile(SQL_FILE, WEEKLY_ACTIVE_SQL),
    lab_call("lab-run:traction", f'lab.traction("{SQL_FILE}")'),
    md(
        """
## Exercise: draw the vanity curve, and see

Change `weekly-active.sql` above, run it, then run the check below: it compares your
numbers with the customers who really used the product each week.

1. **Count signups.** Replace the query with new accounts per week; it says nothing about
   who stayed:
   ```sql
   SELECT date_trunc('week', created) AS week, count(*) AS signups
   FROM users GROUP BY week ORDER BY week;
   ```
2. **Count everyone, ever.** Make it cumulative. The curve **only goes up**, whatever the
   customers do: the vanity metric that investors see through.
   ```sql
   SELECT date_trunc('week', created) AS week,
          sum(count(*)) OVER (ORDER BY date_trunc('week', created)) AS users
   FROM users GROUP BY week ORDER BY week;
   ```
3. Put the weekly active customers back, and check again.
"""
    ),
    lab_call(
        "lab-check:traction",
        f'lab.check_traction("{SQL_FILE}")',
        "PASS: your numbers are the customers active each week",
    ),
]

#: The hands-on cells to add after the deck demo cell of that name.
AFTER_DEMO: dict[str, list[nbformat.NotebookNode]] = {
    "nginx-502": AFTER_NGINX,
    "gunicorn": AFTER_GUNICORN,
    "static-files": AFTER_STATIC,
    "postgres": LAUNCH_EXERCISE,
    "async-rq": AFTER_ASYNC,
    "timeouts-cache": AFTER_CACHE,
    "data-replication": AFTER_DATA,
    "scaling": AFTER_SCALING,
    "automation": AFTER_AUTOMATION,
    "email-invitations": AFTER_INVITATIONS,
    "security": AFTER_SECURITY,
    "traction": AFTER_TRACTION,
}


def with_exercises(cells: list) -> list:
    """A chapter's cells (Markdown or ``(demo, code)``) with the hands-on cells added."""
    out: list = []
    for cell in cells:
        out.append(cell)
        if isinstance(cell, tuple) and cell[0] in AFTER_DEMO:
            out.extend(nbformat.from_dict(c) for c in AFTER_DEMO[cell[0]])
    return out
