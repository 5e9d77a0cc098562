"""`msgavail run --offline`, `get` and `queue` with no network at all."""

from __future__ import annotations

import io
import json
import os
import typing as t

from tests.cli_runner import run_cli
from tests.executor_support import write_plan
from validator.executor.journal import Journal, journal_dir


def _queue_json(capsys, *args: str) -> dict[str, t.Any]:
    shown = run_cli(["queue", "--format", "json", *args], capsys)
    assert shown.exit_code == 0, shown.stderr
    doc: dict[str, t.Any] = json.loads(shown.stdout)
    return doc


def test_create_on_queue_is_refused_offline_and_nothing_is_queued(tmp_path, data_dir, capsys):
    plan = write_plan(
        tmp_path / "plan.json",
        [
            {"message": "Create", "table": "account", "data": {"name": "Contoso"}},
            {"message": "Create", "table": "queue", "data": {"name": "Support"}},
        ],
    )
    result = run_cli(["run", plan, "--offline"], capsys)
    assert result.exit_code == 1
    assert f"{plan}:" in result.stdout and "MA005" in result.stdout
    assert "queue" in result.stdout
    assert "nothing queued" in result.stderr
    assert _queue_json(capsys)["operations"] == []


def test_skip_unavailable_queues_the_rest_and_says_what_it_skipped(tmp_path, data_dir, capsys):
    plan = write_plan(
        tmp_path / "plan.json",
        [
            {"message": "Create", "table": "queue", "label": "q", "data": {"name": "Q"}},
            {"message": "Create", "table": "account", "data": {"name": "Contoso"}},
            # works offline by itself, but refers to the skipped queue
            {"message": "Create", "table": "task",
             "data": {"subject": "Call", "regardingobjectid_queue@odata.bind": "$q"}},
        ],
    )  # fmt: skip
    result = run_cli(["run", plan, "--offline", "--skip-unavailable"], capsys)
    assert result.exit_code == 0, result.stderr
    skipped = result.stdout.split("queued")[0].splitlines()
    assert skipped[0] == "skipped 2 operation(s):"
    assert skipped[1].startswith(f"  {plan}:") and "MA005 Create on queue" in skipped[1]
    assert skipped[2].startswith(f"  {plan}:") and "refers to $q, which was skipped" in skipped[2]
    ops = _queue_json(capsys)["operations"]
    assert [(op["message"], op["table"]) for op in ops] == [("Create", "account")]


def test_other_errors_block_even_with_skip_unavailable(tmp_path, data_dir, capsys):
    plan = write_plan(tmp_path / "p.json", [{"message": "Creat", "table": "account"}])
    result = run_cli(["run", plan, "--offline", "--skip-unavailable"], capsys)
    assert result.exit_code == 1
    assert "MA001" in result.stdout and "Create" in result.stdout  # a suggestion


def test_run_needs_offline(tmp_path, data_dir, capsys):
    plan = write_plan(tmp_path / "p.json", [{"message": "Create", "table": "account"}])
    assert run_cli(["run", plan], capsys).exit_code == 2


def test_reading_your_own_offline_writes(tmp_path, data_dir, capsys):
    plan = write_plan(
        tmp_path / "plan.json",
        [
            {"message": "Create", "table": "account", "label": "a", "data": {"name": "Contoso"}},
            {"message": "Create", "table": "account", "label": "b", "data": {"name": "Fabrikam"}},
            {"message": "Update", "table": "account", "id": "$a", "data": {"telephone1": "555"}},
            {"message": "Delete", "table": "account", "id": "$b"},
            {"message": "Create", "table": "contact", "data": {"lastname": "Smith"}},
        ],
    )
    queued = run_cli(["run", plan, "--offline", "--format", "json"], capsys)
    assert queued.exit_code == 0, queued.stderr
    ids = [op["id"] for op in json.loads(queued.stdout)["queued"]]

    one = run_cli(["get", "account", ids[0]], capsys)
    assert one.exit_code == 0
    assert json.loads(one.stdout) == {
        "accountid": ids[0],
        "name": "Contoso",
        "telephone1": "555",
        "@msgavail.seq": 3,
    }
    found = run_cli(["get", "Account", "--where", "name=CONTOSO"], capsys)
    assert [r["accountid"] for r in json.loads(found.stdout)["value"]] == [ids[0]]
    both = run_cli(
        ["get", "account", "--where", "name=Contoso", "--where", "telephone1=556"], capsys
    )
    assert both.exit_code == 1 and json.loads(both.stdout)["value"] == []
    deleted = run_cli(["get", "account", ids[1]], capsys)
    assert deleted.exit_code == 1
    assert "no account(" in deleted.stderr
    everyone = run_cli(["get", "contact"], capsys)
    assert [r["lastname"] for r in json.loads(everyone.stdout)["value"]] == ["Smith"]


