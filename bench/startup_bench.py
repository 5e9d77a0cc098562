"""Start-up of `msgavail lint` on a 1-operation plan against `python -c "import click"`.

    .venv/bin/python bench/startup_bench.py [--runs 41]

Issue 14's goal: lint of a 1-operation plan <= 1.4x the floor (`python -c "import click"`, the
floor for any click CLI), with compiled bytecode as an installed wheel has it. `msgavail check
Create queue` is measured in the same interleaved runs for comparison (bench/check_bench.py
measures it alone). Whole-process wall times, medians, interleaved run by run so every command
sees the same machine load.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=41)
    args = ap.parse_args()
    exe = shutil.which("msgavail", path=os.path.dirname(sys.executable))
    if exe is None:
        raise SystemExit("msgavail is not installed in this environment")
    for pkg in ("metadata", "validator"):  # as an installed wheel: compiled bytecode
        compileall.compile_dir(os.path.join(ROOT, pkg), quiet=1)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp:
        plan = os.path.join(tmp, "plan.json")
        with open(plan, "w") as fh:
            fh.write('{"operations": [{"message": "Create", "table": "account"}]}\n')
        cmds = {
            "floor": [sys.executable, "-c", "import click"],
            "lint": [exe, "lint", plan],
            "check": [exe, "check", "Create", "queue"],
        }
        times: dict[str, list[float]] = {k: [] for k in cmds}
        for _ in range(3):  # warm the file cache
            for cmd in cmds.values():
                subprocess.run(cmd, capture_output=True, env=env, cwd=tmp)
        for _ in range(args.runs):
            for name, cmd in cmds.items():
                t0 = time.perf_counter()
                rc = subprocess.run(cmd, capture_output=True, env=env, cwd=tmp).returncode
                times[name].append(time.perf_counter() - t0)
                if name == "lint" and rc != 0:
                    raise SystemExit(f"unexpected exit status {rc} from {' '.join(cmd)}")
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"python -c 'import click'      : median {med['floor'] * 1e3:6.1f} ms")
    print(f"msgavail lint (1 operation)   : median {med['lint'] * 1e3:6.1f} ms  ratio "
          f"{med['lint'] / med['floor']:.2f}  (goal <= 1.4)")  # fmt: skip
    print(f"msgavail check Create queue   : median {med['check'] * 1e3:6.1f} ms  ratio "
          f"{med['check'] / med['floor']:.2f}  ({args.runs} runs each, interleaved)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
