"""Every registered command imports, is a click command, and answers --help with exit 0."""

from __future__ import annotations

import click
import pytest

from tests.cli_runner import run_cli
from validator.cli import COMMANDS, LazyGroup, cli


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_registered_command_loads(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert isinstance(cli, LazyGroup)
    command = cli.get_command(click.Context(cli), name)
    assert isinstance(command, click.Command)
    result = run_cli([name, "--help"], capsys)
    assert result.exit_code == 0 and "Usage: msgavail" in result.stdout


def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    out = run_cli(["--help"], capsys).stdout
    for name, (_target, summary) in COMMANDS.items():
        assert f"{name}" in out and summary in out


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_cli(["chek", "Create"], capsys)
    assert result.exit_code == 2
    assert result.stderr == ("msgavail: error: no such command 'chek' (see `msgavail --help`)\n")


def test_version_names_the_program_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    from metadata import __version__

    result = run_cli(["--version"], capsys)
    assert (result.exit_code, result.stdout) == (0, f"msgavail, version {__version__}\n")
