"""Journal benchmark (issues 13 and 14): durable enqueue and listing at 100,000 operations,
each beside its floor, and the cost of the integrity checks, all in the same run.

    .venv/bin/python bench/journal_bench.py [--ops 100000] [--small 10000] [--repeat 3]

* enqueue: ``queue_operations`` (what ``run --offline`` does after linting: ids, labels, local
  store, journal, one transaction, ``synchronous=FULL``) into a fresh journal, with the checks
  ``run`` makes first (``Journal.verify``: quick check, entries, counter) and without them;
  operations per wall second and per CPU second, interleaved with the floors.
  The checks' cost: ``Journal.verify()`` on a journal that already holds ``--ops`` operations
  (on a fresh one they cost nothing), in CPU seconds against the enqueue's.
  Floors: one diskcache ``set`` per operation in one transaction; sqlite ``executemany`` of the
  same JSON rows into a plain table (FULL, one transaction).
* listing: ``Journal.scan()`` (validated entries) plus the quick check every command runs, and
  ``Journal.ops()``, at ``--small`` and ``--ops`` operations (linearity: the time per operation
  at both sizes), in CPU seconds. Floors: one range SELECT over the same table +
  ``json.loads`` per row, as it comes and with the cyclic collector paused (as the journal
  pauses it).
* ``queue --all --format json`` as a process (start-up and JSON output included), for scale.

Figures are medians over ``--repeat`` runs; ratios are taken against the floor of the same run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from validator.api import load_engine
from validator.executor.enqueue import queue_operations
from validator.executor.journal import DBNAME, Journal, journal_dir
from validator.plan import Operation

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Listing is timed in CPU seconds of this process (reads come from the page cache): the
# machine is shared, and wall time there measures the neighbours as much as the journal.
clock = time.process_time


def plan(n: int) -> list[Operation]:
    """Groups of 4: an account, a contact bound to it, an update of the contact, a delete of
    the contact (records that depend on each other, as in a field visit)."""
    ops: list[Operation] = []

    def add(message: str, table: str, **kw: t.Any) -> None:
        n = len(ops)
        ops.append(Operation(index=n, message=message, table=table, path="bench", line=n + 1,
                             column=1, **kw))  # fmt: skip

    for g in range(n // 4):
        add("Create", "account", label=f"a{g}", data={"name": f"Account {g}", "telephone1": "555"})
        bind = {"parentcustomerid_account@odata.bind": f"$a{g}"}
        add("Create", "contact", label=f"c{g}", data={"lastname": f"C{g}", **bind})
        add("Update", "contact", id=f"$c{g}", data={"telephone1": f"555-{g}"})
        add("Delete", "contact", id=f"$c{g}")
    return ops


def median(values: list[float]) -> float:
    return statistics.median(values)


def enqueue(engine: t.Any, ops: list[Operation], path: str, *, checks: bool) -> tuple[float, float]:
    """(ops/s wall, ops/s of CPU time): the CPU rate is what the process itself costs, on a
    machine other work shares."""
    with Journal.open(path) as j:
        t0, c0 = time.perf_counter(), time.process_time()
        if checks:
            j.verify()
        queued = queue_operations(j, engine, ops).queued
        took, cpu = time.perf_counter() - t0, time.process_time() - c0
    assert len(queued) == len(ops)
    return len(ops) / took, len(ops) / cpu


def floor_diskcache_set(rows: list[tuple[str, str]], path: str) -> float:
    import diskcache

    with diskcache.Cache(path, eviction_policy="none", sqlite_synchronous=2,
                         disk_min_file_size=2**30, cull_limit=0) as cache:  # fmt: skip
        t0 = time.perf_counter()
        with cache.transact():
            for key, value in rows:
                cache.set(key, value)
        return len(rows) / (time.perf_counter() - t0)


def floor_executemany(rows: list[tuple[str, str]], path: str) -> float:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode = wal")
    con.execute("PRAGMA synchronous = FULL")
    con.execute("CREATE TABLE j (key TEXT PRIMARY KEY, value TEXT)")
    t0 = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    con.executemany("INSERT INTO j VALUES (?, ?)", rows)
    con.execute("COMMIT")
    took = time.perf_counter() - t0
    con.close()
    return len(rows) / took


def floor_range_select(path: str, *, gc_paused: bool = False) -> float:
    """One ordered SELECT of the journal's table and ``json.loads`` per row; with
    ``gc_paused`` the cyclic collector is off meanwhile, as the journal turns it off."""
    con = sqlite3.connect(os.path.join(path, DBNAME))
    if gc_paused:
        gc.disable()
    t0 = clock()
    rows = con.execute("SELECT value FROM msgavail_ops ORDER BY seq").fetchall()
    loaded = [json.loads(v) for (v,) in rows]
    took = clock() - t0
    gc.enable()
    con.close()
    assert loaded
    del loaded
    return took


def listing(path: str) -> tuple[float, float, float]:
    """(scan + quick check, scan alone, ops()) CPU seconds, each result dropped before the
    next is read (as the floor's)."""
    with Journal.open(path) as j:
        t0 = clock()
        j.verify(entries=False)
        found = j.scan()
        with_checks = clock() - t0
        assert not found.damaged
        del found
        t0 = clock()
        scanned = j.scan()
        scan = clock() - t0
        del scanned
        t0 = clock()
        listed = j.ops()
        ops = clock() - t0
        del listed
    return with_checks, scan, ops


def queue_process(data_dir: str) -> float:
    env = dict(os.environ, MSGAVAIL_DATA_DIR=data_dir, PYTHONPATH=ROOT)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "validator.cli", "queue", "--all", "--format", "json"],
                   env=env, stdout=subprocess.DEVNULL, check=True)  # fmt: skip
    return time.perf_counter() - t0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--ops", type=int, default=100_000)
    p.add_argument("--small", type=int, default=10_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="msgavail-journal-bench-")
    engine = load_engine()  # the published default: no network, no cache
    try:
        big = plan(args.ops)
        # The floors write the same JSON text the journal stores.
        sample = os.path.join(tmp, "sample")
        with Journal.open(sample) as j:
            queue_operations(j, engine, big)
            rows = [
                (f"op:{op['seq']:016d}", json.dumps(op, separators=(",", ":"))) for op in j.ops()
            ]
        # Interleaved, so that each floor meets the same neighbours as the runs beside it.
        rates: dict[str, list[float]] = {}
        for r in range(args.repeat):
            for checks in (False, True):
                name = "with checks" if checks else "without checks"
                wall, cpu = enqueue(engine, big, os.path.join(tmp, f"enq-{checks}-{r}"),
                                    checks=checks)  # fmt: skip
                rates.setdefault(name, []).append(wall)
                rates.setdefault(f"{name}, per CPU second", []).append(cpu)
                shutil.rmtree(os.path.join(tmp, f"enq-{checks}-{r}"))
            rates.setdefault("floor: one diskcache set per op", []).append(
                floor_diskcache_set(rows, os.path.join(tmp, f"dc-{r}"))
            )
            rates.setdefault("floor: sqlite executemany", []).append(
                floor_executemany(rows, os.path.join(tmp, f"em-{r}.db"))
            )
        print(f"enqueue of {len(big)} operations, durable (median of {args.repeat}):")
        for name, values in rates.items():
            print(f"  {name:<34} {median(values):>9,.0f} ops/s")
        # The checks `run` makes before appending, on a journal that already holds a plan of
        # --ops operations (on a fresh one they cost nothing), against the enqueue's CPU time.
        with Journal.open(sample) as j:
            costs = []
            for _ in range(args.repeat):
                c0 = clock()
                j.verify()
                costs.append(clock() - c0)
        enqueue_cpu = len(big) / median(rates["with checks, per CPU second"])
        print(f"  integrity checks before appending to a journal of {len(big)} operations: "
              f"{median(costs):.3f} s CPU = {median(costs) / enqueue_cpu * 100:.1f} % of the "
              "enqueue")  # fmt: skip

        # -- listing at two sizes -----------------------------------------------------------
        for size in (args.small, args.ops):
            data = os.path.join(tmp, f"data-{size}")
            path = journal_dir("local", data)
            with Journal.open(path) as j:
                queue_operations(j, engine, plan(size))
            checked, scans, opss, floors, paused, procs = [], [], [], [], [], []
            rounds = max(args.repeat, 7)  # in pairs: each ratio is taken within one round
            for r in range(rounds):
                floors.append(floor_range_select(path))
                paused.append(floor_range_select(path, gc_paused=True))
                a, b, c = listing(path)
                checked.append(a)
                scans.append(b)
                opss.append(c)
                if r < args.repeat:
                    procs.append(queue_process(data))
            f, fp = median(floors), median(paused)
            print(f"listing {size} operations, CPU seconds (median of {rounds}; ratios: median "
                  "of the ratios within a round):")  # fmt: skip
            print(f"  floor: range SELECT + json.loads    {f:7.3f} s  {f / size * 1e6:6.2f} us/op")
            print(
                f"  the same, collector paused          {fp:7.3f} s  {fp / size * 1e6:6.2f} us/op"
            )
            for name, values in (("Journal.ops()", opss), ("Journal.scan()", scans),
                                 ("quick check + scan (queue)", checked)):  # fmt: skip
                m = median(values)
                vs_f = median([v / x for v, x in zip(values, floors, strict=True)])
                vs_fp = median([v / x for v, x in zip(values, paused, strict=True)])
                print(f"  {name:<34} {m:7.3f} s  {m / size * 1e6:6.2f} us/op  x{vs_f:4.2f} floor"
                      f"  x{vs_fp:4.2f} paused floor")  # fmt: skip
            cost = median([a / b - 1 for a, b in zip(checked, scans, strict=True)])
            print(f"  integrity checks cost on listing: {cost * 100:.1f} %")
            print(f"  `msgavail queue --all --format json` process: {median(procs):.2f} s wall")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
