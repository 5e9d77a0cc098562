"""A hostile disk: the journal is truncated, deleted, garbled, its counter rolled back, entries
made invalid. Every command either works on what is readable or refuses with exit 2 and a
message naming the journal and the way out; no queued operation is lost without a word, and
no "internal error" ever appears. `queue export` and `queue repair` save what is readable."""

from __future__ import annotations

import json
import os
import sqlite3
import typing as t

import pytest

from tests.cli_runner import run_cli
from tests.executor_support import write_plan
from validator.executor.journal import DBNAME, journal_dir

N = 30


def _plan(tmp_path, n=N, first=0, name="plan.json"):
    ops = [
        {"message": "Create", "table": "account", "data": {"name": f"A{i}", "pad": "x" * 300}}
        for i in range(first, first + n)
    ]
    return write_plan(tmp_path / name, ops)


@pytest.fixture
def queued(tmp_path, data_dir, capsys):
    result = run_cli(["run", _plan(tmp_path), "--offline", "--format", "json"], capsys)
    assert result.exit_code == 0, result.stderr
    ops = json.loads(result.stdout)["queued"]
    assert [op["seq"] for op in ops] == list(range(1, N + 1))
    return {op["seq"]: op for op in ops}


def _db(data_dir) -> str:
    return os.path.join(journal_dir("local", data_dir), DBNAME)


def _sql(data_dir, statement, *args):
    con = sqlite3.connect(_db(data_dir))
    try:
        con.execute(statement, args)
        con.commit()
    finally:
        con.close()


def _no_internal_error(result) -> None:
    assert "internal error" not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def _refused(result, *needles) -> None:
    _no_internal_error(result)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "journal local" in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr


def _every_command(tmp_path, capsys, org):
    """What a user would try next; each result, by name (sync to a harvested org)."""
    return {
        "queue": run_cli(["queue"], capsys),
        "queue-json": run_cli(["queue", "--format", "json", "--all"], capsys),
        "run": run_cli(["run", _plan(tmp_path, 1, 999, "more.json"), "--offline"], capsys),
        "get": run_cli(["get", "account", "--where", "name=A1"], capsys),
        "sync": run_cli(["sync", "--org", org.url, "--journal", "local", "--retries", "0"], capsys),
    }


def _named_seqs(text: str) -> set[int]:
    import re

    named: set[int] = set()
    for a, b in re.findall(r"#(\d+)(?:-#(\d+))?", text):
        named.update(range(int(a), int(b or a) + 1))
    return named


def _export(tmp_path, capsys) -> tuple[int, dict[str, t.Any]]:
    out = tmp_path / f"export-{len(os.listdir(tmp_path))}.json"
    result = run_cli(["queue", "export", "-o", str(out)], capsys)
    _no_internal_error(result)
    return result.exit_code, json.loads(out.read_text())


@pytest.mark.parametrize("how", ["truncate", "delete"])
def test_an_emptied_or_deleted_database_is_refused_never_recreated(
    tmp_path, data_dir, capsys, queued, org, how
):
    if how == "truncate":
        open(_db(data_dir), "w").close()
    else:
        os.remove(_db(data_dir))
        for side in ("-wal", "-shm"):
            if os.path.exists(_db(data_dir) + side):
                os.remove(_db(data_dir) + side)
    for name, result in _every_command(tmp_path, capsys, org).items():
        _refused(result, "is damaged")
        assert ("empty (0 bytes)" if how == "truncate" else "missing") in result.stderr, name
    # Nothing re-created it behind the user's back.
    assert (
        (os.path.getsize(_db(data_dir)) == 0)
        if how == "truncate"
        else not os.path.exists(_db(data_dir))
    )


def test_a_counter_rolled_back_or_deleted_never_overwrites(tmp_path, data_dir, capsys, queued, org):
    for counter in (5, None):
        if counter is None:
            _sql(data_dir, "DELETE FROM Cache WHERE key = 'meta:seq'")
        else:
            _sql(data_dir, "UPDATE Cache SET value = ? WHERE key = 'meta:seq'", counter)
        result = run_cli(["run", _plan(tmp_path, 2, 100, "more.json"), "--offline"], capsys)
        _no_internal_error(result)
        assert result.exit_code == 0
        assert "sequence counter" in result.stderr and "nothing was overwritten" in result.stderr
    doc = json.loads(run_cli(["queue", "--format", "json"], capsys).stdout)
    ops = {op["seq"]: op for op in doc["operations"]}
    assert sorted(ops) == list(range(1, N + 5))
    for seq, original in queued.items():  # every original operation is intact
        assert ops[seq]["data"] == original["data"] and ops[seq]["op_id"] == original["op_id"]


