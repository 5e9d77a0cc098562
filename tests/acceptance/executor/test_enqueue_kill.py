"""Kill -9 while `msgavail run --offline` queues a plan: the plan is queued whole or not at all,
sequence numbers stay contiguous and the journal passes SQLite's integrity check."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.executor_support import write_plan
from validator.executor.journal import Journal, journal_dir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAN_SIZE = 5000
ROUNDS = 8


@pytest.mark.slow
def test_a_killed_run_queues_the_whole_plan_or_nothing(tmp_path, data_dir):
    rng = random.Random(7)
    plan = write_plan(
        tmp_path / "big.json",
        [
            {"message": "Create", "table": "account", "data": {"name": f"A{i}"}}
            for i in range(PLAN_SIZE)
        ],
    )
    env = dict(os.environ, MSGAVAIL_DATA_DIR=data_dir, PYTHONPATH=ROOT)
    completed = 0
    full_run = None
    for _ in range(ROUNDS):
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, "-m", "validator.cli", "run", plan, "--offline"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        if full_run is None:  # the first run completes: it tells how long a run takes here
            proc.wait()
            full_run = time.monotonic() - started
        else:  # later ones die in the second half of their run, where the commit happens
            time.sleep(rng.uniform(0.5, 1.05) * full_run)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
        proc.wait()
        completed += proc.returncode == 0
        with Journal.open(journal_dir("local", data_dir)) as journal:
            assert journal.check() == []
            ops = journal.ops()
            seqs = [op["seq"] for op in ops]
            assert seqs == list(range(1, len(seqs) + 1))
            assert len(ops) % PLAN_SIZE == 0, "a plan was queued in part"
            assert len(ops) >= completed * PLAN_SIZE
            names = {op["id"] for op in ops}
            assert sum(1 for _ in journal.records("account")) == len(names)
    assert completed < ROUNDS, "no run was killed"
