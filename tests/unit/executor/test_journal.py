"""The journal on diskcache: durable settings, JSON values, one transaction, monotonic seqs."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3

import pytest

from metadata.errors import (
    InsecureURLError,
    JournalDamagedError,
    JournalError,
    JournalLockedError,
    PlanError,
)
from validator.api import load_engine
from validator.executor.enqueue import queue_operations
from validator.executor.journal import Journal, journal_dir, journal_name, normalize_org
from validator.plan import Operation, Related


def _op(index: int, message: str, table: str | None = None, **kw) -> Operation:
    return Operation(index=index, message=message, table=table, path="plan.json", line=index + 2,
                     column=5, **kw)  # fmt: skip


@pytest.fixture
def journal(tmp_path):
    with Journal.open(tmp_path / "j") as j:
        yield j


@pytest.fixture(scope="module")
def engine():
    return load_engine()  # the published default


def test_settings_are_the_durable_ones_and_persist(tmp_path):
    Journal.open(tmp_path / "j").close()
    db = sqlite3.connect(tmp_path / "j" / "cache.db")
    settings = dict(db.execute("SELECT key, value FROM Settings").fetchall())
    assert settings["eviction_policy"] == "none"
    assert settings["sqlite_synchronous"] == 2
    assert settings["disk_min_file_size"] >= 2**30
    db.close()


def test_values_are_inline_json_text_never_pickles(journal, engine, tmp_path):
    big = "x" * 100_000  # far above diskcache's default 32 KiB side-file threshold
    queue_operations(journal, engine, [_op(0, "Create", "account", data={"description": big})])
    journal.close()
    db = sqlite3.connect(tmp_path / "j" / "cache.db")
    rows = db.execute("SELECT key, typeof(value), value, filename FROM Cache").fetchall()
    ours = db.execute(
        "SELECT typeof(value), value FROM msgavail_ops"
        " UNION ALL SELECT typeof(value), value FROM msgavail_records"
    ).fetchall()
    db.close()
    assert sorted(key for key, *_ in rows) == ["meta:seq"]  # diskcache's table: the counter
    for key, kind, _value, filename in rows:
        assert filename is None, f"{key} went to a side file"
        assert kind == "integer"
    assert len(ours) == 2  # the operation and its local record
    for kind, value in ours:
        assert kind == "text"
        assert json.loads(value)["data"]["description"] == big
    side_files = [f for _, _, files in os.walk(tmp_path / "j") for f in files if f.endswith(".val")]
    assert side_files == []


def test_a_plan_is_queued_all_or_nothing(journal, engine):
    rid = "0f8fad5b-d9cb-469f-a165-70867728950e"
    ok = [_op(0, "Create", "account", id=rid, data={"name": "A"})]
    assert len(queue_operations(journal, engine, ok).queued) == 1
    # The third operation creates an id the local store already holds: the whole plan fails.
    again = [
        _op(0, "Create", "contact", data={"lastname": "B"}),
        _op(1, "Update", "contact", id="7c9e6679-7425-40de-944b-e07fc1f90ae7", data={"x": 1}),
        _op(2, "Create", "account", id=rid, data={"name": "dup"}),
    ]
    with pytest.raises(PlanError, match="already in the local store") as err:
        queue_operations(journal, engine, again)
    assert err.value.line == 4
    assert [op["seq"] for op in journal.ops()] == [1]
    assert list(journal.records("contact")) == []
    assert journal.last_seq() == 1
    assert journal.record("account", rid)["data"] == {"name": "A"}


def test_sequence_numbers_increase_across_reopen_and_are_never_reused(tmp_path, engine):
    plan = [_op(i, "Create", "account", data={"name": str(i)}) for i in range(3)]
    with Journal.open(tmp_path / "j") as j:
        queue_operations(j, engine, plan)
        j.set_state(j.ops(), "dropped")
    with Journal.open(tmp_path / "j") as j:
        queued = queue_operations(j, engine, plan).queued
        assert [op["seq"] for op in queued] == [4, 5, 6]
        assert [op["seq"] for op in j.ops()] == [1, 2, 3, 4, 5, 6]
        assert [op["state"] for op in j.ops()] == ["dropped"] * 3 + ["pending"] * 3


def test_state_rewrites_keep_journal_order(journal, engine):
    plan = [_op(i, "Create", "account", data={"name": str(i)}) for i in range(12)]
    queue_operations(journal, engine, plan)
    ops = journal.ops()
    journal.set_state([ops[7], ops[2]], "parked", last_error={"status": 400})
    journal.set_state([ops[2]], "pending")
    assert [op["seq"] for op in journal.ops()] == list(range(1, 13))
    assert [op["seq"] for op in journal.ops({"parked"})] == [8]


def test_labels_ids_and_relationships_are_resolved_when_queued(journal, engine):
    plan = [
        _op(0, "Create", "account", label="acct", data={"name": "A"}),
        _op(1, "Create", "contact", label="c",
            data={"lastname": "S", "parentcustomerid_account@odata.bind": "$acct"}),
        _op(2, "Associate", "account", id="$acct", relationship="rel",
            related=(Related("contact", "$c"), Related("contact", "$c"))),
    ]  # fmt: skip
    queued = queue_operations(journal, engine, plan).queued
    acct, contact = queued[0]["id"], queued[1]["id"]
    assert acct and contact and acct != contact
    assert queued[1]["binds"] == {"parentcustomerid_account": {"table": "account", "id": acct}}
    assert queued[1]["data"] == {"lastname": "S"}
    # One journal entry per related record: each is exactly one request at playback.
    assert [(op["message"], op["id"], op["related"]) for op in queued[2:]] == [
        ("Associate", acct, {"table": "contact", "id": contact}),
    ] * 2
    assert journal.record("contact", contact)["data"]["_parentcustomerid_account_value"] == acct


def test_playback_lock_admits_one_sync(tmp_path):
    with Journal.open(tmp_path / "j") as a, Journal.open(tmp_path / "j") as b:
        a.acquire_playback_lock()
        with pytest.raises(JournalLockedError):
            b.acquire_playback_lock()
        a.release_playback_lock()
        b.acquire_playback_lock()


def test_one_journal_per_org_in_the_data_dir():
    urls = ("https://Contoso.crm.dynamics.com/", "https://contoso.crm.dynamics.com/api/data/v9.2")
    same = {journal_name(u) for u in urls}
    assert len(same) == 1
    assert journal_name("https://fabrikam.crm.dynamics.com") not in same
    assert journal_name(None) == "local"
    assert normalize_org("HTTPS://A.example/") == "https://a.example"
    with pytest.raises(InsecureURLError):
        journal_name("http://contoso.crm.dynamics.com")  # a token would travel in clear
    assert journal_dir("local", "/data") == os.path.join("/data", "journals", "local")


def test_an_append_never_replaces_an_operation_even_with_the_counter_behind(tmp_path, engine):
    plan = [_op(i, "Create", "account", data={"name": str(i)}) for i in range(4)]
    with Journal.open(tmp_path / "j") as j:
        first = queue_operations(j, engine, plan).queued
        with j.transaction():
            j._write_counter(1)  # a damaged counter, as if rolled back
        assert j.verify() == [
            "the sequence counter of journal j was 1, below the highest queued operation #4; "
            "it was set to 4 (nothing was overwritten)"
        ]
        with j.transaction():
            j._write_counter(0)
        again = queue_operations(j, engine, plan).queued  # numbered after what is present
        assert [op["seq"] for op in again] == [5, 6, 7, 8]
        assert [op["op_id"] for op in j.ops()][:4] == [op["op_id"] for op in first]
        with pytest.raises(JournalError, match="would replace an existing entry"):
            j.restore([dict(first[0])], 0)  # type: ignore[list-item]
        assert len(j.ops()) == 8


def test_a_new_journal_appears_whole_and_a_half_one_is_damaged(tmp_path):
    Journal.open(tmp_path / "j").close()
    assert sorted(os.listdir(tmp_path)) == ["j"]  # the build directory was renamed into place
    os.remove(tmp_path / "j" / "cache.db")
    with pytest.raises(JournalDamagedError, match="its database is missing") as err:
        Journal.open(tmp_path / "j")
    assert err.value.path == str(tmp_path / "j")
    assert not os.path.exists(tmp_path / "j" / "cache.db")  # never re-created
    with pytest.raises(JournalError, match="nothing was queued"):
        Journal.open(tmp_path / "other", create=False)


def test_ops_read_in_one_range_in_order_with_records_apart(journal, engine):
    plan = [_op(i, "Create", "account", data={"name": str(i)}) for i in range(25)]
    queue_operations(journal, engine, plan)
    scan = journal.scan()
    assert [op["seq"] for op in scan.ops] == list(range(1, 26)) and scan.damaged == []
    assert journal.counts() == {"pending": 25}
    assert len(list(journal.records("account"))) == 25


def test_ops_come_in_chunks_that_see_the_writes_made_between_them(journal, engine):
    plan = [_op(i, "Create", "account", data={"name": str(i)}) for i in range(25)]
    queue_operations(journal, engine, plan)
    chunks = journal.iter_ops({"pending"}, chunk=10)
    first = next(chunks)
    assert [op["seq"] for op in first] == list(range(1, 11))
    journal.set_state([journal.get(15)], "done")  # between two chunks: seen by the next one
    assert [op["seq"] for op in next(chunks)] == [11, 12, 13, 14, 16, 17, 18, 19, 20]
    assert [op["seq"] for op in next(chunks)] == [21, 22, 23, 24, 25]
    assert next(chunks, None) is None
    assert [len(c) for c in journal.iter_ops(chunk=10, after=20)] == [5]
    # sqlite3's own context manager commits but does not close (Python 3.13 warns of it).
    with contextlib.closing(sqlite3.connect(os.path.join(journal.directory, "cache.db"))) as db:
        db.execute("UPDATE msgavail_ops SET value = '{' WHERE seq = 12")
        db.commit()
    chunks = journal.iter_ops(chunk=10)
    assert len(next(chunks)) == 10  # the damage is met where it is, never skipped
    with pytest.raises(JournalDamagedError, match="#12 \\(not valid JSON"):
        next(chunks)


FORMAT1 = os.path.join(os.path.dirname(__file__), "..", "..", "data", "journal-format1")


def test_a_journal_of_the_earlier_format_is_converted_whole_once(tmp_path, engine):
    """tests/data/journal-format1 was written by the previous release: five operations (#1
    done, #5 parked), three local records, the org, in diskcache entries."""
    import shutil

    shutil.copytree(FORMAT1, tmp_path / "j")
    with Journal.open(tmp_path / "j") as j:
        assert j.verify() == [
            "the journal j was converted to this version's format: 5 operation(s) and 3 local "
            "record(s) moved into its own tables in the same database, in one transaction (an "
            "older msgavail no longer sees them)"
        ]
        ops = j.ops()
        assert [(op["seq"], op["message"], op["state"]) for op in ops] == [
            (1, "Create", "done"), (2, "Create", "pending"), (3, "Update", "pending"),
            (4, "Associate", "pending"), (5, "Delete", "parked"),
        ]  # fmt: skip
        assert (ops[4].get("last_error") or {}).get("message") == "no"
        assert j.org == "https://contoso.crm.dynamics.com"
        assert j.last_seq() == 5 and j.check() == []
        account = j.record("account", "0F8FAD5B-D9CB-469F-A165-70867728950E")
        assert account is not None and account["data"] == {"name": "Contoso \u00e9"}
        contact = j.record("contact", "7c9e6679-7425-40de-944b-e07fc1f90ae7")
        assert contact is not None and contact["data"]["telephone1"] == "555"
        assert [r["id"] for r in j.records("account")] == [
            "0f8fad5b-d9cb-469f-a165-70867728950e", "16fd2706-8baf-433b-82eb-8c7fada847da",
        ]  # fmt: skip
        more = queue_operations(j, engine, [_op(0, "Create", "account", data={"name": "B"})])
        assert [op["seq"] for op in more.queued] == [6]
    with Journal.open(tmp_path / "j") as j:  # converted once: nothing more to say
        assert j.verify() == [] and len(j.ops()) == 6
    db = sqlite3.connect(tmp_path / "j" / "cache.db")
    left = db.execute("SELECT key FROM Cache ORDER BY key").fetchall()
    db.close()
    assert left == [("meta:org",), ("meta:seq",)]


def test_an_old_format_entry_that_cannot_be_converted_is_named_not_dropped(tmp_path):
    import shutil

    shutil.copytree(FORMAT1, tmp_path / "j")
    db = sqlite3.connect(tmp_path / "j" / "cache.db")
    db.execute("UPDATE Cache SET key = 'op:7x' WHERE key = 'op:0000000000000003'")
    db.commit()
    db.close()
    with Journal.open(tmp_path / "j") as j:
        with pytest.raises(JournalDamagedError, match="op:7x \\(an entry of the old format"):
            j.verify()
        scan = j.scan()
        assert [op["seq"] for op in scan.ops] == [1, 2, 4, 5]
        assert [d.key for d in scan.damaged] == ["op:7x"]


# Entries damaged in each way the readers name, as (stored text, reason), for seq 2.
_DAMAGED_ENTRIES = [
    ('{"seq": 2, "state": "pend', "not valid JSON"),
    ("[2]", "not an operation"),
    ('"an operation"', "not an operation"),
    ('{"seq": [2], "state": "pending", "message": "Create"}', "sequence number is [2]"),
    ('{"seq": 2, "state": {"s": 1}, "message": "Create"}', "unknown state {'s': 1}"),
    ('{"seq": 2, "state": "pending", "message": ["Create"]}', "no message"),
    ('{"seq": 3, "state": "pending", "message": "Create"}', "sequence number is 3"),
    ('{"seq": "2", "state": "pending", "message": "Create"}', "sequence number is '2'"),
    ('{"state": "pending", "message": "Create"}', "sequence number is None"),
    ('{"seq": 2, "state": "asleep", "message": "Create"}', "unknown state 'asleep'"),
    ('{"seq": 2, "state": ["pending"], "message": "Create"}', "unknown state ['pending']"),
    ('{"seq": 2, "message": "Create"}', "unknown state None"),
    ('{"seq": 2, "state": "pending"}', "no message"),
    ('{"seq": 2, "state": "pending", "message": 7}', "no message"),
    ('{"seq": 2, "state": "pending", "message": null}', "no message"),
    ('{"seq": 2, "state": "pending", "message": ""}', "an empty message"),
    ('{"seq": 2, "state": "pending", "message": "Cr\u00e9ate"}', "not ASCII JSON as written"),
]


@pytest.mark.parametrize(("entry", "reason"), _DAMAGED_ENTRIES)
def test_the_check_before_an_append_flags_what_the_readers_name(tmp_path, entry, reason):
    """One definition of damage: the SQL check verify() runs before an append flags every
    entry the readers (scan, ops, get) refuse, with the readers' reason."""
    path = str(tmp_path / "j")
    with Journal.open(path) as j:
        j.append_many([{"message": "Create", "table": "account"} for _ in range(3)])
    con = sqlite3.connect(os.path.join(path, "cache.db"))
    con.execute("UPDATE msgavail_ops SET value = ? WHERE seq = 2", (entry,))
    con.commit()
    con.close()
    with Journal.open(path) as j:
        scanned = j.scan().damaged
        assert [(d.seq, reason in d.reason) for d in scanned] == [(2, True)], scanned
        with pytest.raises(JournalDamagedError) as caught:
            j.verify()
        assert "#2 (" in str(caught.value) and reason in str(caught.value)
        assert caught.value.damaged == (2,)
        with pytest.raises(JournalDamagedError):
            j.get(2)


def test_the_check_before_an_append_passes_an_intact_journal(journal, engine):
    journal.append_many([{"message": "Create", "table": "account", "data": {"n": "é"}}])
    journal.append_many([{"message": "Update", "table": "account", "id": "x", "data": {}}])
    assert journal.verify() == [] and journal._damaged_entries() == []
    assert [op["seq"] for op in journal.ops()] == [1, 2]
