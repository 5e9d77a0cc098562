"""Peak memory of `msgavail sync` with 100,000 queued operations (issue 10), beside the
journal's size on disk, same run.

    .venv/bin/python bench/sync_memory_bench.py [--ops 100000] [--small 1000]

The emulator runs in this process with no server cost (memory is the question here, not pace;
bench/executor_bench.py measures pace against the limited server). The plan is
bench/journal_bench.py's: groups of an account, a contact bound to it, an update of the
contact and its delete, queued in one transaction into a fresh journal. `msgavail sync` then
runs as its own process, and its peak resident set (``VmHWM``, read by the process as it
exits; Linux) is compared with the journal directory's size on disk (database, WAL and shared
memory files) when the sync starts. Goal: at most 2x. A sync of ``--small`` operations shows
the process's fixed cost (interpreter, imports, snapshot) for scale. Every run must end with
every operation done.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import typing as t

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.journal_bench import plan
from fixtures.emulator import start
from tests.executor_support import executor_seed
from validator.api import load_engine
from validator.executor.enqueue import queue_operations
from validator.executor.journal import Journal, count_states, journal_dir

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOKEN = "bench-token"


def size_on_disk(path: str) -> int:
    return sum(os.path.getsize(os.path.join(path, name)) for name in os.listdir(path))


# `python -m validator.cli ...` that writes its peak resident set (VmHWM, Linux) to a file as
# it exits. Not ru_maxrss from wait4: a child's ru_maxrss includes its parent's resident set
# when it was forked, here the emulator holding 100,000 records.
PEAK = """
import atexit, runpy, sys
out = sys.argv.pop(1)
def peak():
    with open("/proc/self/status") as fh:
        kib = next(line.split()[1] for line in fh if line.startswith("VmHWM:"))
    with open(out, "w") as fh:
        fh.write(kib)
atexit.register(peak)
runpy.run_module("validator.cli", run_name="__main__", alter_sys=True)
"""


def sync_process(url: str, data: str, cache: str) -> tuple[int, float, int]:
    """(peak RSS in bytes, seconds, exit status) of one `msgavail sync` process."""
    import time

    env = dict(os.environ, MSGAVAIL_DATA_DIR=data, DATAVERSE_TOKEN=TOKEN, PYTHONPATH=ROOT)
    out = os.path.join(data, "peak")
    argv = [sys.executable, "-c", PEAK, out, "sync", "--org", url, "--journal", "local",
            "--cache-dir", cache, "--format", "json"]  # fmt: skip
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = time.perf_counter() - t0
    if done.returncode != 0:
        sys.stderr.write(done.stderr.decode("utf-8", "replace")[-2000:])
    with open(out) as fh:
        return int(fh.read()) * 1024, took, done.returncode


def measure(emu: t.Any, engine: t.Any, n: int, tmp: str, cache: str) -> dict[str, float]:
    data = os.path.join(tmp, f"data-{n}")
    path = journal_dir("local", data)
    with Journal.open(path) as j:
        queue_operations(j, engine, plan(n))
    disk = size_on_disk(path)
    rss, took, code = sync_process(emu.url, data, cache)
    os.remove(os.path.join(data, "peak"))
    with Journal.open(path) as j:
        states = count_states(j.ops())
    assert code == 0 and states == {"done": n}, (code, states)
    shutil.rmtree(data)
    return {"disk": disk, "rss": rss, "seconds": took}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--ops", type=int, default=100_000)
    p.add_argument("--small", type=int, default=1_000)
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="msgavail-sync-memory-")
    cache = os.path.join(tmp, "cache")
    try:
        with start(executor_seed(), token=TOKEN) as emu:
            from validator.cli import run as cli

            os.environ["DATAVERSE_TOKEN"] = TOKEN
            assert cli(["harvest", "--org", emu.url, "--cache-dir", cache]) == 0
            engine = load_engine(org=emu.url, cache_dir=cache)
            mib = 1024 * 1024
            print("`msgavail sync` peak resident set beside the journal's size on disk:")
            for n in (args.small, args.ops):
                m = measure(emu, engine, n, tmp, cache)
                print(
                    f"  {n:>7,} ops: journal {m['disk'] / mib:7.1f} MiB, peak RSS "
                    f"{m['rss'] / mib:7.1f} MiB = x{m['rss'] / m['disk']:5.2f} the journal  "
                    f"({m['seconds']:.1f} s)"
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
