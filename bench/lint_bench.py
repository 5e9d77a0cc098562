"""Benchmarks for `msgavail lint`, each against a floor measured in the same run.

    .venv/bin/pip install check-jsonschema      # the jsonschema case's baseline; not a dependency
    .venv/bin/python bench/lint_bench.py [--cases jsonschema,json,batch,mobile,memory] [--repeat 5]

Cases (all print medians and ratios; figures go to BENCHMARKS.md):

- ``jsonschema``: `msgavail lint` on a 100,000-operation plan (about 13 MB of JSON) against
  check-jsonschema on the same file with the same schema (validator/schemas/plan.schema.json),
  fresh processes, alternating; wall time and peak RSS from wait4. msgavail does more than the
  baseline: the same schema (as its fast check), the availability rules for every operation,
  label references, and a line:column for every finding.
- ``json``: linting that plan in-process (``Linter.lint_file``, engine already built) against
  ``json.load`` of the same file (issue 14 goal: <= 3x).
- ``batch``: linting a 10,000-operation OData ``$batch`` body (about 3 MB) in-process against
  reading, decoding and splitting it into lines (issue 14 goal: <= 10x).
- ``mobile``: `msgavail lint` on the same 100,000-operation plan in ``--mode mobile --profile``
  against ``--mode offline`` in the same invocation, fresh processes, alternating, both on one
  snapshot (the published default plus a mobile offline profile holding the plan's tables but
  email); wall time and peak RSS (issue 9 goal: both within 1.1x of the offline run).
- ``memory``: peak RSS of `msgavail lint --format json` in a fresh process on hostile inputs: a
  ``.batch`` padded with 20 MB of blank lines, a 200 MB ``$batch``, and a YAML plan whose
  aliases would expand to millions of nodes (issue 13 goal: under 300 MiB each), against the
  RSS of a process that only starts the CLI (`msgavail --version`).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
SCHEMA = os.path.join(ROOT, "validator", "schemas", "plan.schema.json")
TABLES = ["account", "contact", "lead", "opportunity", "incident", "task", "phonecall", "email"]
SETS = ["accounts", "contacts", "leads", "opportunities", "incidents", "tasks", "phonecalls"]


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


def _part(request: str, body: object = None, content_id: int | None = None) -> str:
    head = "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n"
    if content_id is not None:
        head += f"Content-ID: {content_id}\r\n"
    text = f"{head}\r\n{request} HTTP/1.1\r\nContent-Type: application/json; type=entry\r\n\r\n"
    if body is not None:
        text += json.dumps(body)
    return text + "\r\n"


def generate_batch(n: int, path: str, *, padding: int = 0) -> None:
    """A $batch body of ``n`` requests: changesets of 10 (Creates with Content-IDs, PATCHes and
    binds referring to them, a bound action, a DELETE), with ``padding`` bytes of blank lines
    after the first request (the hostile input of issue 13 scope 5)."""
    rnd = uuid.UUID(int=54321)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        i = 0
        while i < n:
            cs = f"changeset_{i}"
            fh.write(f"--batch_b\r\nContent-Type: multipart/mixed; boundary={cs}\r\n\r\n")
            for k in range(min(10, n - i)):
                es = SETS[(i + k) % len(SETS)]
                guid = uuid.UUID(int=rnd.int + i + k)
                fh.write(f"--{cs}\r\n")
                if k < 4:
                    req = _part(f"POST /api/data/v9.2/{es}", {"name": f"Record {i + k}",
                                "description": "x" * 40}, k + 1)  # fmt: skip
                elif k < 7:
                    req = _part(f"PATCH ${k - 3}", {"telephone1": f"555-{i + k:06d}"})
                elif k == 7:
                    bind = {"lastname": "Smith", "parentcustomerid_account@odata.bind": "$1"}
                    req = _part("POST /api/data/v9.2/contacts", bind)
                elif k == 8 and (i + k) % 100 == 8:
                    action = f"{es}({guid})/Microsoft.Dynamics.CRM.Assign"
                    req = _part(f"POST /api/data/v9.2/{action}", {"Assignee": {"id": str(guid)}})
                elif k == 8:
                    req = _part(f"GET /api/data/v9.2/{es}({guid})?$select=name")
                else:
                    target = "queues" if (i + k) % 1000 == 9 else es
                    req = _part(f"DELETE /api/data/v9.2/{target}({guid})")
                fh.write(req)
                if padding and i + k == 0:
                    chunk = "\r\n" * 65536
                    for _ in range(padding // len(chunk)):
                        fh.write(chunk)
            fh.write(f"--{cs}--\r\n")
            i += 10
        fh.write("--batch_b--\r\n")


def generate_alias_bomb(path: str, levels: int = 9) -> None:
    """The billion-laughs shape in YAML: each level's list repeats the previous one 9 times."""
    lines = ['a0: &a0 {"message": "Create", "table": "account", "data": {"name": "x"}}']
    for k in range(1, levels + 1):
        prev = f"*a{k - 1}"
        lines.append(f"a{k}: &a{k} [{', '.join([prev] * 9)}]")
    lines.append(f"operations: *a{levels}")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")


