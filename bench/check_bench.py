"""Benchmark for the core: library check() and `msgavail check` start-up.

    .venv/bin/python bench/check_bench.py [--runs 41]

1. check(): median time per call over every published (message, table, secondary) pair, against
   a plain dict lookup of the same keys in the same run; and the same on a fresh Engine, where
   every question is decided from the data for the first time (the engine keeps its answers).
2. `msgavail check Create queue` whole-process wall time, against `python -c "import click"`
   (the floor for any click CLI), interleaved run by run so both see the same machine load.
Prints medians and ratios; figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def bench_library(repeats: int) -> tuple[float, float, float]:
    """(check() per call, answered before; check() per call, first time; dict lookup)."""
    from metadata import published
    from validator.engine import Engine

    snap = published.load()
    engine = Engine(snap)
    pairs = [(f.message, f.primary, f.secondary) for f in snap.filters]
    plain = {
        (m.lower(), p or "", s or ""): f for f, (m, p, s) in zip(snap.filters, pairs, strict=True)
    }
    keys = [(m.lower(), p or "", s or "") for m, p, s in pairs]
    check_times, cold_times, dict_times = [], [], []
    for _ in range(repeats):
        fresh = Engine(snap)  # nothing answered yet: every question decided from the data
        t0 = time.perf_counter()
        for m, p, s in pairs:
            fresh.check(m, p, s)
        cold_times.append((time.perf_counter() - t0) / len(pairs))
        t0 = time.perf_counter()
        for m, p, s in pairs:
            engine.check(m, p, s)
        t1 = time.perf_counter()
        for k in keys:
            plain[k]
        t2 = time.perf_counter()
        check_times.append((t1 - t0) / len(pairs))
        dict_times.append((t2 - t1) / len(keys))
    return (
        statistics.median(check_times),
        statistics.median(cold_times),
        statistics.median(dict_times),
    )


def bench_startup(runs: int) -> tuple[float, float]:
    bindir = os.path.dirname(sys.executable)
    exe = shutil.which("msgavail", path=bindir) or shutil.which("msgavail")
    if exe is None:
        raise SystemExit("msgavail is not installed in this environment")
    # An installed wheel has compiled bytecode for every module; so must the checkout measured
    # here (this machine sets PYTHONDONTWRITEBYTECODE, which would leave ours uncompiled).
    import compileall

    for pkg in ("metadata", "validator"):
        compileall.compile_dir(os.path.join(ROOT, pkg), quiet=1)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    ours = [exe, "check", "Create", "queue"]
    floor = [sys.executable, "-c", "import click"]
    t_ours: list[float] = []
    t_floor: list[float] = []
    for _ in range(3):  # warm the file cache
        subprocess.run(ours, capture_output=True, env=env)
        subprocess.run(floor, capture_output=True, env=env)
    for _ in range(runs):
        for cmd, acc in ((ours, t_ours), (floor, t_floor)):
            t0 = time.perf_counter()
            rc = subprocess.run(cmd, capture_output=True, env=env).returncode
            acc.append(time.perf_counter() - t0)
            if cmd is ours and rc != 1:
                raise SystemExit(f"unexpected exit status {rc} from {' '.join(cmd)}")
    return statistics.median(t_ours), statistics.median(t_floor)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=41)
    ap.add_argument("--repeats", type=int, default=21)
    args = ap.parse_args()
    check_s, cold_s, dict_s = bench_library(args.repeats)
    print(
        f"check(): median {check_s * 1e6:.2f} us/call; dict lookup {dict_s * 1e6:.3f} us/call; "
        f"ratio {check_s / dict_s:.1f}x  (1315 published pairs x {args.repeats} repeats)"
    )
    print(
        f"check(), first time each question is asked: median {cold_s * 1e6:.2f} us/call; "
        f"ratio {cold_s / dict_s:.0f}x"
    )
    ours, floor = bench_startup(args.runs)
    print(
        f"msgavail check Create queue: median {ours * 1e3:.1f} ms; python -c 'import click': "
        f"median {floor * 1e3:.1f} ms; ratio {ours / floor:.2f}  ({args.runs} runs each)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
