"""Basic server hardening, written and checked inside the scratch directory only.

Demo ``security``: Ada's own account in the ``sudo`` group, with a password for sudo
(``useradd --prefix``: the scratch dir's own /etc/passwd), Debian's sudoers rule checked with
``visudo -c``, an ed25519 key pair, an
``sshd_config`` without root login or passwords checked with ``sshd -t``, then that sshd
running on a loopback port (in a private mount namespace where the pretend server's
/etc/passwd and /home stand in for the machine's) refusing root and passwords and letting
Ada's key in (her password, though right, is never even asked for), a fail2ban jail
checked and tried on sample log lines, and unattended-upgrades' settings read back by
apt. The machine's real configuration is never read for writing, never changed.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from cyoa.demos import processes
from cyoa.demos.runner import Run, demo

SUDOERS = """\
# Debian's own rule: members of the sudo group may run any command, with their password.
%sudo ALL=(ALL:ALL) ALL
"""
SUDOERS_TYPO = "%sudo ALL=(ALL:ALL ALL\n"
#: Ada's password: for sudo only; sshd must refuse it for logins.
PASSWORD = "correct horse battery staple"  # noqa: S105
SSHD_CONFIG = """\
# Only keys, never passwords; nobody logs in as root.
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
# The demo's own: a free loopback port, and its files in the scratch directory.
ListenAddress 127.0.0.1
Port {port}
HostKey {etc}/ssh/ssh_host_ed25519_key
PidFile {etc}/sshd.pid
"""
#: The system users a Debian server has before we add ours (sshd: privilege separation).
BASE_PASSWD = "root:x:0:0:root:/root:/bin/bash\nsshd:x:108:65534::/run/sshd:/usr/sbin/nologin\n"  # noqa: S105
BASE_GROUP = "root:x:0:\nsudo:x:27:\nnogroup:x:65534:\n"
#: Inside a private mount namespace: the pretend server's users and homes replace the
#: machine's, and /run/sshd exists; the machine's own files are never changed.
PRIVATE_MOUNTS = (
    "mount -t tmpfs tmpfs /run && mkdir -m 755 /run/sshd"
    ' && for f in passwd group shadow; do mount --bind "$ROOT/etc/$f" /etc/$f; done'
    ' && mount --bind "$ROOT/home" /home && mount --bind "$ROOT/root" /root && exec "$@"'
)
JAIL = """\
[DEFAULT]
bantime  = 1h
findtime = 10m
maxretry = 5

[sshd]
enabled = true
port    = ssh
logpath = {log}
backend = auto
"""
AUTO_UPGRADES = 'APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n'
AUTH_LOG = "".join(
    f"Nov 28 03:1{n}:0{n} web1 sshd[20{n}]: Failed password for root from 203.0.113.7"
    f" port 5{n}022 ssh2\n"
    for n in range(6)
)


def users_and_sudo(run: Run, root: Path) -> None:
    """groupadd / useradd against the scratch dir's /etc, then the sudoers rule."""
    etc = add_ada(run, root)
    visudo = run.need("visudo", ["visudo -c -f /etc/sudoers"])
    rule = run.write(etc / "sudoers", SUDOERS, mode=0o440)
    run.fact("sudoers_ok", run.sh([visudo, "-c", "-f", rule], check=False).returncode == 0)
    typo = run.write(etc / "sudoers.d" / "typo", SUDOERS_TYPO, mode=0o440)
    rejected = run.sh([visudo, "-c", "-f", typo], check=False).returncode != 0
    run.fact("typo_rejected", rejected, "visudo refuses a broken rule (why you use visudo)")


def add_ada(run: Run, root: Path) -> Path:
    """The pretend server's /etc with Ada in it (in the sudo group, with a password)."""
    etc = root / "etc"
    etc.mkdir(parents=True)
    (etc / "passwd").write_text(BASE_PASSWD)
    (etc / "group").write_text(BASE_GROUP)
    (etc / "shadow").write_text("root:*:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\n")
    (etc / "gshadow").write_text("root:*::\nsudo:*::\nnogroup:*::\n")
    prefix = ["--prefix", str(root)]
    useradd = run.need("useradd", ["useradd --create-home --groups sudo ada"])
    openssl = run.need("openssl", ["openssl passwd -6"])
    hashed = run.sh([openssl, "passwd", "-6", PASSWORD], show_output=False).stdout.strip()
    run.say(f"Ada's password (for sudo only): {PASSWORD!r}, stored hashed, as passwd ada does")
    argv = [useradd, *prefix, "--create-home", "--shell", "/bin/bash", "--groups", "sudo"]
    run.sh([*argv, "-p", hashed, "ada"], show_output=False)
    passwd = (etc / "passwd").read_text()
    run.show(passwd.strip().splitlines()[-1])
    groups = (etc / "group").read_text()
    run.show(next(line for line in groups.splitlines() if line.startswith("sudo:")))
    run.fact("user_created", "ada:" in passwd, "user ada in $SCRATCH/etc/passwd")
    run.fact("in_sudo_group", "sudo:x:27:ada" in groups, "ada in the sudo group")
    return etc


