"""``cyoa present``: every process a talk needs, started in order and stopped together.

The vote server (``cyoa serve`` on all interfaces, which brings the embedded Redis unless
``REDIS_URL`` is set) and Voilà serving the deck and the presenter view, with a pre-heated
kernel per notebook so the first slide appears fast. Every child gets a marker in its
environment (``CYOA_PRESENT_ID``), so stopping can find and end even the processes its
children started (kernels, redis-server) and nothing is left running. A lock file in the
state directory stops a second run from fighting over the ports.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

from cyoa.addresses import audience_report
from cyoa.deck.processes import Children

NOTEBOOKS = ("present.ipynb", "presenter.ipynb")
TEMPLATES = Path(__file__).resolve().parent / "deck" / "static" / "jupyter"
FIRST_SLIDE_WAIT = 90.0  # seconds; a first start on a busy 2-core laptop takes ~15
ALL = "0.0.0.0"  # noqa: S104 (the vote server listens on the LAN: phones must reach it)


class PresentError(Exception):
    """A reason ``cyoa present`` cannot start, worded for the presenter."""


@dataclass
class Settings:
    story: Path
    state_dir: Path
    port: int = 8000
    deck_port: int = 0
    from_scene: str = ""
    new_talk: bool = False
    resume: bool = False  # go on with the current talk however long ago it last moved
    rehearse: bool = False  # a rehearsal talk: never resumed as, nor mixed with, the live one
    resume_within: float = 30 * 60  # seconds: a restart after a crash is back well within
    theme: str = "dark"
    watch: bool = False  # the deck reloads the story on every save (cyoa/deck/reload.py)
    open_browser: bool = True
    redis_url: str = ""
    public_url: str = ""
    sms_number: str = ""
    token: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)


def notebook_dir() -> Path:
    """The shipped notebooks (``cyoa.notebooks``): the wheel's, or the checkout's own."""
    from cyoa.shipped import notebook_folder

    return notebook_folder()


def check_voila() -> None:
    """Voilà is installed, and its lab template still holds what the deck's template removes."""
    from importlib.util import find_spec

    if find_spec("voila") is None:
        raise PresentError(
            "cyoa present needs the deck extra (Voilà): pip install 'cyoa[deck]' "
            "(or pipx install 'cyoa[deck]')"
        )
    from cyoa.deck.template import TemplateChanged, check_lab_template

    try:
        check_lab_template()
    except TemplateChanged as error:
        raise PresentError(str(error)) from None


def voila_changed(log: Path, offset: int) -> str:
    """The error of cyoa.deck.kernels saying Voilà's pool changed, if this run logged one."""
    with contextlib.suppress(OSError), log.open("rb") as file:
        file.seek(offset)
        for line in file.read().decode(errors="replace").splitlines():
            if "VoilaChanged:" in line:
                return line.strip()
    return ""


def port_free(port: int, host: str = ALL) -> bool:
    return not port_problem(port, host)


def port_problem(port: int, host: str = ALL) -> str:
    """Why a server could not listen on ``host:port`` now ("" if it could)."""
    if not 1 <= port <= 65535:
        return "is not a port (1-65535)"
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except PermissionError:
            return "needs privileges this user lacks (ports below 1024 do)"
        except OSError as error:
            return "is in use" if error.errno == errno.EADDRINUSE else f"is refused ({error})"
    return ""


def check_ports(settings: Settings) -> None:
    """Both ports free, where each server will listen: said before anything starts."""
    wanted = [
        (settings.port, ALL, "the vote server", "--port"),
        (settings.deck_port, "127.0.0.1", "the deck, Voilà", "--deck-port"),
    ]
    if settings.port == settings.deck_port:
        raise PresentError(f"--port and --deck-port are both {settings.port}: they must differ")
    for port, host, what, option in sorted(wanted, key=lambda w: 1 <= w[0] <= 65535):
        problem = port_problem(port, host)  # a number that is no port is said first
        if problem:
            raise PresentError(f"port {port} ({what}) {problem}: choose another with {option}")


