"""Benchmark: `msgavail lint` on a 100,000-operation plan vs check-jsonschema on the same file.

Both tools run as fresh processes on the same generated plan (about 13 MB of JSON), checked
against the same schema (validator/schemas/plan.schema.json), alternating, in the same run. Wall
time and peak RSS (from wait4) are taken per run; medians and ratios are printed.

    .venv/bin/pip install check-jsonschema      # the baseline; not a project dependency
    .venv/bin/python bench/lint_bench.py [--operations 100000] [--repeat 5]

msgavail does more than the baseline: the same schema (as its fast check), the availability
rules for every operation, label references, and a line:column for every finding.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = os.path.join(ROOT, "validator", "schemas", "plan.schema.json")
TABLES = ["account", "contact", "lead", "opportunity", "incident", "task", "phonecall", "email"]


def generate(n: int, path: str) -> None:
    """A plan of ``n`` operations, mostly valid, with a few findings (like a real plan)."""
    rnd = uuid.UUID(int=12345)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"$schema": SCHEMA})[:-1] + ',\n "operations": [\n')
        for i in range(n):
            table = TABLES[i % len(TABLES)]
            ident = str(uuid.UUID(int=rnd.int + i))
            kind = i % 10
            if kind < 5:
                op = {"message": "Create", "table": table, "label": f"r{i}",
                      "data": {"name": f"Record {i}", "description": "x" * 40}}  # fmt: skip
            elif kind < 8:
                op = {"message": "Update", "table": table, "id": f"$r{i - kind + 4}",
                      "data": {"telephone1": f"555-{i:06d}"}}  # fmt: skip
            elif kind == 8:
                op = {"message": "Retrieve", "table": table, "id": ident}
            else:
                # one Create on queue per 1,000 operations: a real finding (MA005)
                target = "queue" if i % 1000 == 9 else table
                op = {"message": "Create", "table": target, "data": {"name": f"n{i}"}}
            fh.write("  " + json.dumps(op) + (",\n" if i < n - 1 else "\n"))
        fh.write("]}\n")


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, exit status) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.stderr is not None
    err = proc.stderr.read()
    proc.stderr.close()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err.decode()[:500]}")
    return wall, usage.ru_maxrss / 1024, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--operations", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    bindir = os.path.dirname(sys.executable)
    msgavail = os.path.join(bindir, "msgavail")
    checker = shutil.which("check-jsonschema", path=bindir) or shutil.which("check-jsonschema")
    if checker is None:
        raise SystemExit("check-jsonschema not found: .venv/bin/pip install check-jsonschema")
    with tempfile.TemporaryDirectory() as tmp:
        plan = os.path.join(tmp, "plan.json")
        generate(args.operations, plan)
        size = os.path.getsize(plan) / 1e6
        ours_cmd = [msgavail, "lint", plan, "--format", "json", "--output", os.devnull]
        base_cmd = [checker, "--schemafile", SCHEMA, plan]
        ours: list[tuple[float, float, int]] = []
        base: list[tuple[float, float, int]] = []
        measure(ours_cmd)  # warm the page cache and .pyc files for both
        measure(base_cmd)
        for _ in range(args.repeat):
            ours.append(measure(ours_cmd))
            base.append(measure(base_cmd))
    t_ours = statistics.median(r[0] for r in ours)
    t_base = statistics.median(r[0] for r in base)
    m_ours = statistics.median(r[1] for r in ours)
    m_base = statistics.median(r[1] for r in base)
    print(f"plan: {args.operations} operations, {size:.1f} MB; {args.repeat} runs each")
    print(f"msgavail lint      : {t_ours:6.2f} s  {m_ours:6.1f} MiB  (exit {ours[0][2]})")
    print(f"check-jsonschema   : {t_base:6.2f} s  {m_base:6.1f} MiB  (exit {base[0][2]})")
    print(f"ratio (ours/base)  : time {t_ours / t_base:.2f}  memory {m_ours / m_base:.2f}")


if __name__ == "__main__":
    main()
