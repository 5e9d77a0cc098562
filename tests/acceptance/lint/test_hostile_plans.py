"""Hostile and broken plans through the CLI (issue 13 scopes 3 and 4): `lint` and `run` refuse
alias bombs and duplicate keys alike with one positioned line and exit 2, and one unreadable
file never hides the findings of the others."""

from __future__ import annotations

import json
import os
import typing as t

import pytest

from tests.cli_runner import run_cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
SEEDS = os.path.join(ROOT, "fixtures", "lint", "cases", "seeds.yaml")

# The shape of the 483-byte plan that became a 515 MB journal: 9 levels of 9 aliases.
BOMB = "\n".join(
    ['x-a0: &a0 {"message": "Create", "table": "account", "data": {"name": "x"}}']
    + [f"x-a{k}: &a{k} [{', '.join([f'*a{k - 1}'] * 9)}]" for k in range(1, 9)]
    + ["operations: *a8", ""]
)
SELF = "operations: &ops\n- {message: Create, table: account}\n- *ops\n"
TWICE = "operations:\n- message: Create\n  table: queue\noperations:\n- message: WhoAmI\n"


def write(path: str | os.PathLike[str], text: str) -> str:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return os.fspath(path)


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        (BOMB, ":2:12:", "YAML aliases are not allowed in a plan"),
        (SELF, ":3:3:", "YAML aliases are not allowed in a plan"),
        (TWICE, ":4:1:", "duplicate key 'operations' (first at line 1, column 1)"),
    ],
)
def test_lint_and_run_refuse_alike(
    tmp_path: t.Any, data_dir: t.Any, capsys: pytest.CaptureFixture[str], text: str,
    where: str, what: str,
) -> None:  # fmt: skip
    plan = write(tmp_path / "plan.yaml", text)
    for args in (["lint", plan], ["run", plan, "--offline"]):
        r = run_cli(args, capsys)
        assert r.exit_code == 2, (args, r.stdout, r.stderr)
        line = [ln for ln in r.stderr.splitlines() if plan in ln]
        assert len(line) == 1 and f"{plan}{where}" in line[0] and what in line[0], r.stderr
        assert "internal error" not in r.stderr and "Traceback" not in r.stderr
    shown = run_cli(["queue", "--format", "json"], capsys)
    assert shown.exit_code == 0 and json.loads(shown.stdout)["operations"] == []


def test_a_json_operation_with_a_field_twice_is_refused(
    tmp_path: t.Any, data_dir: t.Any, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = write(
        tmp_path / "plan.json",
        '{"operations": [\n  {"message": "Create", "table": "account",\n   "table": "queue"}\n]}\n',
    )
    for args in (["lint", plan], ["run", plan, "--offline"]):
        r = run_cli(args, capsys)
        assert r.exit_code == 2
        assert f'{plan}:3:4: duplicate key "table" (first at line 2, column 25)' in r.stderr


# An action segment the batch reader could not parse: "internal error: AttributeError".
CRASH = (
    "--b\nContent-Type: application/http\n\n"
    "POST /api/data/v9.2/accounts(00000000-0000-0000-0000-000000000001)/"
    "Microsoft.Dynamics.CRM.%20 HTTP/1.1\n\n{}\n--b--\n"
)


def test_one_bad_file_does_not_hide_the_others(
    tmp_path: t.Any, capsys: pytest.CaptureFixture[str]
) -> None:
    crash = write(tmp_path / "crash.batch", CRASH)
    r = run_cli(["lint", SEEDS, crash], capsys)
    assert r.exit_code == 1, r.stderr
    assert "internal error" not in r.stderr + r.stdout
    assert f"{SEEDS}:6:5: MA005" in r.stdout  # the good file's findings are all there
    assert f"{crash}:4:1: MA006" in r.stdout and "cannot read the action segment" in r.stdout


def test_a_reader_that_fails_unexpectedly_fails_only_its_file(
    tmp_path: t.Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import validator.readers.batch as batch

    def broken(*_: object, **__: object) -> t.NoReturn:
        raise AttributeError("'NoneType' object has no attribute 'group'")

    monkeypatch.setattr(batch, "_operation", broken)  # a reader bug still to be found
    crash = write(tmp_path / "crash.batch", CRASH)
    r = run_cli(["lint", SEEDS, crash], capsys)
    assert r.exit_code == 2  # a file could not be read
    assert f"{SEEDS}:6:5: MA005" in r.stdout
    line = [ln for ln in r.stderr.splitlines() if crash in ln]
    assert len(line) == 1 and "internal error while reading this file (AttributeError" in line[0]
    assert "Traceback" not in r.stderr
