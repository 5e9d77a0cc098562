"""Executor benchmark (issue 10): `sync` against an emulator that costs what a server costs,
beside the ceiling the server model allows and today's strategy (sequential $batch), same run.

    .venv/bin/python bench/executor_bench.py [--ops 10000] [--repeat 1] [--skip-baseline]
        [--baseline-ops N]

The emulator runs with the service protection model of docs/reference/service-limits.md:
20 ms of server time per write, 4 ms per record inside CreateMultiple / UpdateMultiple, the
three per-user limits over a sliding window with time scale 60 (the 5-minute window passes in
5 s; the budgets shrink alike, so a client meets the real rates: 20 requests/s, 4 s of server
time per second), and ``x-ms-dop-hint: 4``.

Workload (groups of 10, several tables, records that depend on each other): 3 account creates
(one with an id from the plan), 2 contact creates bound to the first account, 2 incident
creates (no bulk messages for incident in this org: they go in $batch), 2 contact updates and
1 incident delete.

Ceiling: a user may spend 4 s of server time per second and make 20 requests per second, so
the model allows at most ``min(4000 ms / (server ms per op), 20 x ops per request)`` operations
per second; with bulk-eligible operations at 4 ms and the rest at 20 ms, the server-time bound
is the smaller one. Strategies: ``bulk+parallel`` (the default of `msgavail sync`) and the
baseline ``sequential $batch`` (``--no-bulk --parallel 1``, batches of 100). Both replay the
same journal (a fresh copy) into a freshly reset emulator. Reported: ops/s, ratio to the
ceiling, ratio to the baseline, requests, 429s met and seconds waited on Retry-After.

Enqueue: the same operations queued into a fresh journal (synchronous=FULL) as one plan in one
transaction (bench/journal_bench.py measures it beside its floors at 100,000 operations).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import typing as t

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fixtures.emulator import ServerModel, start, writes
from tests.executor_support import executor_seed
from validator.api import load_engine
from validator.executor.enqueue import queue_operations
from validator.executor.journal import Journal
from validator.executor.playback import SyncOptions, sync_journal
from validator.plan import Operation

TOKEN = "bench-token"
WRITE_MS, BULK_MS, SCALE, DOP = 20.0, 4.0, 60.0, 4
BUDGET_MS_PER_S = 1200.0 * 1000 / 300  # 4,000 ms of server time per second
REQUESTS_PER_S = 6000 / 300  # 20


def plan(n: int) -> tuple[list[Operation], int]:
    """The workload, and how many of its operations are bulk-eligible in this org."""
    ops: list[Operation] = []

    def add(message: str, table: str, **kw: t.Any) -> None:
        ops.append(Operation(index=len(ops), message=message, table=table, path="bench", **kw))

    for g in range(n // 10):
        add("Create", "account", label=f"a{g}", data={"name": f"Account {g}"})
        add("Create", "account", data={"name": f"Second {g}"})
        add("Create", "account", id=f"00000000-0000-4000-8000-{g:012d}", data={"name": f"Id {g}"})
        for j in range(2):
            bind = {"parentcustomerid_account@odata.bind": f"$a{g}"}
            add("Create", "contact", label=f"c{g}_{j}", data={"lastname": f"C{g}_{j}", **bind})
        add("Create", "incident", data={"title": f"Case {g}"})
        add("Create", "incident", label=f"i{g}", data={"title": f"Case {g} b"})
        for j in range(2):
            add("Update", "contact", id=f"$c{g}_{j}", data={"telephone1": f"555-{g}-{j}"})
        add("Delete", "incident", id=f"$i{g}")
    bulk = sum(1 for op in ops if op.table in ("account", "contact") and op.message != "Delete")
    return ops, bulk


def ceiling(total: int, bulk: int, bulk_size: int) -> float:
    server_ms = bulk * BULK_MS + (total - bulk) * WRITE_MS
    by_time = total / (server_ms / BUDGET_MS_PER_S)
    by_requests = REQUESTS_PER_S * bulk_size  # the largest request the client makes
    return min(by_time, by_requests)


def reset(emu: t.Any) -> None:
    for name in ("accounts", "contacts", "incidents"):
        if name in emu.store.tables:
            emu.store.tables[name].records.clear()
    writes.state(emu.store).__init__()  # type: ignore[misc]  # back to a fresh state in place
    emu.reset_log()


def replay(
    emu: t.Any, master: str, tmp: str, name: str, cache: str, **options: t.Any
) -> dict[str, t.Any]:
    reset(emu)
    copy = os.path.join(tmp, f"replay-{name.replace(' ', '_')}")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(master, copy)
    time.sleep(1.2 * 300 / SCALE)  # an empty window: every strategy starts with full budgets
    with Journal.open(copy) as j:
        before = emu.limiter.stats()
        t0 = time.perf_counter()
        report = sync_journal(j, emu.url, SyncOptions(cache_dir=cache, **options))
        took = time.perf_counter() - t0
        after = emu.limiter.stats()
        states = {op["state"] for op in j.ops()}
    shutil.rmtree(copy)
    assert report.aborted is None and not report.parked, report.lines()
    assert states == {"done"}, states
    assert set(writes.state(emu.store).creates.values()) == {1}, "a record was created twice"
    return {
        "seconds": took,
        "ops": len(report.applied),
        "requests": report.requests,
        "bulk_requests": report.bulk_requests,
        "throttled": report.throttled,
        "waited": report.waited,
        "parallel": report.peak_parallel,
        # What the server was charged: the model's sleeps, and the wall time requests spent
        # in it (sleeps plus the emulator's own work), which the execution-time limit meters.
        "modelled_s": after.server_time_s - before.server_time_s,
        "charged_s": after.execution_s - before.execution_s,
        "refused": {
            code: n - before.refused.get(code, 0)
            for code, n in after.refused.items()
            if n > before.refused.get(code, 0)
        },
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--ops", type=int, default=10_000)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--bulk-size", type=int, default=250)
    p.add_argument("--batch-size", type=int, default=50)
    p.add_argument("--skip-baseline", action="store_true")
    p.add_argument(
        "--baseline-ops",
        type=int,
        default=None,
        help="the baseline replays only the first N operations of the same workload (its rate "
        "does not depend on the queue's length: every request is a batch of 100 at 20 ms each)",
    )
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="msgavail-bench-")
    os.environ["DATAVERSE_TOKEN"] = TOKEN
    cache = os.path.join(tmp, "cache")
    model = ServerModel(write_ms=WRITE_MS, bulk_record_ms=BULK_MS, limits=True,
                        time_scale=SCALE, dop_hint=DOP)  # fmt: skip
    try:
        with start(executor_seed(), token=TOKEN, model=model) as emu:
            from validator.cli import run as cli

            assert cli(["harvest", "--org", emu.url, "--cache-dir", cache]) == 0
            engine = load_engine(org=emu.url, cache_dir=cache)
            ops, bulk = plan(args.ops)
            master = os.path.join(tmp, "master")
            with Journal.open(master) as j:
                t0 = time.perf_counter()
                total = len(queue_operations(j, engine, ops).queued)
                rate = total / (time.perf_counter() - t0)
            base_master, base_total = master, total
            if args.baseline_ops and args.baseline_ops < total:
                base_master = os.path.join(tmp, "master-baseline")
                with Journal.open(base_master) as j:
                    base_total = len(queue_operations(j, engine, plan(args.baseline_ops)[0]).queued)
            print(
                f"enqueue of {total} operations, one plan per transaction: {rate:,.0f} ops/s",
                flush=True,
            )
            top = ceiling(total, bulk, args.bulk_size)
            print(
                f"server model: {WRITE_MS:.0f} ms per write, {BULK_MS:.0f} ms per bulk record, "
                f"limits on (time scale {SCALE:.0f}), x-ms-dop-hint {DOP}; {bulk} of {total} "
                f"operations bulk-eligible; ceiling {top:,.0f} ops/s",
                flush=True,
            )
            strategies = [
                (
                    "bulk+parallel",
                    master,
                    {"bulk_size": args.bulk_size, "batch_size": args.batch_size},
                )
            ]
            if not args.skip_baseline:
                options = {"bulk": False, "parallel": 1, "batch_size": 100}
                strategies.append(("sequential $batch", base_master, options))
            results: dict[str, list[dict[str, t.Any]]] = {}
            for _ in range(args.repeat):
                for name, journal, options in strategies:
                    run = replay(emu, journal, tmp, name, cache, **options)
                    results.setdefault(name, []).append(run)
                    print(  # as measured: a long baseline run shows the first figures early
                        f"  ({name}: {run['ops']} ops in {run['seconds']:.1f} s, "
                        f"{run['ops'] / run['seconds']:,.0f} ops/s)",
                        flush=True,
                    )
            base = None
            if "sequential $batch" in results:
                base = statistics.median(
                    r["ops"] / r["seconds"] for r in results["sequential $batch"]
                )
            print(f"sync of {total} operations (median of {args.repeat}):")
            if base_total != total:
                print(f"  (the baseline replays the first {base_total} of them)")
            for name, runs in results.items():
                secs = statistics.median(r["seconds"] for r in runs)
                ops_s = statistics.median(r["ops"] / r["seconds"] for r in runs)
                mid = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
                vs = f"  x{ops_s / base:5.1f} baseline" if base else ""
                print(
                    f"  {name:<18} {secs:7.1f} s {ops_s:7,.0f} ops/s  {ops_s / top:5.2f} of "
                    f"ceiling{vs}  requests {mid['requests']} (bulk {mid['bulk_requests']})  "
                    f"429s {mid['throttled']}  waited {mid['waited']:.1f} s  "
                    f"parallel {mid['parallel']}"
                )
                charged = mid["charged_s"]
                print(
                    f"  {'':<18} server time modelled {mid['modelled_s']:.1f} s, charged "
                    f"{charged:.1f} s ({charged / secs:.2f} s per s of the 4 allowed; "
                    f"{mid['ops'] / (charged * 1000 / BUDGET_MS_PER_S):,.0f} ops/s at the charged "
                    f"cost); 429s by code {mid['refused'] or '-'}"
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