def test_journal_lives_in_the_data_dir_never_in_cwd(tmp_path, data_dir, capsys, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    plan = write_plan(work / "plan.json", [{"message": "Create", "table": "account"}])
    assert run_cli(["run", plan, "--offline"], capsys).exit_code == 0
    assert os.listdir(work) == ["plan.json"]
    assert os.path.isdir(journal_dir("local", data_dir))
    other = tmp_path / "elsewhere"
    assert run_cli(["run", plan, "--offline", "--data-dir", str(other)], capsys).exit_code == 0
    assert os.path.isdir(journal_dir("local", str(other)))


def test_queue_retry_and_drop(tmp_path, data_dir, capsys, monkeypatch):
    plan = write_plan(
        tmp_path / "plan.json",
        [{"message": "Create", "table": "account", "data": {"name": str(i)}} for i in range(3)],
    )
    assert run_cli(["run", plan, "--offline"], capsys).exit_code == 0
    with Journal.open(journal_dir("local", data_dir)) as journal:
        first, second, _ = journal.ops()
        journal.set_state([first, second], "parked", last_error={"status": 400, "code": "0x1",
                          "message": "A validation error occurred."})  # fmt: skip

    shown = run_cli(["queue"], capsys)
    assert "1 pending" in shown.stdout and "2 parked" in shown.stdout
    assert "HTTP 400 0x1: A validation error occurred." in shown.stdout

    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    declined = run_cli(["queue", "drop", "1"], capsys)
    assert declined.exit_code == 1 and "nothing dropped" in declined.stdout
    assert run_cli(["queue", "drop", "1", "--yes"], capsys).exit_code == 0
    assert run_cli(["queue", "retry"], capsys).exit_code == 0
    doc = _queue_json(capsys, "--all")
    assert [op["state"] for op in doc["operations"]] == ["dropped", "pending", "pending"]
    assert doc["counts"] == {"dropped": 1, "pending": 2}
    assert run_cli(["queue", "retry", "7"], capsys).exit_code == 2


def test_nothing_queued_yet_is_not_an_error_and_creates_nothing(data_dir, capsys):
    shown = run_cli(["queue", "--org", "https://contoso.crm.dynamics.com"], capsys)
    assert shown.exit_code == 0 and "nothing queued" in shown.stdout
    assert run_cli(["get", "account", "--where", "name=x"], capsys).exit_code == 1
    idle = run_cli(["sync", "--org", "https://contoso.crm.dynamics.com"], capsys)
    assert idle.exit_code == 0 and "nothing queued" in idle.stdout
    assert (
        run_cli(
            ["sync", "--org", "https://x.crm.dynamics.com", "--journal", "typo"], capsys
        ).exit_code
        == 2
    )
    assert not os.path.exists(os.path.join(data_dir, "journals"))


def test_retry_and_drop_wait_for_a_running_sync(tmp_path, data_dir, capsys):
    plan = write_plan(tmp_path / "p.json", [{"message": "Create", "table": "account"}])
    assert run_cli(["run", plan, "--offline"], capsys).exit_code == 0
    with Journal.open(journal_dir("local", data_dir)) as syncing:
        syncing.acquire_playback_lock()
        busy = run_cli(["queue", "drop", "1", "--yes"], capsys)
        assert busy.exit_code == 2 and "another `msgavail sync`" in busy.stderr
    assert run_cli(["queue", "drop", "1", "--yes"], capsys).exit_code == 0


def test_prune_forgets_only_finished_operations(tmp_path, data_dir, capsys):
    plan = write_plan(
        tmp_path / "plan.json",
        [{"message": "Create", "table": "account", "data": {"name": str(i)}} for i in range(4)],
    )
    assert run_cli(["run", plan, "--offline"], capsys).exit_code == 0
    with Journal.open(journal_dir("local", data_dir)) as journal:
        ops = journal.ops()
        journal.set_state(ops[:2], "done")
        journal.set_state(ops[2:3], "parked")
    assert run_cli(["queue", "prune", "--yes"], capsys).stdout.strip() == (
        "pruned 2 finished operation(s)"
    )
    doc = _queue_json(capsys, "--all")
    assert [(op["seq"], op["state"]) for op in doc["operations"]] == [(3, "parked"), (4, "pending")]
    assert run_cli(["run", plan, "--offline"], capsys).exit_code == 0
    assert _queue_json(capsys)["operations"][-1]["seq"] == 8  # numbers are never reused


def test_finished_operations_are_listed_and_exported_only_with_all(tmp_path, data_dir, capsys):
    plan = write_plan(
        tmp_path / "plan.json",
        [{"message": "Create", "table": "account", "data": {"name": str(i)}} for i in range(4)],
    )
    assert run_cli(["run", plan, "--offline"], capsys).exit_code == 0
    with Journal.open(journal_dir("local", data_dir)) as journal:
        ops = journal.ops()
        journal.set_state(ops[:1], "done")
        journal.set_state(ops[1:2], "dropped")
        journal.set_state(ops[2:3], "parked")
    listed = _queue_json(capsys)
    assert [(op["seq"], op["state"]) for op in listed["operations"]] == [
        (3, "parked"),
        (4, "pending"),
    ]
    assert listed["counts"] == {"pending": 1, "done": 1, "parked": 1, "dropped": 1}
    assert [op["seq"] for op in _queue_json(capsys, "--all")["operations"]] == [1, 2, 3, 4]

    open_only = tmp_path / "open.json"
    result = run_cli(["queue", "export", "-o", str(open_only)], capsys)
    assert result.exit_code == 0, result.stderr
    assert (
        "exported 2 operation(s)" in result.stdout and "2 done or dropped left out" in result.stdout
    )
    names = [op["data"]["name"] for op in json.loads(open_only.read_text())["operations"]]
    assert names == ["2", "3"]
    everything = tmp_path / "all.json"
    result = run_cli(["queue", "export", "--all", "-o", str(everything)], capsys)
    assert result.exit_code == 0, result.stderr
    names = [op["data"]["name"] for op in json.loads(everything.read_text())["operations"]]
    assert names == ["0", "1", "2", "3"]
    again = run_cli(["queue", "export", "--all", "-o", str(everything)], capsys)
    assert again.exit_code == 2 and again.stderr.startswith(f"msgavail: error: {everything} exists")


SNAPSHOT = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__)))),
    "fixtures", "lint", "contoso-snapshot.json",
)  # fmt: skip


