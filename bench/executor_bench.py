"""Executor benchmark: replay 10,000 queued operations to the emulator, batched and one request
per operation, in the same run; and the durable enqueue rate.

    .venv/bin/python bench/executor_bench.py [--ops 10000] [--repeat 3]

Replay: the same journal (copied afresh for every run) is played back by ``sync_journal`` to
the Web API emulator on loopback, with ``$batch`` (batch sizes 1000 and 100) and with one
request per operation (the baseline). The emulator's data is reset between runs. Figures are
medians over ``--repeat`` runs; the ratio is baseline time / batched time.

Enqueue: the same operations queued into a fresh journal (sqlite synchronous=FULL) as one plan
in one transaction, and one operation per transaction (what queuing single operations costs).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fixtures.emulator import Emulator, start, writes
from tests.executor_support import executor_seed
from validator.api import load_engine
from validator.executor.enqueue import Enqueuer, apply_local, queue_operations
from validator.executor.journal import Journal
from validator.executor.playback import SyncOptions, sync_journal
from validator.plan import Operation, Related

TOKEN = "bench-token"


def plan(n: int) -> list[Operation]:
    """Groups of 10: an account, 4 contacts bound to it, 2 contact updates, an association,
    a contact delete and an account state change (records depend on each other)."""
    ops: list[Operation] = []

    def add(message: str, table: str, **kw: object) -> None:
        ops.append(Operation(index=len(ops), message=message, table=table, path="bench", **kw))  # type: ignore[arg-type]

    for g in range(n // 10):
        add("Create", "account", label=f"a{g}", data={"name": f"Account {g}"})
        for j in range(4):
            add(
                "Create",
                "contact",
                label=f"c{g}_{j}",
                data={"lastname": f"C{g}_{j}", "parentcustomerid_account@odata.bind": f"$a{g}"},
            )
        for j in range(2):
            add("Update", "contact", id=f"$c{g}_{j}", data={"telephone1": f"555-{g}-{j}"})
        add(
            "Associate",
            "account",
            id=f"$a{g}",
            relationship="contact_customer_accounts",
            related=(Related("contact", f"$c{g}_0"),),
        )
        add("Delete", "contact", id=f"$c{g}_3")
        add("SetState", "account", id=f"$a{g}", data={"statecode": 1, "statuscode": 2})
    return ops  # fmt: skip


def reset(emu: Emulator) -> None:
    for name in ("accounts", "contacts"):
        if name in emu.store.tables:
            emu.store.tables[name].records.clear()
    writes.state(emu.store).__init__()  # type: ignore[misc]  # back to a fresh state in place
    emu.reset_log()


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--ops", type=int, default=10_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="msgavail-bench-")
    os.environ["DATAVERSE_TOKEN"] = TOKEN
    cache = os.path.join(tmp, "cache")
    try:
        with start(executor_seed(), token=TOKEN) as emu:
            from validator.cli import run as cli

            assert cli(["harvest", "--org", emu.url, "--cache-dir", cache]) == 0
            engine = load_engine(org=emu.url, cache_dir=cache)
            ops = plan(args.ops)

            # -- enqueue ---------------------------------------------------------------------
            plan_rates, single_rates = [], []
            for r in range(args.repeat):
                with Journal.open(os.path.join(tmp, f"plan{r}")) as j:
                    t0 = time.perf_counter()
                    queued = queue_operations(j, engine, ops).queued
                    plan_rates.append(len(queued) / (time.perf_counter() - t0))
                with Journal.open(os.path.join(tmp, f"single{r}")) as j:
                    enq = Enqueuer(engine)
                    t0 = time.perf_counter()
                    for op in ops:
                        with j.transaction():  # one durable commit per operation
                            for entry in enq.build(op):
                                apply_local(j, j.append(entry))
                    single_rates.append(len(queued) / (time.perf_counter() - t0))
            master = os.path.join(tmp, "plan0")
            total = len(queued)
            print(f"operations queued: {total} (from {len(ops)} plan operations)")
            print(f"enqueue, one plan per transaction:  median {median(plan_rates):,.0f} ops/s")
            print(f"enqueue, one transaction per op:    median {median(single_rates):,.0f} ops/s")

            # -- replay ----------------------------------------------------------------------
            results: dict[str, tuple[list[float], list[int]]] = {}
            modes = [("batch 1000", 1000), ("batch 100", 100), ("one request per op", 1)]
            for r in range(args.repeat):
                for name, size in modes:
                    reset(emu)
                    copy = os.path.join(tmp, f"replay-{size}-{r}")
                    shutil.copytree(master, copy)
                    with Journal.open(copy) as j:
                        t0 = time.perf_counter()
                        report = sync_journal(
                            j, emu.url, SyncOptions(batch_size=size, cache_dir=cache)
                        )
                        took = time.perf_counter() - t0
                    assert report.aborted is None and not report.parked, report.lines()
                    assert len(report.applied) == total, (len(report.applied), total)
                    assert set(writes.state(emu.store).creates.values()) == {1}
                    secs, reqs = results.setdefault(name, ([], []))
                    secs.append(took)
                    reqs.append(emu.count())
                    shutil.rmtree(copy)
            base = median(results["one request per op"][0])
            print(f"replay of {total} operations (median of {args.repeat}):")
            for name, _ in modes:
                secs, reqs = results[name]
                t_med = median(secs)
                r_med = int(median([float(r) for r in reqs]))
                print(
                    f"  {name:<20} {r_med:>6} requests  {t_med:7.2f} s  "
                    f"{total / t_med:8,.0f} ops/s  x{base / t_med:5.1f} vs one request per op"
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