def measure(cmd: list[str], ok: t.Collection[int] = (0, 1)) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MiB, exit status) of one fresh process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.stderr is not None
    err = proc.stderr.read()
    proc.stderr.close()
    if proc.returncode not in ok:
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err.decode()[:500]}")
    return wall, usage.ru_maxrss / 1024, proc.returncode


def _paired(*fns: t.Callable[[], object], repeat: int) -> list[float]:
    """Median CPU time of each function, timed in turn in this process, ``repeat`` rounds.

    CPU time (``time.process_time``), not wall time: on this shared 2-core machine the load
    from other work moves wall times of the same code by 2x from one run to the next, while a
    single-threaded function's CPU time stays within a few percent.
    """
    for fn in fns:
        fn()  # warm caches
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, acc in zip(fns, times, strict=True):
            gc.collect()
            t0 = time.process_time()
            fn()
            acc.append(time.process_time() - t0)
    return [statistics.median(ts) for ts in times]


def case_jsonschema(tmp: str, n: int, repeat: int) -> None:
    bindir = os.path.dirname(sys.executable)
    msgavail = os.path.join(bindir, "msgavail")
    checker = shutil.which("check-jsonschema", path=bindir) or shutil.which("check-jsonschema")
    if checker is None:
        print("jsonschema: skipped (check-jsonschema not installed: pip install check-jsonschema)")
        return
    plan = os.path.join(tmp, "plan.json")
    if not os.path.exists(plan):
        generate(n, plan)
    size = os.path.getsize(plan) / 1e6
    ours_cmd = [msgavail, "lint", plan, "--format", "json", "--output", os.devnull]
    base_cmd = [checker, "--schemafile", SCHEMA, plan]
    ours: list[tuple[float, float, int]] = []
    base: list[tuple[float, float, int]] = []
    measure(ours_cmd)  # warm the page cache and .pyc files for both
    measure(base_cmd)
    for _ in range(repeat):
        ours.append(measure(ours_cmd))
        base.append(measure(base_cmd))
    t_ours = statistics.median(r[0] for r in ours)
    t_base = statistics.median(r[0] for r in base)
    m_ours = statistics.median(r[1] for r in ours)
    m_base = statistics.median(r[1] for r in base)
    print(f"jsonschema: plan of {n} operations, {size:.1f} MB; {repeat} runs each")
    print(f"  msgavail lint      : {t_ours:6.2f} s  {m_ours:6.1f} MiB  (exit {ours[0][2]})")
    print(f"  check-jsonschema   : {t_base:6.2f} s  {m_base:6.1f} MiB  (exit {base[0][2]})")
    print(f"  ratio (ours/base)  : time {t_ours / t_base:.2f}  memory {m_ours / m_base:.2f}")