def test_warnings_are_shown_and_do_not_stop_queueing(tmp_path, data_dir, capsys):
    plan = write_plan(tmp_path / "p.json", [{"message": "Create", "table": "account"}])
    result = run_cli(["run", plan, "--offline", "--snapshot", SNAPSHOT], capsys)
    assert result.exit_code == 0, result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"{plan}:") and " MA007 metadata harvested " in first
    assert "queued 1 operation(s) (#1-#1) in journal contoso.crm.dynamics.com-" in result.stdout
    assert "play them back with: msgavail sync --org https://contoso.crm.dynamics.com" in (
        result.stdout
    )


def test_a_plan_whose_every_operation_is_skipped_queues_nothing(tmp_path, data_dir, capsys):
    plan = write_plan(tmp_path / "p.json", [{"message": "Create", "table": "queue"}])
    result = run_cli(["run", plan, "--offline", "--skip-unavailable"], capsys)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == "skipped 1 operation(s):"
    assert result.stdout.splitlines()[-1] == "nothing queued"
    assert _queue_json(capsys)["operations"] == []


def test_get_text_format_is_one_record_per_line(tmp_path, data_dir, capsys):
    plan = write_plan(
        tmp_path / "p.json",
        [{"message": "Create", "table": "account", "data": {"name": n}} for n in ("A", "B")],
    )
    queued = json.loads(run_cli(["run", plan, "--offline", "--format", "json"], capsys).stdout)
    ids = [op["id"] for op in queued["queued"]]
    shown = run_cli(["get", "account", "--format", "text"], capsys)
    assert shown.exit_code == 0
    assert sorted(shown.stdout.splitlines()) == sorted(
        f"accountid={i} name={n} @msgavail.seq={s}"
        for i, n, s in zip(ids, "AB", (1, 2), strict=True)
    )


