"""The shipped .pre-commit-hooks.yaml: each hook's entry runs, and its files pattern matches."""

from __future__ import annotations

import os
import re
import shlex

import pytest
import yaml

from tests.cli_runner import run_cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
CASES = os.path.join(ROOT, "fixtures", "lint", "cases")

with open(os.path.join(ROOT, ".pre-commit-hooks.yaml")) as _fh:
    HOOKS = yaml.safe_load(_fh)


@pytest.mark.parametrize("hook", HOOKS, ids=[h["id"] for h in HOOKS])
def test_hook_runs_on_the_files_it_matches(
    hook: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = shlex.split(hook["entry"])
    assert argv[0] == "msgavail"
    pattern = re.compile(hook["files"])
    matched = sorted(f for f in os.listdir(CASES) if pattern.search(f))
    assert matched and not any(f.endswith(".expect") for f in matched)
    clean = [os.path.join(CASES, f) for f in matched if f.startswith("clean")]
    dirty = [os.path.join(CASES, f) for f in matched if f.startswith(("seeds", "batch-"))]
    assert run_cli([*argv[1:], *clean], capsys).exit_code == 0
    assert run_cli([*argv[1:], *dirty], capsys).exit_code == 1