@pytest.mark.parametrize(
    ("garbage", "reason"),
    [
        (b'{"seq": 7, "state": "pend', "not valid JSON"),
        (b'{"seq": 7, "state": "pending", "message": "Cr\xff\xfeate"}', "not valid UTF-8"),
        (b"[1, 2, 3]", "not an operation"),
    ],
)
def test_an_invalid_entry_is_named_and_the_readable_ones_are_kept(
    tmp_path, data_dir, capsys, queued, org, garbage, reason
):
    _sql(data_dir, "UPDATE msgavail_ops SET value = CAST(? AS TEXT) WHERE seq = ?", garbage, 7)
    results = _every_command(tmp_path, capsys, org)
    listing = results.pop("queue")
    _refused(listing, "#7", reason, "queue export", "queue repair")
    assert listing.stdout.count("pending ") == N - 1  # every readable one is still listed
    doc = json.loads(results.pop("queue-json").stdout)
    assert [d["seq"] for d in doc["damaged"]] == [7]
    assert len(doc["operations"]) == N - 1
    _refused(results.pop("run"), "#7")
    _refused(results.pop("sync"), "#7")
    get = results.pop("get")  # the local store is intact: reads still work
    _no_internal_error(get)
    assert get.exit_code == 0 and "A1" in get.stdout
    # Export saves the readable ones and names the damaged one.
    code, plan = _export(tmp_path, capsys)
    assert code == 1
    assert [op["x-msgavail-seq"] for op in plan["operations"]] == [s for s in queued if s != 7]
    assert plan["x-msgavail-export"]["unreadable"][0].startswith("#7")