def keys_and_sshd(run: Run, root: Path) -> None:
    """A key pair for Ada, a host key, an sshd_config checked by sshd -t, then a
    real sshd on a loopback port and three logins: root, a password, the key."""
    key = key_pair(run, root)
    host_key = make_host_key(run, root)
    port = processes.free_port()
    etc = root / "etc"
    config = run.write(etc / "ssh" / "sshd_config", SSHD_CONFIG.format(etc=etc, port=port))
    sshd = run.need("sshd", [f"sshd -t -f {config}"])
    if os.geteuid() != 0:
        run.fact("sshd_config_ok", run.sh([sshd, "-t", "-f", config], check=False).returncode == 0)
        run.say("(logging in needs sshd running as root: run this demo as root to see it)")
        return
    private, env = private_mounts(run, root)
    check = run.sh([*private, sshd, "-t", "-f", config], check=False, env=env)
    run.fact("sshd_config_ok", check.returncode == 0, "sshd -t")
    effective_settings(run, [*private, sshd, "-T", "-f", config], env)
    run.step("A real sshd on a loopback port, and three tries at logging in")
    server = run.start("sshd", [*private, sshd, "-D", "-e", "-f", config], port=port, env=env)
    try_logins(run, key, port, host_key)
    show_sshd_log(run, server)


def key_pair(run: Run, root: Path) -> Path:
    """Ada's ed25519 key pair on the laptop, its public half in her authorized_keys (and,
    to be fair to the attacker, in root's); returns the private key's path."""
    keygen = run.need("ssh-keygen", ["ssh-keygen -t ed25519 -f ~/.ssh/id_ed25519"])
    laptop = root.parent / "laptop" / ".ssh"
    laptop.mkdir(parents=True)
    key = laptop / "id_ed25519"
    run.sh([keygen, "-q", "-t", "ed25519", "-N", "", "-C", "ada@laptop", "-f", key])
    fingerprint = run.sh([keygen, "-l", "-f", f"{key}.pub"]).stdout.split()
    run.fact("key_type", fingerprint[-1].strip("()"), "key pair")
    uid, gid = _ids(root, "ada")
    ssh_dir = root / "home" / "ada" / ".ssh"
    authorized = _authorize(key, ssh_dir, uid, gid)
    run.say(f"public key copied to {run.short(str(authorized))} (mode 600, owned by ada)")
    # The attacker's best case: root's authorized_keys holds the very same key.
    _authorize(key, root / "root" / ".ssh", 0, 0)
    run.say("…and, to be fair to the attacker, to root's authorized_keys too")
    return key


def make_host_key(run: Run, root: Path) -> Path:
    """The server's own ed25519 host key, in the pretend server's /etc/ssh."""
    keygen = run.need("ssh-keygen", ["ssh-keygen -A"])
    (root / "etc" / "ssh").mkdir(exist_ok=True)
    host_key = root / "etc" / "ssh" / "ssh_host_ed25519_key"
    run.sh([keygen, "-q", "-t", "ed25519", "-N", "", "-f", host_key])
    return host_key


def private_mounts(run: Run, root: Path) -> tuple[list[str], dict[str, str]]:
    """The argv prefix (and its environment) that runs a command in a private mount
    namespace where the pretend server's users and homes stand in for the machine's."""
    unshare = run.need("unshare", ["sshd -D -e"])
    private = [unshare, "-m", "--propagation", "private", "sh", "-c", PRIVATE_MOUNTS, "sh"]
    return private, {**os.environ, "ROOT": str(root)}


def effective_settings(run: Run, sshd_t: list, env: dict[str, str]) -> None:
    """``sshd -T``: the settings sshd will really use, root login and passwords as facts."""
    settings = run.sh(sshd_t, show_output=False, env=env).stdout
    wanted = {"permitrootlogin", "passwordauthentication"}
    for line in (line for line in settings.splitlines() if line.split(" ")[0] in wanted):
        key_name, value = line.split(" ", 1)
        run.fact(key_name, value, f"sshd -T: {key_name}")