@contextlib.contextmanager
def single_run(state_dir: Path) -> Iterator[Path]:
    """Hold ``present.lock`` for the life of this run; refuse when another run holds it."""
    state_dir.mkdir(parents=True, exist_ok=True)
    info = state_dir / "present.json"
    handle = open(state_dir / "present.lock", "a+")  # noqa: SIM115 (held until the end)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        try:
            running = json.loads(info.read_text())
        except (OSError, ValueError):
            running = {}
        raise PresentError(
            f"cyoa present is already running (pid {running.get('pid', '?')}) with this state "
            f"directory; its deck is at {running.get('deck_url', '?')}. Stop it with Ctrl-C, "
            "or use another --state-dir."
        ) from None
    try:
        yield info
    finally:
        info.unlink(missing_ok=True)
        handle.close()


def progress(message: str) -> None:
    """One line of what start-up is doing (stderr), so a slow start is never a silent one."""
    print(f"cyoa present: {message}", file=sys.stderr, flush=True)


def wait_http(
    url: str, process: subprocess.Popen, timeout: float, what: str, children: Children, name: str
) -> None:
    """Until ``url`` answers; a PresentError if the child exits or the guard runs out.

    Each turn notes what the children have started (a Redis, a kernel), so that giving up
    can stop those too (cyoa/deck/processes.py).
    """
    deadline = time.monotonic() + timeout
    tail = lambda: children.log_tail(name)  # noqa: E731
    while time.monotonic() < deadline:
        children.remember()
        if process.poll() is not None:
            raise PresentError(f"{what} exited with {process.returncode}:\n{tail()}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=1).status_code < 500:
                return
        time.sleep(0.1)
    raise PresentError(f"{what} did not answer at {url} within {timeout:.0f} s:\n{tail()}")


def plan_talk(state: dict, story: str, settings: Settings, now: float) -> tuple[bool, str]:
    """Resume the current talk, or start a new one? With the reason, said to the presenter.

    A rehearsal never becomes the live talk (nor the other way round). A live talk resumes
    after a crash or a restart, but not the morning after: one that has not moved for
    ``resume_within`` seconds is left alone unless ``--resume`` asks for it.
    """
    talk = state.get("talk", "?")
    kind = "rehearsal" if settings.rehearse else "live talk"
    if settings.new_talk:
        return True, f"a new {kind} (--new-talk)"
    if state.get("story") != story or not state.get("scene"):
        return True, f"a new {kind}"
    if bool(state.get("rehearsal")) != settings.rehearse:
        if settings.resume:
            raise PresentError(
                f"the current talk {talk} is "
                + ("a rehearsal" if state.get("rehearsal") else "the live talk")
                + ", and a rehearsal never becomes the live talk (nor the other way round): "
                "drop --resume to start a new one, or "
                + ("add" if state.get("rehearsal") else "drop")
                + " --rehearse to go on with it."
            )
        was = "a rehearsal" if state.get("rehearsal") else "the live talk"
        return True, (
            f"a new {kind}: the last talk ({talk}) was {was}; "
            f"its votes stay apart (cyoa results --talk {talk})"
        )
    idle = now - float(state.get("updated") or 0)
    ago = f"{idle / 3600:.1f} h" if idle >= 3600 else f"{max(idle, 0) / 60:.0f} min"
    if settings.resume:
        return False, f"resuming {talk} (--resume; last move {ago} ago)"
    if idle > settings.resume_within:
        return True, (
            f"a new {kind}: the last one ({talk}) last moved {ago} ago (--resume to go on with it)"
        )
    return False, f"resuming {talk}, last move {ago} ago (--new-talk to start over)"


def prepare_talk(vote_url: str, token: str, settings: Settings) -> dict:
    """Resume the current talk of this story, or start a new one; apply ``--from``.

    The answer is the talk's state plus ``why``: what was decided and why, for the presenter.
    """
    from cyoa.deck.client import VoteClient
    from cyoa.deck.deck import load_story
    from cyoa.story.problems import StoryError

    try:
        story = load_story(settings.story)
    except StoryError as error:  # the talk needs the story's name and first scene
        why = f"the story does not load (cyoa check {settings.story}):\n{error}"
        raise PresentError(why) from None
    client = VoteClient(vote_url, token, timeout=5)
    state = client.state()
    if state is None:
        raise PresentError(f"the vote server at {vote_url} refused the presenter token")
    fresh, why = plan_talk(state, story.name, settings, time.time())
    if fresh:
        started = client.start_talk(story.name, rehearsal=settings.rehearse)
        if started is None:
            raise PresentError(f"the vote server at {vote_url} did not start a new talk")
    if settings.from_scene:
        if settings.from_scene not in story.by_id:
            raise PresentError(f"no scene {settings.from_scene!r} in story {story.name!r}")
        state = client.put_state(settings.from_scene, [settings.from_scene], story.name)
    elif fresh:
        state = client.put_state(story.start, [story.start], story.name)
    return {**(state or {}), "why": why}


def voila_argv(root: Path, settings: Settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "voila",
        str(root),
        "--no-browser",
        f"--port={settings.deck_port}",
        "--Voila.ip=127.0.0.1",
        "--Voila.port_retries=0",
        "--template=cyoa",  # lab without its CDN link: see static/jupyter/voila/templates
        f"--theme={'dark' if settings.theme == 'dark' else 'light'}",
        "--preheat_kernel=True",
        "--pool_size=1",
        # a pre-heated kernel that dies is replaced, never served blank: see cyoa/deck/kernels.py
        "--VoilaConfiguration.multi_kernel_manager_class=cyoa.deck.kernels.FreshPoolKernelManager",
        "--KernelRestarter.time_to_dead=0.5",  # notice a dead kernel in 0.5 s, not 3
        "--show_tracebacks=True",
        # a closed tab's kernel goes idle (its update loop ends) and is shut down after 2 min
        "--MappingKernelManager.cull_idle_timeout=120",
        "--MappingKernelManager.cull_interval=30",
    ]


def start(settings: Settings, children: Children) -> dict[str, str]:
    """Start the vote server and Voilà; return the URLs to print."""
    from cyoa.voteserver.settings import persistent_secret

    check_ports(settings)
    source = notebook_dir()
    if not all((source / name).is_file() for name in NOTEBOOKS):
        raise PresentError(f"the deck's notebooks are missing from {source}")
    check_voila()
    token = settings.token or persistent_secret(settings.state_dir, "presenter_token")
    env = {k: v for k, v in os.environ.items() if k != "CYOA_PRESENTER_TOKEN"}
    env.update(settings.extra_env)
    env.update(CYOA_STATE_DIR=str(settings.state_dir), CYOA_PRESENTER_TOKEN=token)
    env["CYOA_STORY"] = str(settings.story)  # the vote server's /story at the talk's end
    if settings.public_url:  # Twilio's signatures and the vote's origin check use it too
        env["CYOA_PUBLIC_URL"] = settings.public_url
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    vote_url = f"http://127.0.0.1:{settings.port}"
    progress(f"starting the vote server on port {settings.port}…")
    server = children.start(
        "voteserver",
        [sys.executable, "-m", "cyoa", "serve", "--host", ALL, "--port", str(settings.port)],
        env,
    )
    wait_http(
        vote_url + "/healthz",
        server,
        90,  # a guard, not a target: a laptop busy with a rehearsal recording can be slow
        "the vote server",
        children,
        "voteserver",
    )
    state = prepare_talk(vote_url, token, settings)
    audience, address_lines = audience_report(settings.port, settings.public_url)
    deck_root = settings.state_dir / "deck"
    deck_root.mkdir(parents=True, exist_ok=True)
    for name in NOTEBOOKS:  # only these two get a pre-heated kernel
        shutil.copyfile(source / name, deck_root / name)
    env.update(
        CYOA_VOTE_URL=vote_url,
        CYOA_AUDIENCE_URL=audience,
        CYOA_SMS_NUMBER=settings.sms_number,
        CYOA_STORY=str(settings.story),
        CYOA_THEME=settings.theme,
        CYOA_WATCH="1" if settings.watch else "",
        JUPYTER_PATH=os.pathsep.join(
            p for p in (str(TEMPLATES), os.environ.get("JUPYTER_PATH", "")) if p
        ),
    )
    ready = deck_root / "ready"
    ready.unlink(missing_ok=True)
    env["CYOA_READY_FILE"] = str(ready)
    progress(f"starting Voilà on port {settings.deck_port}…")
    voila_log = children.logs / "voila.log"  # appended to by every run: read only this one's
    log_start = voila_log.stat().st_size if voila_log.exists() else 0
    voila = children.start("voila", voila_argv(deck_root, settings), env)
    deck_base = f"http://127.0.0.1:{settings.deck_port}"
    wait_http(deck_base + "/voila/static/", voila, 60, "Voilà", children, "voila")
    progress("rendering the first slide in a pre-heated kernel…")
    deadline = time.monotonic() + FIRST_SLIDE_WAIT
    while not ready.exists() and time.monotonic() < deadline and voila.poll() is None:
        children.remember()
        changed = voila_changed(voila_log, log_start)
        if changed:  # not a slow start: this Voilà is not the one the deck was written for
            raise PresentError(changed)
        time.sleep(0.1)
    if not ready.exists():  # the deck still works: its first load renders in a new kernel
        progress(f"the first slide is not pre-rendered yet; see {children.logs / 'voila.log'}")
    return {
        "deck_url": f"{deck_base}/voila/render/present.ipynb",
        "presenter_url": f"{deck_base}/voila/render/presenter.ipynb",
        "audience_url": audience,
        "vote_url": vote_url,
        "scene": str(state.get("scene", "")),
        "talk": str(state.get("talk", "")),
        "why": str(state.get("why", "")),
        "rehearsal": "yes" if state.get("rehearsal") else "",
        "addresses": "\n".join(address_lines),
    }


def announce(urls: dict[str, str], settings: Settings) -> str:
    kind = "REHEARSAL" if urls.get("rehearsal") else "talk"
    lines = [
        f"cyoa present: {kind} {urls['talk']} at scene {urls['scene']!r}",
        f"  ({urls['why']})" if urls.get("why") else "",
        f"  deck (projector): {urls['deck_url']}",
        f"  presenter view:   {urls['presenter_url']}",
        f"  audience URL:     {urls['audience_url']}",
        *([urls["addresses"]] if urls.get("addresses") else []),
    ]
    lines = [line for line in lines if line]
    if settings.sms_number:
        lines.append(f"  SMS number:       {settings.sms_number} (text the option's number)")
    if settings.watch:
        lines.append(f"  watching:         {settings.story} (a save reloads both windows)")
    lines += [
        f"  vote server:      {urls['vote_url']} (state in {settings.state_dir})",
        "Keys: → next · ← back · 1-9 pick · c close vote · o reopen · d demo · ↑↓ scroll demo"
        " · m map · t theme · f fullscreen · ? all keys",
        "Press Ctrl-C to stop everything.",
    ]
    return "\n".join(lines)


def write_info(info: Path, children: Children, urls: dict[str, str]) -> None:
    """What a second run (and a test) needs to know about this one."""
    pids = {name: process.pid for name, process in children.started}
    data = {"pid": os.getpid(), "marker": children.marker, "children": pids, **urls}
    info.write_text(json.dumps(data))


def present(settings: Settings) -> None:
    """Run a talk until Ctrl-C (or SIGTERM); leave no process behind."""
    import webbrowser

    def interrupted(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    with single_run(settings.state_dir) as info:
        children = Children(settings.state_dir / "logs", uuid.uuid4().hex)
        previous = signal.signal(signal.SIGTERM, interrupted)
        # Ctrl-C, even where a launching shell left SIGINT ignored (a background job)
        previous_int = signal.signal(signal.SIGINT, interrupted)
        try:
            urls = start(settings, children)
            write_info(info, children, urls)
            print(announce(urls, settings), flush=True)
            if settings.open_browser:
                webbrowser.open(urls["deck_url"])
            restarts: list[float] = []
            while True:
                time.sleep(0.5)
                for name in children.heal():
                    print(f"cyoa present: {name} exited; restarted it", file=sys.stderr)
                    write_info(info, children, urls)
                    restarts = [t for t in restarts if time.monotonic() - t < 60]
                    restarts.append(time.monotonic())
                if len(restarts) > 5:
                    raise PresentError(
                        "the processes keep exiting; see the logs in " + str(children.logs)
                    )
        except KeyboardInterrupt:
            print("\ncyoa present: stopping…", file=sys.stderr, flush=True)
        finally:
            # A second Ctrl-C while stopping must not cut the stop short and leave a
            # half-stopped run behind: the stop is bounded (Children.stop's grace).
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                children.stop()
            finally:
                signal.signal(signal.SIGTERM, previous)
                signal.signal(signal.SIGINT, previous_int)
