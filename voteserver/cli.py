"""The vote server's commands: ``cyoa serve`` (and the rehearsal helpers)."""

from __future__ import annotations

import click

from cyoa.voteserver.settings import load_config
from cyoa.voteserver.settings_doc import help_text

SETTINGS_HELP = help_text()


@click.command(epilog=SETTINGS_HELP)
@click.option("--host", help="Address to listen on (CYOA_HOST). 0.0.0.0 for the whole LAN.")
@click.option("--port", type=int, help="Port to listen on (CYOA_PORT).")
@click.option("--workers", type=int, help="Worker processes (CYOA_WORKERS).")
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    help="Threads per worker that run the app [2] (slow clients never hold one).",
)
@click.option("--state-dir", help="Where the embedded Redis keeps its data (CYOA_STATE_DIR).")
def serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    threads: int | None,
    state_dir: str | None,
) -> None:
    """Run the vote server under granian until Ctrl-C; stalled clients hold no thread."""
    from cyoa.voteserver.serve import CannotStart
    from cyoa.voteserver.serve import serve as run

    config = load_config({"host": host, "port": port, "workers": workers, "state_dir": state_dir})
    try:
        run(config, threads=threads)
    except CannotStart as error:
        raise click.ClickException(str(error)) from None


@click.command("sms")
@click.argument("body")
@click.option("--to", "url", required=True, help="The vote server (base URL or its /sms URL).")
@click.option("--from", "sender", default="+15555550100", show_default=True, help="Phone number.")
@click.option(
    "--token",
    envvar="TWILIO_AUTH_TOKEN",
    default="",
    help="Key to sign with: the server's TWILIO_AUTH_TOKEN or its SMS rehearsal key. "
    "Empty: the rehearsal key in the state dir.",
)
@click.option("--sid", default="", help="MessageSid (default: a new one). Repeat it to test.")
@click.option("--sign-url", default="", help="URL to sign, when it differs (CYOA_PUBLIC_URL).")
@click.option(
    "--state-dir", envvar="CYOA_STATE_DIR", default="", help="The server's state dir (its key)."
)
def sms(
    body: str, url: str, sender: str, token: str, sid: str, sign_url: str, state_dir: str
) -> None:
    """Send BODY as a correctly signed fake Twilio text message; print the reply.

    Without a token it signs with the SMS rehearsal key that the vote server keeps in its
    state directory, so it works against `cyoa serve`/`cyoa present` on this machine.
    """
    import requests

    from cyoa.voteserver.rehearse import send_sms, signing_key, unreachable

    key = signing_key(token, state_dir)
    try:
        reply = send_sms(url, body, sender, key.key, sid=sid, sign_url=sign_url)
    except requests.RequestException as error:
        raise click.ClickException(unreachable(url, error)) from None
    if reply.status == 403:
        how = f"signed with {key.origin}" if key.key else f"unsigned ({key.origin})"
        raise click.ClickException(
            f"the server refused the signature (403): {reply.text}\nThis text was {how}."
        )
    if reply.status != 200:
        raise click.ClickException(f"the server answered {reply.status}: {reply.text}")
    click.echo(reply.text or "(no reply)")


@click.command()
@click.option("--url", required=True, help="The vote server's base URL.")
@click.option("--voters", type=click.IntRange(1, 100_000), default=40, show_default=True)
@click.option("--sms-share", type=click.FloatRange(0, 1), default=0.3, show_default=True)
@click.option("--change-share", type=click.FloatRange(0, 1), default=0.1, show_default=True)
@click.option("--seed", type=int, default=None, help="Make the crowd reproducible.")
@click.option("--threads", type=click.IntRange(1, 256), default=16, show_default=True)
@click.option(
    "--token",
    envvar="TWILIO_AUTH_TOKEN",
    default="",
    help="Key to sign texts with (as cyoa sms). Empty: the state dir's rehearsal key.",
)
@click.option("--sign-url", default="", help="URL to sign SMS for, when it differs.")
@click.option(
    "--state-dir", envvar="CYOA_STATE_DIR", default="", help="The server's state dir (its key)."
)
def rehearse(
    url: str,
    voters: int,
    sms_share: float,
    change_share: float,
    seed: int | None,
    threads: int,
    token: str,
    sign_url: str,
    state_dir: str,
) -> None:
    """Simulate an audience (web and SMS) voting on the open poll; print a summary."""
    from cyoa.voteserver.rehearse import RehearsalError, signing_key
    from cyoa.voteserver.rehearse import rehearse as run

    token = signing_key(token, state_dir).key

    try:
        summary = run(
            url,
            voters,
            sms_share=sms_share,
            seed=seed,
            token=token,
            change_share=change_share,
            threads=threads,
            sign_url=sign_url,
        )
    except RehearsalError as error:
        raise click.ClickException(str(error)) from None
    click.echo("\n".join(summary.lines()))


commands: list[click.Command] = [serve, sms, rehearse]
