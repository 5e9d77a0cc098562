"""A new user's day: queue work offline, look at it, sync, see what was parked and why, fix
the cause, retry, sync again."""

from __future__ import annotations

import json

from fixtures.emulator import writes
from tests.cli_runner import run_cli
from tests.executor_support import write_plan


def test_offline_day_with_a_refused_change_fixed_and_retried(tmp_path, org, capsys):
    plan = write_plan(
        tmp_path / "visit.json",
        [
            {"message": "Create", "table": "account", "label": "acme", "data": {"name": "Acme"}},
            {"message": "Create", "table": "contact", "label": "ann",
             "data": {"lastname": "Ng", "parentcustomerid_account@odata.bind": "$acme"}},
            {"message": "Create", "table": "contoso_inspection", "label": "insp",
             "data": {"name": "Boiler check"}},
            {"message": "Update", "table": "contoso_inspection", "id": "$insp",
             "data": {"name": "Boiler check (passed)"}},
            {"message": "Update", "table": "contact", "id": "$ann", "data": {"telephone1": "555"}},
        ],
    )  # fmt: skip
    # 1. Offline: queue the visit against the org's cached availability facts.
    queued = run_cli(["run", plan, "--offline", "--org", org.url], capsys)
    assert queued.exit_code == 0, queued.stdout + queued.stderr
    assert "queued 5 operation(s)" in queued.stdout
    assert f"msgavail sync --org {org.url}" in queued.stdout
    assert org.requests() == []  # offline means offline

    # 2. Look at it, and read the new inspection back.
    listing = run_cli(["queue", "--org", org.url], capsys)
    assert [ln.split()[0] for ln in listing.stdout.splitlines()[2:]] == ["pending"] * 5
    mine = run_cli(["get", "contoso_inspection", "--org", org.url, "--where",
                    "name=Boiler check (passed)"], capsys)  # fmt: skip
    assert mine.exit_code == 0 and len(json.loads(mine.stdout)["value"]) == 1

    # 3. Back online, but the user lacks a privilege on inspections.
    state = writes.state(org.store)
    state.reject("contoso_inspections", 403, "0x80040220",
                 "Principal user is missing prvCreatecontoso_inspection privilege.")  # fmt: skip
    synced = run_cli(["sync", "--org", org.url], capsys)
    assert synced.exit_code == 1
    assert "applied 3 operation(s)" in synced.stdout
    assert "missing prvCreatecontoso_inspection privilege" in synced.stdout
    assert "waits behind #3" in synced.stdout
    assert "msgavail queue retry" in synced.stdout

    # 4. What is parked, and why (also as JSON for scripts).
    doc = json.loads(run_cli(["queue", "--org", org.url, "--format", "json"], capsys).stdout)
    by_state = {op["seq"]: op["state"] for op in doc["operations"]}
    assert by_state == {3: "parked", 4: "pending"}
    parked = doc["operations"][0]
    assert parked["last_error"]["status"] == 403
    assert parked["last_error"]["code"] == "0x80040220"

    # 5. The admin grants the privilege; retry and sync again.
    state.allow("contoso_inspections")
    assert run_cli(["queue", "retry", "--org", org.url], capsys).exit_code == 0
    again = run_cli(["sync", "--org", org.url], capsys)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "applied 2 operation(s)" in again.stdout

    [inspection] = org.store.rows("contoso_inspections")
    assert inspection["name"] == "Boiler check (passed)"
    [contact] = org.store.rows("contacts")
    assert contact["telephone1"] == "555"
    assert contact["_parentcustomerid_account_value"] == org.store.rows("accounts")[0]["accountid"]
    assert set(state.creates.values()) == {1}
    final = run_cli(["queue", "--org", org.url], capsys)
    assert "5 done" in final.stdout and "pending" not in final.stdout.split("\n", 1)[1]
