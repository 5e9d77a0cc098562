"""Mode mobile through the CLI, on the emulator's org (two profiles that differ) and a real
cache: check, lint, run, profile, snapshot show/diff, and the snapshot-only user."""

from __future__ import annotations

import json
import typing as t

import pytest

from metadata import snapshot as snapshot_file
from tests.cli_runner import run_cli
from tests.executor_support import write_plan

FIELD = "Field Technician"
GID = "00000000-0000-0000-0000-0000000000%02d"


@pytest.fixture
def org(emulator: t.Any, cache_dir: t.Any, token_env: str, capsys: t.Any) -> str:
    r = run_cli(["harvest", "--org", emulator.url], capsys)
    assert r.exit_code == 0, r.stderr
    assert "2 mobile offline profiles" in r.stdout
    return str(emulator.url)


@pytest.fixture
def snap(org: str, tmp_path: t.Any, capsys: t.Any) -> str:
    path = tmp_path / "org.json"
    r = run_cli(["snapshot", "export", "--org", org, "-o", str(path)], capsys)
    assert r.exit_code == 0, r.stderr
    return str(path)


def check_json(capsys: t.Any, *args: str) -> tuple[int, dict[str, t.Any]]:
    r = run_cli(["check", *args, "--format", "json"], capsys)
    assert r.exit_code in (0, 1), r.stderr
    return r.exit_code, json.loads(r.stdout)


def test_what_the_issue_asks_to_show(org: str, capsys: t.Any) -> None:
    src = ["--org", org, "--mode", "mobile", "--profile", "field technician"]
    # Update on account is Server in this org's SdkMessageFilter, available in the profile
    code, v = check_json(capsys, "Update", "account", *src)
    assert code == 0 and v["available"] is True and v["mobile"] is True
    assert v["filter_availability"] == "Server" and v["offline"] is False
    assert v["profile"] == FIELD and v["mode"] == "mobile"
    code, v = check_json(capsys, "Create", "contact", *src)
    assert code == 0 and v["mobile"] is True
    code, v = check_json(capsys, "Create", "queue", *src)
    assert code == 1 and v["available"] is False
    assert "queue is not a table of the mobile offline profile 'Field Technician'" in v["reason"]
    code, v = check_json(capsys, "Assign", "account", *src)
    assert code == 1 and "Create, Retrieve, RetrieveMultiple, Update and Delete" in v["reason"]
    # several profiles and none chosen: exit 2 naming them
    r = run_cli(["check", "Create", "contact", "--org", org, "--mode", "mobile"], capsys)
    assert r.exit_code == 2
    assert "'Field Technician', 'Sales Rep'" in r.stderr and "--profile" in r.stderr
    assert "Traceback" not in r.stderr
    r = run_cli(["check", "Create", "contact", "--org", org, "--mode", "mobile",
                 "--profile", "feild technican"], capsys)  # fmt: skip
    assert r.exit_code == 2 and "did you mean Field Technician?" in r.stderr


def test_the_other_modes_carry_mobile_and_profile(org: str, capsys: t.Any) -> None:
    code, v = check_json(capsys, "Update", "account", "--org", org, "--profile", "Sales Rep")
    assert code == 1 and v["mode"] == "offline" and v["mobile"] is True
    assert v["profile"] == "Sales Rep"
    code, v = check_json(capsys, "Update", "account", "--org", org)
    assert v["mobile"] is None and v["profile"] is None  # two profiles, none named
    code, v = check_json(capsys, "Create", "account")
    assert v["mobile"] is None and v["profile"] is None  # published default: no profile data


def test_message_level_lists_the_profile_tables(org: str, capsys: t.Any) -> None:
    r = run_cli(["check", "Create", "--org", org, "--mode", "mobile", "--profile", FIELD], capsys)
    assert r.exit_code == 0
    assert r.stdout.splitlines()[1:] == [
        "  tables of profile 'Field Technician' where it runs offline:",
        "    account",
        "    contact",
        "    contoso_inspection",
        "    task",
    ]


