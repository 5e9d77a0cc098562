"""Peak memory of `msgavail lint --format json|sarif` on 500,000 findings (issue 13 scope 5).

    .venv/bin/python bench/report_memory_bench.py [--findings 500000]

A native plan of N operations, each a Create on queue (MA005 offline), so the report holds N
findings. Each format runs in a fresh process writing to /dev/null; peak RSS comes from
wait4's ru_maxrss. Baseline in the same run: `msgavail lint --format text -q` (the findings held
in memory, one line each written as they are rendered), and the start-up floor (`--version`).
Goal: SARIF for 500,000 findings well under 300 MiB (it was 3.2 GB when the reporter built the
whole document, then its text, in memory).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time


def generate(n: int, path: str) -> None:
    op = '{"message": "Create", "table": "queue", "data": {"name": "x"}}'
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('{"operations": [\n')
        fh.write(",\n".join([op] * n))
        fh.write("\n]}\n")


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, exit status) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--findings", type=int, default=500_000)
    args = ap.parse_args()
    exe = os.path.join(os.path.dirname(sys.executable), "msgavail")
    with tempfile.TemporaryDirectory() as tmp:
        plan = os.path.join(tmp, "plan.json")
        generate(args.findings, plan)
        size = os.path.getsize(plan) / 1e6
        _, floor, _ = measure([exe, "--version"])
        print(f"{args.findings:,} findings ({size:.1f} MB plan); start-up only {floor:.1f} MiB")
        for fmt, extra in (("text", ["-q"]), ("json", []), ("sarif", [])):
            cmd = [exe, "lint", plan, "--format", fmt, *extra, "--output", os.devnull]
            wall, rss, rc = measure(cmd)
            if rc != 1:
                raise SystemExit(f"unexpected exit status {rc} from {' '.join(cmd)}")
            print(f"  --format {fmt:6} peak RSS {rss:7.1f} MiB  wall {wall:6.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
