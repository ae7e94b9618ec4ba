"""Chapter 4 (security): the learner's sshd drop-in on a real sshd, and three logins."""

from __future__ import annotations

import os
import re
from pathlib import Path

from cyoa.demos import processes
from cyoa.demos import security as guard
from cyoa.demos.lab.files import (
    read_source,
)
from cyoa.demos.lab.frame import (
    LabInputError,
    LabResult,
    could_not_start,
    problem,
    unlisted,
    verdict,
)
from cyoa.demos.runner import Run

SSH_GOAL = "root refused, passwords refused, Ada's key lets her in"
#: The pretend server's main sshd_config: the lab's own lines first (the first value sshd
#: reads wins, so no drop-in can move them), then the drop-ins, as Debian and Ubuntu ship it.
SSHD_MAIN = """\
# The lab's own: a free loopback port, and the server's files in the scratch directory.
ListenAddress 127.0.0.1
Port {port}
HostKey {etc}/ssh/ssh_host_ed25519_key
PidFile {etc}/sshd.pid
# As Debian and Ubuntu ship it: the drop-ins first, in name order; the first value wins.
Include {etc}/ssh/sshd_config.d/*.conf
KbdInteractiveAuthentication no
"""
#: What many cloud images ship (cloud-init's ssh_pwauth): passwords back on.
CLOUD_INIT_DROPIN = ("50-cloud-init.conf", "PasswordAuthentication yes\n")
#: Lines that add listeners rather than replace them: the lab picks the address.
SSH_LISTENERS = re.compile(r"^\s*(Port|ListenAddress)\b", re.IGNORECASE | re.MULTILINE)


def dropin_name(source: str | Path) -> str:
    """The drop-in's file name (it decides the order sshd reads it in)."""
    path = Path(source)
    return path.name if path.is_file() else "10-hardening.conf"


def _login_problems(facts: dict, dropin: str) -> list[str]:
    """Why the logins are not what a hardened server allows, as a learner would fix it."""
    problems = []
    ignored = "" if dropin.endswith(".conf") else f" (sshd reads only *.conf: {dropin} is ignored)"
    if facts.get("root_login") != "refused":
        problems.append(
            f"root got in with the key: sshd -T says permitrootlogin {facts['permitrootlogin']}. "
            "The default, prohibit-password (without-password to sshd -T), refuses root's "
            f"password, not root's key: say PermitRootLogin no{ignored}"
        )
    if facts.get("password_login") != "refused":
        problems.append(
            "Ada's password got her in, as it would any bot that guesses it: sshd -T says "
            f"passwordauthentication {facts['passwordauthentication']}. The cloud image's "
            "50-cloud-init.conf says yes, and the first value sshd reads wins: a drop-in that "
            f"sorts before it must say no{ignored}"
        )
    if facts.get("key_login") != "ada":
        problems.append("Ada's key did not let her in: keys are how she logs in now")
    return problems


@unlisted("lab-ssh", "Your sshd drop-in: a real sshd on a loopback port, three logins")
def _harden_ssh(run: Run, dropin: str | Path, check: bool) -> None:
    try:
        text, name = read_source(dropin, "sshd drop-in"), dropin_name(dropin)
        if found := SSH_LISTENERS.search(text):
            raise LabInputError(
                f"drop the {found.group(1)} line: the lab picks a free loopback port, and a "
                f"{found.group(1)} in a drop-in adds a listener, it does not move the first one"
            )
    except LabInputError as error:
        problem(run, str(error))
        return could_not_start(run, check, SSH_GOAL)
    root = run.scratch / "server"
    run.step("The pretend server: Ada's account, her key pair, the host key")
    (root / "root").mkdir(parents=True, mode=0o700)
    etc = guard.add_ada(run, root)
    key = guard.key_pair(run, root)
    host_key = guard.make_host_key(run, root)
    run.step(f"Your drop-in, beside the cloud image's, in {run.short(str(etc))}/ssh/sshd_config.d")
    port = processes.free_port()
    config = run.write(etc / "ssh" / "sshd_config", SSHD_MAIN.format(port=port, etc=etc))
    cloud_name, cloud_text = CLOUD_INIT_DROPIN
    run.write(etc / "ssh" / "sshd_config.d" / cloud_name, cloud_text)
    run.write(etc / "ssh" / "sshd_config.d" / name, text)
    sshd = run.need("sshd", [f"sshd -t -f {run.short(str(config))}"])
    if os.geteuid() != 0:
        problem(run, "logging in needs sshd running as root: run this notebook as root")
        return could_not_start(run, check, SSH_GOAL)
    private, env = guard.private_mounts(run, root)
    tested = run.sh([*private, sshd, "-t", "-f", config], check=False, env=env)
    run.fact("sshd_config_ok", tested.returncode == 0, "sshd -t")
    if tested.returncode != 0:
        said = (tested.stdout + tested.stderr).strip().splitlines() or ["no reason given"]
        problem(run, f"sshd -t rejects the config: {run.short(said[0])}")
        return could_not_start(run, check, SSH_GOAL)
    guard.effective_settings(run, [*private, sshd, "-T", "-f", config], env)
    run.step("A real sshd on a loopback port, and three tries at logging in")
    server = run.start("sshd", [*private, sshd, "-D", "-e", "-f", config], port=port, env=env)
    guard.try_logins(run, key, port, host_key)
    guard.show_sshd_log(run, server)
    if check:
        verdict(run, _login_problems(run.result.facts, name), SSH_GOAL)


def harden_ssh(dropin: str | Path, product: str = "dachshund") -> LabResult:
    """A real sshd with your drop-in (and the cloud image's): root, a password, the key."""
    return _harden_ssh(dropin=dropin, check=False, product=product)


def check_harden_ssh(dropin: str | Path, product: str = "dachshund") -> LabResult:
    """Pass when sshd refuses root and passwords and lets Ada in with her key."""
    return _harden_ssh(dropin=dropin, check=True, product=product)