def test_lint_gives_exactly_the_mobile_codes(org: str, tmp_path: t.Any, capsys: t.Any) -> None:
    plan = write_plan(
        tmp_path / "plan.json",
        [
            {"message": "Create", "table": "contact", "data": {"lastname": "Ng"}},
            {"message": "Create", "table": "queue", "data": {"name": "Q"}},
            {"message": "Assign", "table": "account", "id": GID % 1},
            {"message": "Update", "table": "account", "id": GID % 2, "data": {"name": "x"}},
            {"message": "Create", "table": "task", "data": {
                "regardingobjectid_contact@odata.bind": f"/contacts({GID % 3})",
                "ownerid@odata.bind": f"/systemusers({GID % 4})"}},
        ],
    )  # fmt: skip
    args = ["lint", plan, "--org", org, "--mode", "mobile", "--profile", FIELD]
    r = run_cli([*args, "--format", "json"], capsys)
    assert r.exit_code == 1, r.stderr
    found = [
        (d["operation"], d["code"], d["severity"]) for d in json.loads(r.stdout)["diagnostics"]
    ]
    assert found == [(1, "MA011", "error"), (2, "MA012", "error"), (4, "MA013", "warning")]
    sarif = json.loads(run_cli([*args, "--format", "sarif"], capsys).stdout)
    rules = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {"MA011", "MA012", "MA013"} <= rules
    assert [x["ruleId"] for x in sarif["runs"][0]["results"]] == ["MA011", "MA012", "MA013"]
    text = run_cli(args, capsys).stdout
    assert f"{plan}:" in text and "MA011" in text and "profile 'Field Technician'" in text
    # the same plan in offline mode knows nothing of profiles
    off = run_cli(["lint", plan, "--org", org, "--format", "json"], capsys)
    codes = {d["code"] for d in json.loads(off.stdout)["diagnostics"]}
    assert not codes & {"MA011", "MA012", "MA013"}


def test_rules_documents_the_mobile_codes(capsys: t.Any) -> None:
    r = run_cli(["rules", "--format", "json"], capsys)
    doc = json.loads(r.stdout)
    rules = doc if isinstance(doc, list) else doc.get("rules", doc)
    by_code = {x["code"]: x for x in rules}
    assert by_code["MA011"]["name"] == "table-not-in-offline-profile"
    assert by_code["MA012"]["name"] == "message-not-offline-in-mobile"
    assert by_code["MA013"]["name"] == "related-table-outside-profile"
    assert by_code["MA013"]["severity"] == "warning"


def test_run_queues_only_what_the_mobile_client_could_do(
    org: str, tmp_path: t.Any, data_dir: t.Any, capsys: t.Any
) -> None:
    ops = [
        {"message": "Update", "table": "account", "id": GID % 1, "data": {"name": "A"}},
        {"message": "Create", "table": "queue", "label": "q", "data": {"name": "Q"}},
        {"message": "Update", "table": "queue", "id": "$q", "data": {"name": "Q2"}},
        {"message": "Create", "table": "contact", "data": {"lastname": "Ng"}},
    ]
    plan = write_plan(tmp_path / "plan.json", ops)
    base = ["run", plan, "--offline", "--org", org, "--mode", "mobile", "--profile", FIELD]
    # all-or-nothing: one operation the profile cannot run, nothing queued
    r = run_cli(base, capsys)
    assert r.exit_code == 1 and "MA011" in r.stdout and "nothing queued" in r.stderr
    q = json.loads(run_cli(["queue", "--format", "json", "--org", org], capsys).stdout)
    assert q["operations"] == []
    # classic offline mode refuses Update on account (Server) instead
    r = run_cli(["run", plan, "--offline", "--org", org], capsys)
    assert r.exit_code == 1 and "MA005" in r.stdout
    r = run_cli([*base, "--skip-unavailable", "--format", "json"], capsys)
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [(o["message"], o["table"]) for o in doc["queued"]] == [
        ("Update", "account"),
        ("Create", "contact"),
    ]
    assert sorted(s["operation"] for s in doc["skipped"]) == [1, 2]


def test_profile_show_and_list(org: str, capsys: t.Any) -> None:
    r = run_cli(["profile", "list", "--org", org], capsys)
    assert r.exit_code == 0
    assert r.stdout.splitlines() == [
        "Field Technician: 4 tables (account, contact, contoso_inspection, task)",
        "Sales Rep: 5 tables (account, annotation, contact, contoso_region, incident)",
    ]
    listed = json.loads(
        run_cli(["profile", "list", "--org", org, "--format", "json"], capsys).stdout
    )
    assert listed["source"]["org"] == org
    assert [(p["name"], p["tables"]) for p in listed["profiles"]] == [
        ("Field Technician", ["account", "contact", "contoso_inspection", "task"]),
        ("Sales Rep", ["account", "annotation", "contact", "contoso_region", "incident"]),
    ]
    r = run_cli(["profile", "show", "sales rep", "--org", org, "--format", "json"], capsys)
    doc = json.loads(r.stdout)
    rows = {row["table"]: row for row in doc["tables"]}
    assert doc["name"] == "Sales Rep" and set(rows) == {
        "account", "annotation", "contact", "contoso_region", "incident"}  # fmt: skip
    assert rows["account"]["distribution"] == "custom" and rows["account"]["owned_by_me"]
    assert all(v["available"] for v in rows["incident"]["operations"].values())
    region = rows["contoso_region"]["operations"]
    assert not any(v["available"] for v in region.values())
    assert region["Delete"]["basis"] == "unsupported-pair"
    assert region["Create"]["basis"] == "not-offline-enabled"
    text = run_cli(["profile", "show", "Sales Rep", "--org", org], capsys).stdout
    assert "contoso_region  all records" in text and "not enabled for offline" in text
    r = run_cli(["profile", "show", "--org", org], capsys)
    assert r.exit_code == 2 and "choose one with --profile" in r.stderr
    r = run_cli(["profile", "list"], capsys)
    assert r.exit_code == 2 and "carries no mobile offline profiles" in r.stderr


