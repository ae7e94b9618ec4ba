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
@click.option("--threads", type=int, default=4, show_default=True, help="Threads per worker.")
@click.option("--state-dir", help="Where the embedded Redis keeps its data (CYOA_STATE_DIR).")
def serve(
    host: str | None, port: int | None, workers: int | None, threads: int, state_dir: str | None
) -> None:
    """Run the vote server with a production WSGI server until Ctrl-C."""
    from voteserver.serve import serve as run

    config = load_config({"host": host, "port": port, "workers": workers, "state_dir": state_dir})
    run(config, threads=threads)


commands: list[click.Command] = [serve]