def _mobile_snapshot(path: str) -> str:
    """The published default plus one mobile offline profile holding the plan's tables (so both
    modes find the same 100 Creates on queue: the same findings, the rules differ)."""
    from metadata import published, snapshot
    from metadata.model import OfflineProfile, ProfileItem, Snapshot

    base = published.load()
    items = tuple(ProfileItem(tb, "all-records") for tb in sorted(TABLES))
    tables = [
        tb._replace(is_available_offline=True, is_offline_in_mobile_client=True)
        if tb.logical_name in TABLES else tb
        for tb in base.tables
    ]  # fmt: skip
    snap = Snapshot(base.messages, base.filters, tables, base.custom_rules, source=base.source,
                    profiles=[OfflineProfile("Bench Profile", items)])  # fmt: skip
    snapshot.write(snap, path)
    return path


def case_mobile(tmp: str, n: int, repeat: int) -> None:
    msgavail = os.path.join(os.path.dirname(sys.executable), "msgavail")
    plan = os.path.join(tmp, "plan.json")
    if not os.path.exists(plan):
        generate(n, plan)
    snap = _mobile_snapshot(os.path.join(tmp, "mobile-snapshot.json"))
    common = [
        msgavail,
        "lint",
        plan,
        "--format",
        "json",
        "--output",
        os.devnull,
        "--snapshot",
        snap,
    ]
    offline_cmd = [*common, "--mode", "offline"]
    mobile_cmd = [*common, "--mode", "mobile", "--profile", "bench profile"]
    measure(offline_cmd)  # warm the page cache and .pyc files
    measure(mobile_cmd)
    off: list[tuple[float, float, int]] = []
    mob: list[tuple[float, float, int]] = []
    for _ in range(repeat):
        off.append(measure(offline_cmd))
        mob.append(measure(mobile_cmd))
    t_off = statistics.median(r[0] for r in off)
    t_mob = statistics.median(r[0] for r in mob)
    m_off = statistics.median(r[1] for r in off)
    m_mob = statistics.median(r[1] for r in mob)
    print(
        f"mobile: plan of {n} operations, {os.path.getsize(plan) / 1e6:.1f} MB; {repeat} runs each"
    )
    print(f"  lint --mode offline : {t_off:6.2f} s  {m_off:6.1f} MiB  (exit {off[0][2]})")
    print(f"  lint --mode mobile  : {t_mob:6.2f} s  {m_mob:6.1f} MiB  (exit {mob[0][2]})")
    print(f"  ratio (mobile/offline): time {t_mob / t_off:.3f}  memory {m_mob / m_off:.3f}"
          "  (goal <= 1.1 each)")  # fmt: skip


def _linter() -> t.Any:
    from validator.api import default_engine
    from validator.linter import Linter

    return Linter(default_engine())


def _reader(path: str, names: t.Any = None) -> t.Callable[[], None]:
    from validator.readers import iter_operations

    def read() -> None:
        for _ in iter_operations(path, names=names)[1]:
            pass

    return read


def case_json(tmp: str, n: int, repeat: int) -> None:
    plan = os.path.join(tmp, "plan.json")
    if not os.path.exists(plan):
        generate(n, plan)
    linter = _linter()

    def ours() -> None:
        diags, count = linter.lint_file(plan)
        assert count == n and len(diags) == n // 1000, (count, len(diags))

    def floor() -> None:
        with open(plan, encoding="utf-8") as fh:
            json.load(fh)

    t_ours, t_reader, t_floor = _paired(ours, _reader(plan), floor, repeat=repeat)
    print(f"json: plan of {n} operations, {os.path.getsize(plan) / 1e6:.1f} MB; {repeat} rounds, "
          "median CPU seconds")  # fmt: skip
    print(f"  Linter.lint_file   : {t_ours:6.3f} s  {t_ours / t_floor:5.2f}x  (goal <= 3)")
    print(f"    of which reading : {t_reader:6.3f} s  {t_reader / t_floor:5.2f}x  (rest: rules)")
    print(f"  json.load (floor)  : {t_floor:6.3f} s")


