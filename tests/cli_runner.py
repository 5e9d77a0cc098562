"""Running the CLI in-process for acceptance tests, with output shown when an assertion fails."""

from __future__ import annotations

import typing as t

import pytest


class Result(t.NamedTuple):
    exit_code: int
    stdout: str
    stderr: str


def run_cli(args: t.Sequence[str], capsys: pytest.CaptureFixture[str]) -> Result:
    from validator.cli import run

    capsys.readouterr()
    code = run(list(args))
    out, err = capsys.readouterr()
    return Result(code, out, err)
