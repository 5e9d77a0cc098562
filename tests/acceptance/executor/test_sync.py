"""`msgavail sync`: batching, idempotent replays, throttling, refusals and exit statuses."""

from __future__ import annotations

import io
import json
import time
import typing as t
import uuid

from fixtures.emulator import writes
from tests.cli_runner import run_cli
from tests.executor_support import write_plan


def _queue(tmp_path, org, capsys, ops) -> list[dict[str, t.Any]]:
    plan = write_plan(tmp_path / f"plan-{uuid.uuid4().hex[:6]}.json", ops)
    result = run_cli(["run", plan, "--offline", "--org", org.url, "--format", "json"], capsys)
    assert result.exit_code == 0, result.stdout + result.stderr
    queued: list[dict[str, t.Any]] = json.loads(result.stdout)["queued"]
    return queued


def _creates(n: int) -> list[dict[str, t.Any]]:
    return [{"message": "Create", "table": "account", "data": {"name": f"A{i}"}} for i in range(n)]


def test_batches_carry_independent_operations(tmp_path, org, capsys):
    _queue(tmp_path, org, capsys, _creates(45))
    result = run_cli(
        ["sync", "--org", org.url, "--no-bulk", "--batch-size", "20", "--format", "json"], capsys
    )
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert (report["applied"], report["requests"], report["batches"]) == (45, 3, 3)
    assert org.count("$batch") == 3
    assert len(org.store.rows("accounts")) == 45


def test_one_request_per_operation_when_asked(tmp_path, org, capsys):
    _queue(tmp_path, org, capsys, _creates(5))
    assert (
        run_cli(["sync", "--org", org.url, "--no-bulk", "--batch-size", "1"], capsys).exit_code == 0
    )
    assert org.count("accounts(", method="PATCH") == 5
    assert org.count("$batch") == 0


def test_dependent_operations_keep_their_order_per_record(tmp_path, org, capsys):
    ops = _queue(tmp_path, org, capsys, [
        {"message": "Create", "table": "account", "label": "a", "data": {"name": "A"}},
        {"message": "Create", "table": "contact", "label": "c",
         "data": {"lastname": "L", "parentcustomerid_account@odata.bind": "$a"}},
        {"message": "Update", "table": "contact", "id": "$c", "data": {"lastname": "L2"}},
        {"message": "Delete", "table": "contact", "id": "$c"},
        {"message": "Create", "table": "account", "data": {"name": "B"}},
    ])  # fmt: skip
    assert run_cli(["sync", "--org", org.url, "--batch-size", "50"], capsys).exit_code == 0
    assert org.store.rows("contacts") == []
    assert {r["name"] for r in org.store.rows("accounts")} == {"A", "B"}
    assert writes.state(org.store).creates[("contacts", ops[1]["id"])] == 1


def test_lost_acknowledgement_is_recognised_not_duplicated(tmp_path, org, capsys):
    [op] = _queue(tmp_path, org, capsys, _creates(1))
    org.faults.lose_response(path="accounts(")
    result = run_cli(["sync", "--org", org.url], capsys)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert writes.state(org.store).creates[("accounts", op["id"])] == 1
    doc = json.loads(
        run_cli(["queue", "--org", org.url, "--all", "--format", "json"], capsys).stdout
    )
    assert doc["operations"][0]["note"] == "already applied (an earlier answer was lost)"


def test_someone_elses_record_with_our_id_is_parked_not_overwritten(tmp_path, org, capsys):
    [op] = _queue(tmp_path, org, capsys, _creates(1))
    writes.ensure_user_sets(org.store)
    org.store.insert("accounts", {"accountid": op["id"], "name": "Theirs"})
    result = run_cli(["sync", "--org", org.url], capsys)
    assert result.exit_code == 1
    assert "a different account record with id" in result.stdout
    assert org.store.rows("accounts")[0]["name"] == "Theirs"


def test_gone_records_delete_is_done_update_is_parked(tmp_path, org, capsys):
    missing = str(uuid.uuid4())
    _queue(tmp_path, org, capsys, [
        {"message": "Delete", "table": "contact", "id": missing},
        {"message": "Update", "table": "contact", "id": missing, "data": {"lastname": "x"}},
    ])  # fmt: skip
    result = run_cli(["sync", "--org", org.url, "--format", "json"], capsys)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["applied"] == 1
    [parked] = report["parked"]
    assert (parked["seq"], parked["error"]["status"]) == (2, 404)
    assert "Does Not Exist" in parked["error"]["message"]


def test_throttling_waits_retry_after(tmp_path, org, capsys):
    _queue(tmp_path, org, capsys, _creates(2))
    org.faults.throttle(retry_after=1, path="$batch")
    started = time.monotonic()
    assert run_cli(["sync", "--org", org.url, "--no-bulk"], capsys).exit_code == 0
    assert time.monotonic() - started >= 1.0
    assert [r.status for r in org.requests("$batch")] == [429, 200]


def test_a_throttled_request_inside_a_batch_waits_retry_after_too(tmp_path, org, capsys):
    _queue(tmp_path, org, capsys, _creates(3))
    writes.state(org.store).part_faults.throttle(retry_after=1, path="accounts(", after=1)
    started = time.monotonic()
    result = run_cli(["sync", "--org", org.url, "--no-bulk", "--format", "json"], capsys)
    assert result.exit_code == 0
    assert time.monotonic() - started >= 1.0
    report = json.loads(result.stdout)
    assert (report["batches"], report["requests"]) == (1, 2)  # the throttled one went alone
    assert len(org.store.rows("accounts")) == 3