def case_batch(tmp: str, n: int, repeat: int) -> None:
    path = os.path.join(tmp, "plan.batch")
    generate_batch(n, path)
    linter = _linter()

    def ours() -> None:
        _, count = linter.lint_file(path)
        assert count == n, count

    def floor() -> None:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8")
        text.splitlines()  # a multipart reader must look at every line for delimiters

    def parts() -> None:
        with open(path, "rb") as fh:
            text = fh.read().decode("utf-8")
        for part in text.split("\r\n--"):  # and visit every part, split into its lines
            part.split("\r\n")

    # What every request costs whatever the parser: its JSON body decoded (json.loads) and one
    # Operation built positionally, as the reader builds it, with its `raw` dict.
    with open(path, "rb") as fh:
        pieces = fh.read().decode("utf-8").split("\r\n--")
    bodies = [p[p.rfind("\r\n\r\n") + 4 :] for p in pieces]
    bodies = [b for b in bodies if b.startswith("{")]
    from validator.plan import Operation

    def irreducible() -> None:
        new = tuple.__new__
        for b in bodies:
            json.loads(b)
        for i in range(n):
            raw: dict[str, t.Any] = {"method": "POST", "url": path, "headers": {}, "body": None,
                                     "content_id": None}  # fmt: skip
            new(Operation, (i, "Create", "account", None, None, None, None, None, None, (), i, 1,
                            path, raw, (), (), "", None, None, None))  # fmt: skip

    t_ours, t_reader, t_floor, t_parts, t_irr = _paired(
        ours, _reader(path, linter.names), floor, parts, irreducible, repeat=repeat
    )
    diags, _ = linter.lint_file(path)
    print(f"batch: $batch of {n} requests, {os.path.getsize(path) / 1e6:.1f} MB; {repeat} rounds, "
          f"median CPU seconds; {len(diags)} findings")  # fmt: skip
    print(f"  Linter.lint_file                   : {t_ours:6.3f} s  {t_ours / t_floor:5.1f}x "
          f"(goal <= 10); {t_ours / t_parts:4.1f}x the parts floor")  # fmt: skip
    print(f"    of which reading                 : {t_reader:6.3f} s  {t_reader / t_floor:5.1f}x")
    print(f"  read+decode+split lines (floor)    : {t_floor:6.3f} s")
    print(f"  ... and visit each part's lines    : {t_parts:6.3f} s")
    print(f"  json.loads of {len(bodies)} bodies + {n} Operations: {t_irr:6.3f} s  "
          f"{t_irr / t_floor:5.1f}x the floor (per-request work any reader does)")  # fmt: skip


def case_memory(tmp: str) -> None:
    bindir = os.path.dirname(sys.executable)
    msgavail = os.path.join(bindir, "msgavail")
    blank = os.path.join(tmp, "blank.batch")
    generate_batch(10, blank, padding=20 * 2**20)
    big = os.path.join(tmp, "big.batch")
    generate_batch(820_000, big)  # about 200 MB
    bomb = os.path.join(tmp, "bomb.yaml")
    generate_alias_bomb(bomb)
    _, floor, _ = measure([msgavail, "--version"], ok=(0,))
    print(f"memory: peak RSS of a fresh `msgavail lint --format json` (start-up only: "
          f"{floor:.1f} MiB)")  # fmt: skip
    for what, path in (("20 MB of blank lines", blank), ("200 MB $batch", big),
                       ("YAML alias bomb", bomb)):  # fmt: skip
        cmd = [msgavail, "lint", path, "--format", "json", "--output", os.devnull]
        wall, rss, rc = measure(cmd, ok=(0, 1, 2))
        size = os.path.getsize(path) / 1e6
        print(
            f"  {what:22} {size:7.1f} MB: {rss:7.1f} MiB  {wall:6.2f} s  exit {rc}  "
            "(goal < 300 MiB)"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="jsonschema,json,batch,mobile,memory")
    ap.add_argument("--operations", type=int, default=100_000)
    ap.add_argument("--batch-operations", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    cases = set(args.cases.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        if "jsonschema" in cases:
            case_jsonschema(tmp, args.operations, args.repeat)
        if "json" in cases:
            case_json(tmp, args.operations, args.repeat)
        if "batch" in cases:
            case_batch(tmp, args.batch_operations, args.repeat)
        if "mobile" in cases:
            case_mobile(tmp, args.operations, args.repeat)
        if "memory" in cases:
            case_memory(tmp)


if __name__ == "__main__":
    main()