def test_garbled_pages_are_reported_and_repair_keeps_what_is_readable(
    tmp_path, data_dir, capsys, queued, org
):
    # Checkpoint the WAL into the database, then overwrite pages in its middle.
    con = sqlite3.connect(_db(data_dir))
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = con.execute("PRAGMA page_size").fetchone()[0]
    pages = con.execute("PRAGMA page_count").fetchone()[0]
    con.close()
    assert pages > 6
    with open(_db(data_dir), "r+b") as fh:
        fh.seek(page * (pages // 2))
        fh.write(b"\x5a" * page)
    for result in _every_command(tmp_path, capsys, org).values():
        _refused(result, "is damaged", "queue export", "queue repair")
    repaired = run_cli(["queue", "repair", "--yes"], capsys)
    _no_internal_error(repaired)
    assert repaired.exit_code in (0, 1)
    assert "moved the damaged journal to" in repaired.stdout
    aside = [d for d in os.listdir(os.path.dirname(journal_dir("local", data_dir)))
             if d.startswith("local.damaged-")]  # fmt: skip
    assert len(aside) == 1  # the damaged copy is kept for a closer look
    doc = json.loads(run_cli(["queue", "--format", "json", "--all"], capsys).stdout)
    kept = {op["seq"] for op in doc["operations"]}
    lost = set(queued) - kept
    # What repair could not read it names; what it kept is exactly what was queued.
    named = _named_seqs(repaired.stderr)
    assert lost <= named  # nothing vanished without a word
    assert repaired.exit_code == (1 if lost else 0)
    assert kept, "repair kept nothing"
    for seq in kept:
        assert (
            next(op for op in doc["operations"] if op["seq"] == seq)["data"] == queued[seq]["data"]
        )
    # The repaired journal is a working journal: new operations follow the old numbers.
    more = run_cli(["run", _plan(tmp_path, 1, 500, "after.json"), "--offline", "--format",
                    "json"], capsys)  # fmt: skip
    assert more.exit_code == 0, more.stderr
    assert json.loads(more.stdout)["queued"][0]["seq"] == N + 1


def test_an_export_requeues_into_a_fresh_journal_with_the_same_ids(
    tmp_path, data_dir, capsys, queued, org
):
    code, plan = _export(tmp_path, capsys)
    assert code == 0 and len(plan["operations"]) == N
    path = tmp_path / "exported.json"
    path.write_text(json.dumps(plan))
    requeued = run_cli(
        ["run", str(path), "--offline", "--format", "json", "--data-dir", str(tmp_path / "d2")],
        capsys,
    )
    assert requeued.exit_code == 0, requeued.stdout + requeued.stderr
    again = json.loads(requeued.stdout)["queued"]
    assert [(op["message"], op["id"], op["data"]) for op in again] == [
        (op["message"], op["id"], op["data"]) for op in queued.values()
    ]


def test_repair_of_a_deleted_database_moves_it_aside_and_starts_afresh(
    tmp_path, data_dir, capsys, queued, org
):
    os.remove(_db(data_dir))
    assert run_cli(["queue"], capsys).exit_code == 2
    repaired = run_cli(["queue", "repair", "--yes"], capsys)
    _no_internal_error(repaired)
    assert "moved the damaged journal to" in repaired.stdout
    assert "no readable database" in repaired.stderr and repaired.exit_code == 1
    listing = run_cli(["queue"], capsys)
    assert listing.exit_code == 0 and "nothing queued" in listing.stdout


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (b'{"seq": 8, "state": "pending", "message": "Create"}', "its stored sequence number is 8"),
        (b'{"seq": 7, "state": "asleep", "message": "Create"}', "unknown state 'asleep'"),
        (b'{"seq": 7, "state": "pending", "table": "account"}', "no message"),
    ],
)
def test_an_entry_that_is_json_but_no_valid_operation_is_named_with_why(
    tmp_path, data_dir, capsys, queued, entry, reason
):
    _sql(data_dir, "UPDATE msgavail_ops SET value = CAST(? AS TEXT) WHERE seq = ?", entry, 7)
    listing = run_cli(["queue"], capsys)
    _refused(listing, f"#7 ({reason}", "queue export", "queue repair")
    assert listing.stdout.count("pending ") == N - 1
    code, plan = _export(tmp_path, capsys)
    assert code == 1
    assert [op["x-msgavail-seq"] for op in plan["operations"]] == [s for s in queued if s != 7]
    assert reason in plan["x-msgavail-export"]["unreadable"][0]


def _ops_table(data_dir) -> list[tuple[int, bytes]]:
    con = sqlite3.connect(_db(data_dir))
    try:
        rows = con.execute("SELECT seq, CAST(value AS BLOB) FROM msgavail_ops ORDER BY seq")
        return rows.fetchall()
    finally:
        con.close()


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (b'{"seq": 8, "state": "pending", "message": "Create"}', "its stored sequence number is 8"),
        (b'{"seq": "7", "state": "pending", "message": "Create"}', "sequence number is '7'"),
        (b'{"state": "pending", "message": "Create"}', "sequence number is None"),
        (b'{"seq": 7, "state": "asleep", "message": "Create"}', "unknown state 'asleep'"),
        (b'{"seq": 7, "message": "Create"}', "unknown state None"),
        (b'{"seq": 7, "state": ["pending"], "message": "Create"}', "unknown state ['pending']"),
        (b'{"seq": 7, "state": "pending", "table": "account"}', "no message"),
        (b'{"seq": 7, "state": "pending", "message": 7}', "no message"),
        (b'{"seq": 7, "state": "pending", "message": ""}', "an empty message"),
    ],
)
def test_run_offline_appends_nothing_after_an_entry_that_is_no_valid_operation(
    tmp_path, data_dir, capsys, queued, entry, reason
):
    _sql(data_dir, "UPDATE msgavail_ops SET value = CAST(? AS TEXT) WHERE seq = ?", entry, 7)
    before = _ops_table(data_dir)
    result = run_cli(["run", _plan(tmp_path, 2, 100, "more.json"), "--offline"], capsys)
    _refused(result, "#7 (", reason, "queue export", "queue repair")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert _ops_table(data_dir) == before  # nothing appended, nothing rewritten
    listing = run_cli(["queue"], capsys)  # the readers name the same entry, for the same reason
    _refused(listing, "#7 (", reason)