def test_queue_actions_with_nothing_to_act_on(tmp_path, data_dir, capsys, monkeypatch):
    plan = write_plan(tmp_path / "p.json", [{"message": "Create", "table": "account"}])
    assert run_cli(["run", plan, "--offline"], capsys).exit_code == 0
    nothing = run_cli(["queue", "retry"], capsys)
    assert (nothing.exit_code, nothing.stdout) == (0, "no parked operations\n")
    nothing = run_cli(["queue", "drop"], capsys)
    assert (nothing.exit_code, nothing.stdout) == (0, "nothing to drop\n")
    nothing = run_cli(["queue", "prune"], capsys)
    assert (nothing.exit_code, nothing.stdout) == (0, "nothing to prune\n")
    with Journal.open(journal_dir("local", data_dir)) as journal:
        journal.set_state(journal.ops(), "done", note="already there")
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    declined = run_cli(["queue", "prune"], capsys)
    assert declined.exit_code == 1 and declined.stdout.endswith("nothing pruned\n")
    listed = run_cli(["queue", "--all"], capsys)
    assert listed.stdout.splitlines()[-1].endswith(")  (already there)")
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    declined = run_cli(["queue", "repair"], capsys)
    assert declined.exit_code == 1 and declined.stdout.endswith("nothing changed\n")
    assert len(_queue_json(capsys, "--all")["operations"]) == 1  # nothing was moved aside


def test_export_and_repair_of_a_journal_that_does_not_exist(tmp_path, data_dir, capsys):
    for args in (["export", "-o", str(tmp_path / "out.json")], ["repair", "--yes"]):
        result = run_cli(["queue", *args, "--journal", "nope"], capsys)
        assert result.exit_code == 2
        assert result.stderr.startswith("msgavail: error: no journal nope in ")
        assert not os.path.exists(tmp_path / "out.json")


def test_export_without_the_orgs_harvest_falls_back_to_the_published_entity_sets(
    tmp_path, data_dir, cache_dir, capsys
):
    plan = write_plan(
        tmp_path / "p.json",
        [
            {"message": "Create", "table": "account", "label": "a", "data": {"name": "A"}},
            {"message": "Create", "table": "contact",
             "data": {"parentcustomerid_account@odata.bind": "$a"}},
        ],
    )  # fmt: skip
    # Queued against a snapshot of contoso; contoso was never harvested into this cache.
    queued = run_cli(["run", plan, "--offline", "--snapshot", SNAPSHOT, "--format", "json"], capsys)
    name = json.loads(queued.stdout)["journal"]["name"]
    # `--snapshot` finds the journal of the org the snapshot came from
    assert _queue_json(capsys, "--snapshot", SNAPSHOT)["journal"]["name"] == name
    out = tmp_path / "out.json"
    result = run_cli(["queue", "export", "--journal", name, "-o", str(out)], capsys)
    assert result.exit_code == 0, result.stderr
    exported = json.loads(out.read_text())
    assert exported["x-msgavail-export"]["org"] == "https://contoso.crm.dynamics.com"
    account_id = exported["operations"][0]["id"]
    bind = exported["operations"][1]["data"]["parentcustomerid_account@odata.bind"]
    assert bind == f"/accounts({account_id})"
