"""Kill -9 during sync, with throttling, outages and lost acknowledgements, with bulk messages
and parallel requests: nothing is lost, nothing is applied twice.

A real ``msgavail sync`` subprocess plays the journal back to the emulator (a thread in this
process, on loopback) and is killed with SIGKILL at a random point of its playback (after a
random number of requests, or during start-up), run after run, while the emulator answers some
requests with 429 (Retry-After), 503, or commits them and drops the connection unanswered.
Between runs the user queues more work offline. A final clean sync must leave the org exactly
in the state the queued operations describe, with every record created exactly once.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from fixtures.emulator import ServerModel, start, writes
from tests.cli_runner import run_cli
from tests.emulator_fixtures import EMULATOR_TOKEN
from tests.executor_support import (
    actual_state,
    executor_seed,
    expected_state,
    relationship_plan,
    write_plan,
)
from validator.executor.journal import Journal, journal_dir, journal_name

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNS = 24
WRITES = r"^(?!EntityDefinitions|sdkmessage)"  # everything but the harvest's reads


def _inject(emu, rng: random.Random) -> None:
    emu.faults.clear()
    emu.faults.throttle(retry_after=0.2, path=WRITES, regex=True, after=rng.randrange(4))
    emu.faults.unavailable(path=WRITES, regex=True, after=rng.randrange(5))
    emu.faults.lose_response(path=WRITES, regex=True, after=rng.randrange(3))
    emu.faults.lose_response(path=WRITES, regex=True, after=rng.randrange(3, 8))
    emu.faults.slow(0.02, path=WRITES, regex=True, times=-1)  # kills can land mid-request


def _written(emu) -> int:
    return len([r for r in emu.requests() if not r.path.startswith(("Entity", "sdk"))])


@pytest.mark.slow
def test_kill_nine_during_sync_loses_nothing_and_applies_nothing_twice(
    tmp_path, capsys, token_env, cache_dir, data_dir
):
    rng = random.Random(int(os.environ.get("MSGAVAIL_FAULT_SEED", "20261125")))
    cache, data = cache_dir, data_dir
    # Every write costs the server a little time, so parallel requests really overlap.
    with start(executor_seed(), token=EMULATOR_TOKEN, model=ServerModel(write_ms=4)) as emu:
        org = emu.url
        assert run_cli(["harvest", "--org", org, "--cache-dir", cache], capsys).exit_code == 0
        env = dict(
            os.environ,
            DATAVERSE_TOKEN=EMULATOR_TOKEN,
            MSGAVAIL_CACHE_DIR=cache,
            MSGAVAIL_DATA_DIR=data,
            PYTHONPATH=ROOT,
        )
        killed = 0
        for run in range(RUNS):
            # The user keeps working offline between (interrupted) syncs.
            plan = write_plan(tmp_path / f"plan{run}.json", relationship_plan(2, first=2 * run))
            queued = run_cli(["run", plan, "--offline", "--org", org], capsys)
            assert queued.exit_code == 0, queued.stdout + queued.stderr

            _inject(emu, rng)
            before = _written(emu)
            size = rng.choice(["1", "1", "4", "16"])
            # Bulk messages (the org has CreateMultiple / UpdateMultiple for account and
            # contact) and parallel requests on in most runs.
            bulk = rng.choice([["--bulk-size", "2"], ["--bulk-size", "4"], ["--no-bulk"]])
            parallel = ["--parallel", rng.choice(["1", "3", "4"])]
            # Requests to let through before the kill (0: during start-up); a batched sync
            # needs only a few requests for the whole journal.
            target = rng.choice([0, 1, 2, 3, 5, 8] if size == "1" else [0, 1, 1, 2])
            proc = subprocess.Popen(
                [sys.executable, "-m", "validator.cli", "sync", "--org", org, "--batch-size", size,
                 *bulk, *parallel],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            if target == 0:
                time.sleep(rng.uniform(0.05, 0.4))
            else:
                deadline = time.monotonic() + 20
                while proc.poll() is None and _written(emu) < before + target:
                    assert time.monotonic() < deadline, "sync made no progress"
                    time.sleep(0.002)
                time.sleep(rng.uniform(0, 0.03))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            proc.wait()
        assert killed >= 20, f"only {killed} of {RUNS} syncs were killed mid-way"

        emu.faults.clear()
        final = run_cli(["sync", "--org", org, "--parallel", "4"], capsys)
        assert final.exit_code == 0, final.stdout + final.stderr

        with Journal.open(journal_dir(journal_name(org), data)) as journal:
            ops = journal.ops()
        assert {op["state"] for op in ops} == {"done"}
        want_rows, want_links = expected_state(ops)
        got_rows, got_links = actual_state(emu.store)
        assert got_rows == want_rows
        assert got_links == want_links
        creates = writes.state(emu.store).creates
        assert {key for _, key in creates} == {op["id"] for op in ops if op["message"] == "Create"}
        assert set(creates.values()) == {1}, "a record was created twice"
        fired = [r.fault for r in emu.requests()]
        assert fired.count("lost_ack") >= 5
        assert fired.count("throttle") >= 5
        assert fired.count("unavailable") >= 3
        bulk_requests = [r for r in emu.requests() if "Microsoft.Dynamics.CRM." in r.path]
        assert len(bulk_requests) >= 5, "bulk messages were not exercised"
        assert any(r.fault == "lost_ack" for r in bulk_requests) or len(bulk_requests) >= 10
        lookups = [r for r in emu.requests("accounts", "GET") + emu.requests("contacts", "GET")
                   if "Microsoft.Dynamics.CRM.In(" in r.query]  # fmt: skip
        assert lookups, "no replayed CreateMultiple looked up which of its creates exist"
        assert emu.limiter.stats().peak_concurrency > 1, "requests never overlapped"