def try_logins(run: Run, key: Path, port: int, host_key: Path) -> dict[str, str]:
    """Three tries from the laptop: root with the key, Ada with her (right) password, Ada
    with her key. Each recorded as a fact: the user it got in as, or ``refused``."""
    laptop = key.parent
    known = laptop / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {(host_key.with_suffix('.pub')).read_text()}")
    run.say(f"the server's host key, checked against {run.short(str(known))}")
    ssh = [run.need("ssh", ["ssh -i ~/.ssh/id_ed25519 ada@server"]), "-F", "none"]
    ssh += ["-p", str(port), "-o", f"UserKnownHostsFile={known}"]
    ssh += ["-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR"]
    with_key = [*ssh, "-o", "BatchMode=yes", "-i", key, "-o", "IdentitiesOnly=yes"]
    # The right password, ready to be typed (by SSH_ASKPASS) if the server ever asks.
    askpass = run.write(laptop / "askpass", f"#!/bin/sh\necho '{PASSWORD}'\n", mode=0o700)
    typed = {**os.environ, "SSH_ASKPASS": str(askpass), "SSH_ASKPASS_REQUIRE": "force"}
    no_key = [*ssh, "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1"]
    no_key += ["-o", "PreferredAuthentications=password,keyboard-interactive"]
    tries = {
        "root_login": ([*with_key, "root@127.0.0.1", "id -un"], None),
        "password_login": ([*no_key, "ada@127.0.0.1", "id -un"], typed),
        "key_login": ([*with_key, "ada@127.0.0.1", "id -un"], None),
    }
    for fact, (argv, argv_env) in tries.items():
        done = run.sh(argv, check=False, timeout=20, env=argv_env)
        who = done.stdout.strip() if done.returncode == 0 else "refused"
        run.fact(fact, who, fact.replace("_", " "))
    return {fact: run.result.facts[fact] for fact in tries}


def show_sshd_log(run: Run, server: processes.Service) -> None:
    """What sshd logged about the logins (accepted, failed, root refused)."""
    log = server.log_tail(40)
    said = [line for line in log.splitlines() if re.search(r"ROOT LOGIN|Accepted|Failed", line)]
    said = [line for line in said if "[preauth]" not in line]
    run.say("sshd's log:")
    run.show(run.short("\n".join(said)))


def _ids(root: Path, user: str) -> tuple[int, int]:
    """The uid and gid ``useradd`` gave ``user`` in the pretend server's /etc/passwd."""
    for line in (root / "etc" / "passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == user:
            return int(fields[2]), int(fields[3])
    raise LookupError(user)


def _authorize(key: Path, ssh_dir: Path, uid: int, gid: int) -> Path:
    """``install -m 600 -o user key.pub ~user/.ssh/authorized_keys``, as ssh-copy-id does."""
    ssh_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    authorized = ssh_dir / "authorized_keys"
    shutil.copy(f"{key}.pub", authorized)
    authorized.chmod(0o600)
    for path in (ssh_dir.parent, ssh_dir, authorized):
        if os.geteuid() == 0:
            os.chown(path, uid, gid)
    return authorized


def fail2ban(run: Run, root: Path) -> None:
    """A jail for sshd, checked by fail2ban-client, tried on sample failed logins."""
    client = run.need("fail2ban-client", ["fail2ban-client -t"])
    regex = run.need("fail2ban-regex", ["fail2ban-regex /var/log/auth.log sshd"])
    conf = root / "etc" / "fail2ban"
    shutil.copytree("/etc/fail2ban", conf)  # a copy: the machine's own is only read
    log = run.write(root / "var" / "log" / "auth.log", AUTH_LOG)
    run.write(conf / "jail.local", JAIL.format(log=log))
    run.fact("jail_ok", run.sh([client, "-c", conf, "-t"], check=False).returncode == 0)
    out = run.sh([regex, log, conf / "filter.d" / "sshd.conf"], show_output=False).stdout
    matched = next(line for line in out.splitlines() if line.startswith("Lines:"))
    run.show(matched)
    count = int(re.search(r"(\d+) matched", matched).group(1))  # type: ignore[union-attr]
    run.fact("failed_logins_matched", count, "failed logins fail2ban would count")


def unattended_upgrades(run: Run, root: Path) -> None:
    """20auto-upgrades written, then read back by apt's own parser."""
    apt_config = run.need("apt-config", ["apt-config dump"])
    conf = run.write(root / "etc" / "apt" / "apt.conf.d" / "20auto-upgrades", AUTO_UPGRADES)
    dump = run.sh([apt_config, "-c", conf, "dump"], show_output=False).stdout
    periodic = [line for line in dump.splitlines() if line.startswith("APT::Periodic::")]
    run.show("\n".join(periodic))
    run.fact("auto_upgrades", 'APT::Periodic::Unattended-Upgrade "1";' in periodic)


@demo("security", "Security basics: our own logins, keys only, fail2ban, automatic updates")
def security_demo(run: Run) -> None:
    """Every file in ``$SCRATCH/server`` (a pretend /), each checked by the real tool."""
    root = run.scratch / "server"
    run.step("An account per person, in the sudo group (never root logins again)")
    users_and_sudo(run, root)
    run.step("SSH: an ed25519 key pair, and sshd with root login and passwords off")
    (root / "root").mkdir(mode=0o700)
    keys_and_sshd(run, root)
    run.step("fail2ban: ban addresses that keep failing to log in")
    fail2ban(run, root)
    run.step("unattended-upgrades: install security updates by themselves")
    unattended_upgrades(run, root)
