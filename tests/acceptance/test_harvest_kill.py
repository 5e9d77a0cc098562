"""A harvest killed -9 at any step of writing the cache leaves a complete harvest: the previous
one until the switch, the new one after it (issue 13 scope 2).

The kill is injected at the exact file-system steps diskcache takes (writing a value file,
removing one), in a real ``msgavail harvest`` process, by a hook that wraps diskcache's Disk
methods and sends the process SIGKILL: the same moment as ``strace -e inject=rmdir:signal=KILL``
(diskcache removes a replaced value file, then its empty directories) without needing strace.
"""

from __future__ import annotations

import os
import subprocess
import sys
import typing as t

import pytest

from fixtures.emulator import Emulator
from metadata import snapshot as snapshot_file
from metadata.model import Snapshot
from tests.cli_runner import run_cli

# Runs `msgavail ARGS...`, killing itself -9 right after the Nth call of diskcache's
# Disk.<point> (store: a value written; remove: a value file deleted).
HOOK = """
import os, signal, sys
import diskcache.core

point, nth = sys.argv[1], int(sys.argv[2])
original = getattr(diskcache.core.Disk, point)
calls = [0]

def hooked(self, *args, **kwargs):
    result = original(self, *args, **kwargs)
    calls[0] += 1
    if calls[0] == nth:
        os.kill(os.getpid(), signal.SIGKILL)
    return result

setattr(diskcache.core.Disk, point, hooked)
from validator.cli import main
main(sys.argv[3:])
"""


def killed_harvest(point: str, nth: int, org: str) -> int:
    proc = subprocess.run(
        [sys.executable, "-c", HOOK, point, str(nth), "harvest", "--org", org, "--force"],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    return proc.returncode


def exported(org: str, path: str, capsys: pytest.CaptureFixture[str]) -> Snapshot:
    r = run_cli(["snapshot", "export", "--org", org, "-o", path], capsys)
    assert r.exit_code == 0, r.stderr
    return snapshot_file.read(path)


def change_one_filter(emu: Emulator) -> None:
    row = emu.store.rows("sdkmessagefilters")[0]
    emu.store.update(
        "sdkmessagefilters",
        row["sdkmessagefilterid"],
        {"availability": 0 if row.get("availability") != 0 else 2},
    )


# Each step at which diskcache touches the disk during `harvest --force`, in order, and the
# harvest that must answer after a kill there: "old" until the head switch commits, "new" after.
# store 1: the lock; store 2: the new body's value file; store 3-4: the head and checked time
# (one transaction, not yet committed); remove 1: the old body's value file, after the commit.
# (Before the fix, the old value file was removed inside the enclosing transaction: a kill at
# "remove 1" left no harvest at all, "no cached harvest for ...".)
KILL_POINTS = {
    "store-1-lock": ("store", 1, "old"),
    "store-2-new-body-written": ("store", 2, "old"),
    "store-3-head-not-committed": ("store", 3, "old"),
    "store-4-checked-not-committed": ("store", 4, "old"),
    "remove-1-old-value-removed": ("remove", 1, "new"),
}


@pytest.mark.parametrize("step", list(KILL_POINTS))
def test_a_harvest_killed_while_writing_leaves_a_complete_harvest(
    step: str,
    start_emulator: t.Callable[..., Emulator],
    cache_dir: str,
    token_env: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: t.Any,
) -> None:
    point, nth, expected = KILL_POINTS[step]
    emu = start_emulator(seed="big:1500")  # a body large enough to live in a value file
    assert run_cli(["harvest", "--org", emu.url], capsys).exit_code == 0
    old = exported(emu.url, str(tmp_path / "old.json"), capsys)
    change_one_filter(emu)

    assert killed_harvest(point, nth, emu.url) == -9

    # The cache answers at once, from a complete harvest, with no repair needed.
    got = exported(emu.url, str(tmp_path / "after-kill.json"), capsys)
    check = run_cli(["check", "gen_Message0001", "gen_table00002", "--org", emu.url], capsys)
    assert check.exit_code in (0, 1) and check.stderr == ""
    r = run_cli(["harvest", "--org", emu.url, "--force"], capsys)
    assert r.exit_code == 0 and r.stderr == "", r.stderr
    new = exported(emu.url, str(tmp_path / "new.json"), capsys)
    assert new != old
    assert got == (old if expected == "old" else new)
