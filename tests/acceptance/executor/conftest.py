"""An emulated org with a harvest in the test's cache directory, for the executor's tests."""

from __future__ import annotations

import pytest

from tests.cli_runner import run_cli
from tests.executor_support import executor_seed


@pytest.fixture
def org(start_emulator, token_env, cache_dir, data_dir, capsys):
    """A started emulator (relationship messages included) whose harvest is cached."""
    emu = start_emulator(seed=executor_seed())
    harvested = run_cli(["harvest", "--org", emu.url], capsys)
    assert harvested.exit_code == 0, harvested.stderr
    emu.reset_log()
    return emu
