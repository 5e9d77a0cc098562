"""Benchmark for `msgavail serve`: /v1/check throughput and /v1/lint latency.

    .venv/bin/python bench/serve_bench.py [--duration 8] [--rounds 3] [--connections 32]

Needs wrk (Debian: `apt-get install -y wrk`) and the serve extra. Starts one `msgavail serve
--port 0` over the published default and, in the same run:

1. wrk at --connections (default 32) against GET /_bench/constant (a constant JSON object through
   the same server, routing and response path: the baseline) and GET /v1/check, rotating over
   (a) 200 distinct (message, table) questions (a client's hot set: memoized answers) and
   (b) every published pair spelled every way (case, schema and entity set names): more
   distinct questions than the memo holds, so each answer is computed by the engine. Rounds are
   interleaved so all three see the same machine load; medians of requests/s, p50 and p99.
   Goal: /v1/check >= 0.8 of the constant endpoint's requests/s.
2. POST /v1/lint of a 1,000-operation JSON plan (sequential requests, median wall time) against
   `msgavail lint FILE --format json` of the same file (whole process, median), interleaved.
Prints the figures and ratios; they go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
"""


def start_server() -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "validator.cli", "serve", "--port", "0", "--bench-endpoint"]
    proc = subprocess.Popen(
        cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=ROOT
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    m = re.match(r"serving (http://\S+) ", line)
    if not m:
        proc.kill()
        raise SystemExit(f"msgavail serve did not start: {line}")
    return proc, m.group(1)


def wrk(
    url: str, paths: list[str], duration: float, connections: int, workdir: str
) -> dict[str, t.Any]:
    script = os.path.join(workdir, f"paths-{len(paths)}.lua")
    with open(script, "w") as fh:
        fh.write(LUA % ",".join(json.dumps(p) for p in paths))
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--latency",
            "-s",
            script,
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def pct(p: str) -> float:
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert m, out
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"wrk saw {errors.group(1)} error responses:\n{out}")
    return {"rps": rps, "p50": pct("50"), "p99": pct("99")}


def check_paths(limit: int | None, seed: int = 7) -> list[str]:
    """/v1/check URLs over published (message, table) pairs: the first ``limit`` of them, or
    (None) every pair spelled every way a client may spell it (message in three cases; table
    by logical, schema and entity set name), more distinct questions than the memo holds."""
    from metadata import published

    snap = published.load()
    pairs = sorted({(f.message, f.primary) for f in snap.filters if f.primary})
    questions: list[tuple[str, str]] = []
    if limit is not None:
        questions = pairs
    else:
        for m, table in pairs:
            tb = snap.table(table)
            names = {table, *(n for n in (tb and tb.schema_name, tb and tb.entity_set_name) if n)}
            questions.extend((mm, n) for mm in {m, m.lower(), m.upper()} for n in sorted(names))
    random.Random(seed).shuffle(questions)
    chosen = questions if limit is None else questions[:limit]
    return ["/v1/check?" + urllib.parse.urlencode({"message": m, "table": t}) for m, t in chosen]


def plan_file(workdir: str, n: int = 1000) -> str:
    from metadata import published

    snap = published.load()
    pairs = sorted({(f.message, f.primary) for f in snap.filters if f.primary})
    rng = random.Random(11)
    ops = []
    for i in range(n):
        message, table = rng.choice(pairs)
        ops.append({"message": message, "table": table, "data": {"name": f"row {i}"}})
    path = os.path.join(workdir, "plan-1000.json")
    with open(path, "w") as fh:
        json.dump({"operations": ops}, fh, indent=2)
    return path


def bench_lint(url: str, path: str, runs: int) -> tuple[float, float, int]:
    import httpx

    with open(path, "rb") as fh:
        body = fh.read()
    service, cli = [], []
    diagnostics = -1
    with httpx.Client(base_url=url, timeout=60) as client:
        client.post("/v1/lint", content=body, headers={"content-type": "application/json"})
        for _ in range(runs):
            t0 = time.perf_counter()
            r = client.post("/v1/lint", content=body, headers={"content-type": "application/json"})
            service.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text
            diagnostics = len(r.json()["diagnostics"])
            t0 = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-m", "validator.cli", "lint", path, "--format", "json"],
                capture_output=True,
                cwd=ROOT,
            )
            cli.append(time.perf_counter() - t0)
            assert out.returncode in (0, 1), out.stderr
            assert len(json.loads(out.stdout)["diagnostics"]) == diagnostics
    return statistics.median(service), statistics.median(cli), diagnostics


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=8.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--lint-runs", type=int, default=7)
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install -y wrk)")
    proc, url = start_server()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            cases = {
                "constant": ["/_bench/constant"],
                "check (200 questions)": check_paths(200),
                "check (cold: >memo)": check_paths(None),
            }
            for paths in cases.values():  # warm up: imports, memo, CPU caches
                wrk(url, paths, 2, args.connections, workdir)
            results: dict[str, list[dict[str, t.Any]]] = {k: [] for k in cases}
            names = list(cases)
            for i in range(args.rounds):
                # Each round starts with another case, so none always follows the same one.
                for name in names[i % len(names) :] + names[: i % len(names)]:
                    results[name].append(
                        wrk(url, cases[name], args.duration, args.connections, workdir)
                    )
            print(
                f"{args.connections} connections, wrk -t2, {args.rounds} rounds of "
                f"{args.duration:g} s, medians:"
            )
            base = statistics.median(r["rps"] for r in results["constant"])
            for name, runs in results.items():
                rps = statistics.median(r["rps"] for r in runs)
                p50 = statistics.median(r["p50"] for r in runs)
                p99 = statistics.median(r["p99"] for r in runs)
                # The ratio round by round (each round runs the cases back to back), then the
                # median: steadier than a ratio of medians on a shared, noisy machine.
                ratio = statistics.median(
                    r["rps"] / c["rps"] for r, c in zip(runs, results["constant"], strict=True)
                )
                print(
                    f"  {name:<24} {rps:>9,.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
                    f"{ratio:5.2f}x constant (ratio of medians {rps / base:.2f})"
                )
            from validator.serve.state import CHECK_MEMO_SIZE

            print(
                f"  (cold rotates over {len(cases['check (cold: >memo)'])} distinct questions; "
                f"the memo holds {CHECK_MEMO_SIZE})"
            )
            path = plan_file(workdir)
            service, cli, n = bench_lint(url, path, args.lint_runs)
            print(f"lint of a 1,000-operation plan ({n} diagnostics), medians of {args.lint_runs}:")
            print(f"  POST /v1/lint            {service * 1000:8.1f} ms")
            print(
                f"  msgavail lint (process)  {cli * 1000:8.1f} ms   "
                f"service is {cli / service:.1f}x faster"
            )
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
