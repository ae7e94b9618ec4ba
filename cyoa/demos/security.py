"""Basic server hardening, written and checked inside the scratch directory only.

Demo ``security``: a ``deployer`` user and group (``useradd --prefix``: the scratch dir's own
/etc/passwd), a sudoers rule checked with ``visudo -c``, an ed25519 key pair, an
``sshd_config`` without root login or passwords checked with ``sshd -t``, a fail2ban jail
checked and tried on sample log lines, and unattended-upgrades' settings read back by
apt. The machine's real configuration is never read for writing, never changed.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from cyoa.demos.runner import Run, demo

SUDOERS = """\
# Members of the deployers group may run any command with sudo.
%deployers ALL=(ALL:ALL) ALL
"""
SUDOERS_TYPO = "%deployers ALL=(ALL:ALL ALL\n"
SSHD_CONFIG = """\
# Only keys, never passwords; nobody logs in as root.
ListenAddress 127.0.0.1
HostKey {etc}/ssh/ssh_host_ed25519_key
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AllowGroups deployers
PidFile {etc}/sshd.pid
"""
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
    f"Nov 28 03:1{n}:0{n} dachshund sshd[20{n}]: Failed password for root from 203.0.113.7"
    f" port 5{n}022 ssh2\n"
    for n in range(6)
)


def users_and_sudo(run: Run, root: Path) -> None:
    """groupadd / useradd against the scratch dir's /etc, then the sudoers rule."""
    etc = root / "etc"
    etc.mkdir(parents=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (etc / "group").write_text("root:x:0:\n")
    (etc / "shadow").write_text("root:*:19000:0:99999:7:::\n")
    (etc / "gshadow").write_text("root:*::\n")
    prefix = ["--prefix", str(root)]
    groupadd = run.need("groupadd", ["groupadd deployers"])
    useradd = run.need("useradd", ["useradd -m -g deployers -s /bin/bash deployer"])
    run.sh([groupadd, *prefix, "deployers"])
    run.sh([useradd, *prefix, "-m", "-g", "deployers", "-s", "/bin/bash", "deployer"])
    passwd = (etc / "passwd").read_text()
    run.show(passwd.strip().splitlines()[-1])
    run.fact("deployer_created", "deployer:" in passwd, "user deployer in $SCRATCH/etc/passwd")
    visudo = run.need("visudo", ["visudo -c -f /etc/sudoers.d/deployers"])
    rule = run.write(etc / "sudoers.d" / "deployers", SUDOERS, mode=0o440)
    run.fact("sudoers_ok", run.sh([visudo, "-c", "-f", rule], check=False).returncode == 0)
    typo = run.write(etc / "sudoers.d" / "typo", SUDOERS_TYPO, mode=0o440)
    rejected = run.sh([visudo, "-c", "-f", typo], check=False).returncode != 0
    run.fact("typo_rejected", rejected, "visudo refuses a broken rule (why you use visudo)")


def keys_and_sshd(run: Run, root: Path) -> None:
    """A key pair for the deployer, a host key, and an sshd_config checked by sshd -t."""
    keygen = run.need("ssh-keygen", ["ssh-keygen -t ed25519 -f ~/.ssh/id_ed25519"])
    laptop = root / "laptop" / ".ssh"
    laptop.mkdir(parents=True)
    key = laptop / "id_ed25519"
    run.sh([keygen, "-q", "-t", "ed25519", "-N", "", "-C", "deployer@laptop", "-f", key])
    fingerprint = run.sh([keygen, "-l", "-f", f"{key}.pub"]).stdout.split()
    run.fact("key_type", fingerprint[-1].strip("()"), "key pair")
    ssh_dir = root / "home" / "deployer" / ".ssh"
    ssh_dir.mkdir(parents=True, exist_ok=True)
    authorized = ssh_dir / "authorized_keys"
    shutil.copy(f"{key}.pub", authorized)
    authorized.chmod(0o600)
    run.say(f"public key copied to {run.short(str(authorized))}")
    etc = root / "etc"
    (etc / "ssh").mkdir(exist_ok=True)
    host_key = etc / "ssh" / "ssh_host_ed25519_key"
    run.sh([keygen, "-q", "-t", "ed25519", "-N", "", "-f", host_key])
    config = run.write(etc / "ssh" / "sshd_config", SSHD_CONFIG.format(etc=etc))
    sshd = run.need("sshd", [f"sshd -t -f {config}"])
    check = [sshd, "-t", "-f", str(config)]
    effective = [sshd, "-T", "-f", str(config)]
    if os.geteuid() == 0 and not Path("/run/sshd").is_dir():
        # sshd insists on /run/sshd; give it a private one (a mount namespace) rather
        # than create it on the machine.
        unshare = run.need("unshare", [" ".join(check)])
        private = 'mount -t tmpfs tmpfs /run && mkdir -m 755 /run/sshd && exec "$@"'
        wrap = [unshare, "-m", "--propagation", "private", "sh", "-c", private, "sh"]
        check, effective = [*wrap, *check], [*wrap, *effective]
    run.fact("sshd_config_ok", run.sh(check, check=False).returncode == 0, "sshd -t")
    settings = run.sh(effective, show_output=False, check=False).stdout.splitlines()
    wanted = {"permitrootlogin", "passwordauthentication"}
    for line in (line for line in settings if line.split(" ")[0] in wanted):
        key_name, value = line.split(" ", 1)
        run.fact(key_name, value, f"sshd -T: {key_name}")


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


@demo("security", "Security basics: a deployer, keys only, fail2ban, automatic updates")
def security_demo(run: Run) -> None:
    """Every file in ``$SCRATCH/root`` (a pretend /), each checked by the real tool."""
    root = run.scratch / "root"
    run.step("A deployer user and group, with sudo (never root logins again)")
    users_and_sudo(run, root)
    run.step("SSH: an ed25519 key pair, and sshd with root login and passwords off")
    keys_and_sshd(run, root)
    run.step("fail2ban: ban addresses that keep failing to log in")
    fail2ban(run, root)
    run.step("unattended-upgrades: install security updates by themselves")
    unattended_upgrades(run, root)