def test_no_connection_exits_2_and_keeps_everything(tmp_path, org, capsys):
    _queue(tmp_path, org, capsys, _creates(3))
    url = org.url
    org.stop()
    result = run_cli(["sync", "--org", url, "--retries", "1"], capsys)
    assert result.exit_code == 2
    assert "could not reach" in result.stderr and "stay queued" in result.stderr
    doc = json.loads(run_cli(["queue", "--org", url, "--format", "json"], capsys).stdout)
    assert [op["state"] for op in doc["operations"]] == ["pending"] * 3


def test_refused_token_exits_2(tmp_path, org, capsys, monkeypatch):
    _queue(tmp_path, org, capsys, _creates(1))
    monkeypatch.setenv("DATAVERSE_TOKEN", "wrong")
    result = run_cli(["sync", "--org", org.url], capsys)
    assert result.exit_code == 2
    assert "401" in result.stderr and "wrong" not in result.stderr + result.stdout
    assert "accounts" not in org.store.tables or org.store.rows("accounts") == []


def test_sync_needs_the_harvest(tmp_path, start_emulator, token_env, cache_dir, data_dir, capsys):
    emu = start_emulator()
    plan = write_plan(tmp_path / "p.json", _creates(1))
    assert run_cli(["run", plan, "--offline"], capsys).exit_code == 0
    result = run_cli(["sync", "--org", emu.url, "--journal", "local"], capsys)
    assert result.exit_code == 2
    assert "msgavail harvest" in result.stderr
    assert emu.requests() == []


def test_etag_mode_parks_a_change_made_on_the_server_meanwhile(tmp_path, org, capsys):
    writes.ensure_user_sets(org.store)
    rid = str(uuid.uuid4())
    row = org.store.insert("contacts", {"contactid": rid, "lastname": "Old"})
    seen = org.store.etag(row)
    _queue(tmp_path, org, capsys, [
        {"message": "Update", "table": "contact", "id": rid,
         "data": {"@odata.etag": seen, "lastname": "Mine"}},
    ])  # fmt: skip
    org.store.update("contacts", rid, {"lastname": "Theirs"})  # someone else, while offline
    result = run_cli(["sync", "--org", org.url, "--etag"], capsys)
    assert result.exit_code == 1
    assert "HTTP 412" in result.stdout and "RowVersion" in result.stdout
    assert org.store.get("contacts", rid)["lastname"] == "Theirs"
    # Deciding that mine wins: retry without --etag (If-Match: *).
    assert run_cli(["queue", "retry", "--org", org.url], capsys).exit_code == 0
    assert run_cli(["sync", "--org", org.url], capsys).exit_code == 0
    assert org.store.get("contacts", rid)["lastname"] == "Mine"


def test_custom_actions_play_back_bound_to_their_record(tmp_path, org, capsys):
    ops = _queue(tmp_path, org, capsys, [
        {"message": "Create", "table": "contoso_inspection", "label": "i", "data": {"name": "I"}},
        {"message": "contoso_ScanBadge", "table": "contoso_inspection", "id": "$i",
         "parameters": {"Badge": "B-17"}},
    ])  # fmt: skip
    assert run_cli(["sync", "--org", org.url], capsys).exit_code == 0
    assert writes.state(org.store).actions == [
        ("contoso_ScanBadge", f"contoso_inspections({ops[0]['id']})", {"Badge": "B-17"})
    ]


def test_reads_are_not_queued(tmp_path, org, capsys):
    plan = write_plan(tmp_path / "reads.json", [
        {"message": "Retrieve", "table": "account", "id": str(uuid.uuid4())},
        {"message": "Create", "table": "account", "data": {"name": "A"}},
    ])  # fmt: skip
    result = run_cli(["run", plan, "--offline", "--org", org.url], capsys)
    assert result.exit_code == 0
    assert "a read: nothing to play back" in result.stdout
    assert "queued 1 operation(s)" in result.stdout


def test_the_local_journal_plays_to_the_org_named(tmp_path, org, capsys):
    plan = write_plan(tmp_path / "p.json", _creates(2))
    assert run_cli(["run", plan, "--offline"], capsys).exit_code == 0  # published default
    result = run_cli(["sync", "--org", org.url, "--journal", "local"], capsys)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert {r["name"] for r in org.store.rows("accounts")} == {"A0", "A1"}


def test_label_inside_an_odata_bind_path_is_resolved(tmp_path, org, capsys):
    """`"/accounts($a)"`, the natural OData spelling, refers to the label like `"$a"` does."""
    ops = _queue(tmp_path, org, capsys, [
        {"message": "Create", "table": "account", "label": "a", "data": {"name": "A"}},
        {"message": "Create", "table": "contact",
         "data": {"lastname": "L", "parentcustomerid_account@odata.bind": "/accounts($a)"}},
    ])  # fmt: skip
    assert run_cli(["sync", "--org", org.url], capsys).exit_code == 0
    [contact] = org.store.rows("contacts")
    assert contact["_parentcustomerid_account_value"] == ops[0]["id"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_only_and_the_summary_after_it(
    tmp_path, org, capsys, monkeypatch
):
    from validator.cli import run

    _queue(tmp_path, org, capsys, _creates(30))
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert run(["sync", "--org", org.url, "--no-bulk", "--batch-size", "10"]) == 0
    out, _ = capsys.readouterr()
    drawn = terminal.getvalue()
    assert "syncing" in drawn and "100%" in drawn and drawn.endswith("\n")
    assert out.startswith("applied 30 operation(s)")

    _queue(tmp_path, org, capsys, _creates(3))
    monkeypatch.setattr("sys.stderr", terminal := _Terminal())
    assert run(["sync", "--org", org.url, "--format", "json"]) == 0
    assert terminal.getvalue() == ""  # JSON is for programs: no bar, even on a terminal
    assert json.loads(capsys.readouterr().out)["applied"] == 3
