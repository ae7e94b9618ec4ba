"""Settings: one table, documented in the README and in `cyoa serve --help`."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cyoa.cli import main
from cyoa.voteserver.settings import SETTINGS, load_config, persistent_secret
from cyoa.voteserver.settings_doc import (
    END,
    START,
    markdown_table,
    readme_table,
    rewrite_readme,
    shown,
)

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_table_is_the_generated_one_defaults_included():
    table = readme_table(README.read_text())
    assert table == markdown_table(), "run: python -m cyoa.voteserver.settings_doc"
    for setting in SETTINGS:
        assert f"| `{setting.env}` | {shown(setting)} | {setting.help} |" in table


def test_the_readme_rewrite_keeps_the_text_around_the_table():
    text = f"before\n{START}| stale |\n{END}\nafter\n"
    assert rewrite_readme(text) == f"before\n{START}{markdown_table()}{END}\nafter\n"


def test_serve_help_lists_every_environment_variable_with_its_default():
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    for setting in SETTINGS:
        line = next(line for line in lines if line.strip().startswith(setting.env + " "))
        assert f"[{shown(setting)}]" in line


def test_environment_then_flags():
    config = load_config({"port": 9999}, environ={"CYOA_PORT": "8123", "CYOA_WORKERS": "3"})
    assert (config.port, config.workers) == (9999, 3)


def test_generated_secret_is_kept_private_and_stable(tmp_path):
    first = persistent_secret(tmp_path, "secret_key")
    assert persistent_secret(tmp_path, "secret_key") == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
