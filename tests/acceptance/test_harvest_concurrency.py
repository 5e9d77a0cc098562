"""Several real processes on one cache: harvests and checks at once, and a harvest killed -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.cli_runner import run_cli


def msgavail(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "validator.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


@pytest.mark.slow
def test_two_checks_and_two_harvests_at_once(start_emulator, cache_dir, token_env, capsys):
    emu = start_emulator(max_page_size=10)
    assert run_cli(["harvest", "--org", emu.url], capsys).exit_code == 0
    emu.faults.slow(0.05, path="sdkmessagefilters", times=-1)  # make harvests overlap
    check_args = ("check", "contoso_ScanBadge", "contoso_inspection", "--org", emu.url)
    procs = [msgavail("harvest", "--org", emu.url, "--force") for _ in range(2)]
    checks = 0
    deadline = time.monotonic() + 60
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        readers = [msgavail(*check_args) for _ in range(2)]
        for r in readers:
            out, err = r.communicate(timeout=60)
            assert r.returncode == 0, err
            assert "is available offline" in out
            checks += 1
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        assert "harvested" in out or "current" in out
    assert checks >= 2
    after = run_cli(["check", *check_args[1:]], capsys)
    assert after.exit_code == 0


@pytest.mark.slow
def test_a_killed_harvest_loses_nothing_and_does_not_block(
    start_emulator, cache_dir, token_env, capsys
):
    emu = start_emulator()
    assert run_cli(["harvest", "--org", emu.url], capsys).exit_code == 0
    emu.faults.slow(30, path="EntityDefinitions", times=1)  # the victim hangs holding the lock
    victim = msgavail("harvest", "--org", emu.url, "--force")
    deadline = time.monotonic() + 30
    while emu.faults.fired == 0:
        assert time.monotonic() < deadline, "victim never reached EntityDefinitions"
        time.sleep(0.05)
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=10)
    # The previous harvest still answers, and the next harvest does not wait for the dead one.
    assert run_cli(["check", "contoso_ScanBadge", "--org", emu.url], capsys).exit_code == 0
    started = time.monotonic()
    again = msgavail("harvest", "--org", emu.url, "--force")
    out, err = again.communicate(timeout=60)
    assert again.returncode == 0, err
    assert "harvested" in out
    assert time.monotonic() - started < 25
