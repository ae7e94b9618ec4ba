"""Hands-on runs of the deck's demos with the learner's own site config and gunicorn command.

The deck writes nginx's site and gunicorn's command from code; a learner notebook holds the
same files in its own cells (``%%writefile launch-site.conf``) and hands them here. Each
entry point runs in the deck's frame (:func:`cyoa.demos.runner.demo`: a scratch directory,
real processes on free loopback ports, narrated steps, everything stopped at the end) with
the deck's building blocks (:class:`~cyoa.demos.nginx.Nginx`, the app's clone, gunicorn).

A learner's files name fixed addresses, as on a real server. The lab *places* them
(:mod:`.files`): every ``127.0.0.1:PORT`` (or ``localhost:PORT``) moves to a free port of its
own (the same PORT to the same free port, so a mismatch stays a mismatch), the app's folder
``/srv/app`` becomes the clone's and ``/var/www/`` moves into the scratch directory. Nothing
else is changed.

Entry points, one module a chapter, each with a ``check_`` twin that ends in PASS or FAIL and
the reasons (:mod:`.frame`):

- :func:`launch` (chapter 1, :mod:`.launching`): nginx, gunicorn, static files;
- :func:`deploy` (chapter 2, :mod:`.deploying`): the deploy script or playbook, run, run
  again, and after a push;
- :func:`invitations` (chapter 2, :mod:`.invitations`): two app servers' EnvironmentFiles,
  a mailed link followed on the other server, a forger's try;
- :func:`background` (chapter 3, :mod:`.queues`): an ``rq worker`` command, a crawl and a
  nightly job;
- :func:`slow_report` (chapter 3, :mod:`.timeouts`): which timeout runs out first;
- :func:`harden_ssh` (chapter 4, :mod:`.hardening`): an sshd drop-in, a real sshd, three logins;
- :func:`traction` (chapter 4, :mod:`.actives`): a weekly query against PostgreSQL;
- :func:`backup_and_restore` (chapter 5, :mod:`.backups`): backup and restore commands
  around the intern's ``DELETE``;
- :func:`share_out` (chapter 5, :mod:`.upstream`): an upstream of app servers.

Chapters 1, 3 and 5 serve the learner's site with :mod:`.site`; chapters 2 and 4 reuse the
deck demo's own pieces (:mod:`~cyoa.demos.automation`, :mod:`~cyoa.demos.security`,
:mod:`~cyoa.demos.traction`), fed with the learner's files instead of the deck's.
"""

from cyoa.demos.lab.actives import check_traction, traction
from cyoa.demos.lab.backups import backup_and_restore, check_backup_and_restore
from cyoa.demos.lab.deploying import check_deploy, deploy
from cyoa.demos.lab.frame import LAB_MIME, LabInputError, LabResult
from cyoa.demos.lab.hardening import check_harden_ssh, harden_ssh
from cyoa.demos.lab.invitations import check_invitations, invitations
from cyoa.demos.lab.launching import check_launch, launch
from cyoa.demos.lab.queues import background, check_background
from cyoa.demos.lab.timeouts import check_slow_report, slow_report
from cyoa.demos.lab.upstream import check_share_out, share_out

__all__ = [
    "LAB_MIME",
    "LabInputError",
    "LabResult",
    "background",
    "backup_and_restore",
    "check_background",
    "check_backup_and_restore",
    "check_deploy",
    "check_harden_ssh",
    "check_invitations",
    "check_launch",
    "check_share_out",
    "check_slow_report",
    "check_traction",
    "deploy",
    "harden_ssh",
    "invitations",
    "launch",
    "share_out",
    "slow_report",
    "traction",
]
