"""Settings: one table, documented in the README and in `cyoa serve --help`."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cyoa.cli import main
from voteserver.settings import SETTINGS, load_config, persistent_secret

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_documented_in_the_readme():
    text = README.read_text()
    missing = [s.env for s in SETTINGS if f"`{s.env}`" not in text]
    assert not missing, f"README lacks {missing}"


def test_serve_help_lists_every_environment_variable():
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    assert all(s.env in result.output for s in SETTINGS)


def test_environment_then_flags():
    config = load_config({"port": 9999}, environ={"CYOA_PORT": "8123", "CYOA_WORKERS": "3"})
    assert (config.port, config.workers) == (9999, 3)


def test_generated_secret_is_kept_private_and_stable(tmp_path):
    first = persistent_secret(tmp_path, "secret_key")
    assert persistent_secret(tmp_path, "secret_key") == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