def test_snapshot_only_user_gets_the_same_verdicts(
    org: str, snap: str, tmp_path: t.Any, capsys: t.Any, monkeypatch: t.Any
) -> None:
    monkeypatch.delenv("DATAVERSE_TOKEN")
    questions = [
        ("Update", "account"),
        ("Create", "queue"),
        ("Assign", "account"),
        ("Create", None),
        ("SetState", "account"),
        ("Delete", "contoso_region"),
    ]
    for profile in (FIELD, "Sales Rep"):
        for message, table in questions:
            args = [message, *([table] if table else []), "--mode", "mobile", "--profile", profile]
            a = check_json(capsys, *args, "--org", org)
            b = check_json(capsys, *args, "--snapshot", snap)
            strip = lambda v: {k: v[k] for k in v if k not in ("reason", "source")}  # noqa: E731
            assert (a[0], strip(a[1])) == (b[0], strip(b[1])), (profile, message, table)
            assert a[1]["reason"].split(" [")[0] == b[1]["reason"].split(" [")[0]


def test_snapshot_show_and_diff_show_profiles(snap: str, tmp_path: t.Any, capsys: t.Any) -> None:
    r = run_cli(["snapshot", "show", snap], capsys)
    assert "  mobile offline profiles: 2" in r.stdout
    assert "    Field Technician: account, contact, contoso_inspection, task" in r.stdout
    with open(snap, encoding="utf-8") as fh:
        doc = json.load(fh)
    assert doc["format_version"] == 2
    field = next(p for p in doc["profiles"] if p["name"] == FIELD)
    field["items"] = [i for i in field["items"] if i["table"] != "task"]
    field["items"].append({"table": "incident", "distribution": "all-records"})
    doc["profiles"] = [p for p in doc["profiles"] if p["name"] != "Sales Rep"]
    new = tmp_path / "new.json"
    new.write_text(json.dumps(doc))
    r = run_cli(["snapshot", "diff", snap, str(new)], capsys)
    assert r.exit_code == 1
    assert "mobile offline profiles: 0 added, 1 removed, 1 changed" in r.stdout
    assert "  ~ Field Technician: tables added: incident; tables removed: task" in r.stdout
    j = json.loads(run_cli(["snapshot", "diff", snap, str(new), "--format", "json"], capsys).stdout)
    assert j["profiles"]["removed"][0]["name"] == "Sales Rep"
    # a format-1 file: no profile data, said plainly
    old = snapshot_file.to_dict(snapshot_file.read(snap))
    old["format_version"] = 1
    del old["profiles"]
    v1 = tmp_path / "v1.json"
    v1.write_text(json.dumps(old))
    r = run_cli(["snapshot", "show", str(v1)], capsys)
    assert r.exit_code == 0 and "mobile offline profiles: not recorded" in r.stdout


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "azure", "junit"])
def test_every_reporter_carries_the_mobile_codes(
    snap: str, tmp_path: t.Any, capsys: t.Any, fmt: str
) -> None:
    plan = write_plan(
        tmp_path / "plan.json",
        [
            {"message": "Create", "table": "queue", "data": {"name": "Q"}},
            {"message": "WhoAmI"},
            {"message": "Create", "table": "contact", "data": {
                "msa_managingpartnerid@odata.bind": f"/queues({GID % 1})"}},
        ],
    )  # fmt: skip
    r = run_cli(["lint", plan, "--snapshot", snap, "--mode", "mobile", "--profile", FIELD,
                 "--format", fmt], capsys)  # fmt: skip
    assert r.exit_code == 1, r.stderr
    for code in ("MA011", "MA012", "MA013"):
        assert code in r.stdout, (fmt, code)
