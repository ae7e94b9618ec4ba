"""The vote server's commands: ``cyoa serve`` (and the rehearsal helpers)."""

from __future__ import annotations

import click

from voteserver.settings import SETTINGS, load_config

SETTINGS_HELP = "\b\nEnvironment variables:\n" + "\n".join(
    f"  {s.env:<22} {s.help}" for s in SETTINGS
)


@click.command(epilog=SETTINGS_HELP)
@click.option("--host", help="Address to listen on (CYOA_HOST). 0.0.0.0 for the whole LAN.")
@click.option("--port", type=int, help="Port to listen on (CYOA_PORT).")
@click.option("--workers", type=int, help="Worker processes (CYOA_WORKERS).")
@click.option(
    "--threads", type=click.IntRange(1, 64), help="Threads per worker [granian: 2, gunicorn: 4]."
)
@click.option(
    "--server",
    type=click.Choice(["granian", "gunicorn"]),
    default="granian",
    show_default=True,
    help="WSGI server (granian measured ~2x gunicorn's votes/s: bench/README.md).",
)
@click.option("--state-dir", help="Where the embedded Redis keeps its data (CYOA_STATE_DIR).")
def serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    threads: int | None,
    server: str,
    state_dir: str | None,
) -> None:
    """Run the vote server with a production WSGI server until Ctrl-C."""
    from voteserver.serve import serve as run

    config = load_config({"host": host, "port": port, "workers": workers, "state_dir": state_dir})
    run(config, threads=threads, server=server)


@click.command("sms")
@click.argument("body")
@click.option("--to", "url", required=True, help="The vote server (base URL or its /sms URL).")
@click.option("--from", "sender", default="+15555550100", show_default=True, help="Phone number.")
@click.option(
    "--token",
    envvar="TWILIO_AUTH_TOKEN",
    default="",
    help="Twilio auth token to sign with (TWILIO_AUTH_TOKEN). Empty: unsigned.",
)
@click.option("--sid", default="", help="MessageSid (default: a new one). Repeat it to test.")
@click.option("--sign-url", default="", help="URL to sign, when it differs (CYOA_PUBLIC_URL).")
def sms(body: str, url: str, sender: str, token: str, sid: str, sign_url: str) -> None:
    """Send BODY as a correctly signed fake Twilio text message; print the reply."""
    import requests

    from voteserver.rehearse import send_sms, unreachable

    try:
        reply = send_sms(url, body, sender, token, sid=sid, sign_url=sign_url)
    except requests.RequestException as error:
        raise click.ClickException(unreachable(url, error)) from None
    if reply.status == 403:
        raise click.ClickException(
            "the server refused the signature (403): does --token match its "
            "TWILIO_AUTH_TOKEN, and --sign-url its CYOA_PUBLIC_URL?"
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
@click.option("--token", envvar="TWILIO_AUTH_TOKEN", default="", help="Twilio token for SMS.")
@click.option("--sign-url", default="", help="URL to sign SMS for, when it differs.")
def rehearse(
    url: str,
    voters: int,
    sms_share: float,
    change_share: float,
    seed: int | None,
    threads: int,
    token: str,
    sign_url: str,
) -> None:
    """Simulate an audience (web and SMS) voting on the open poll; print a summary."""
    from voteserver.rehearse import RehearsalError
    from voteserver.rehearse import rehearse as run

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
