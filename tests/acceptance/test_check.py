"""`msgavail check` as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from metadata import published, snapshot
from tests.cli_runner import run_cli

CONTRACT_KEYS = {
    "message",
    "table",
    "secondary_table",
    "mode",
    "available",
    "offline",
    "online",
    "supported",
    "message_availability",
    "filter_availability",
    "reason",
    "source",
}


@pytest.mark.parametrize("table", ["queue", "user", "site"])
def test_create_on_seed_tables_is_not_offline(
    table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run_cli(["check", "Create", table], capsys)
    assert r.exit_code == 1, r
    assert "not available offline" in r.stdout
    assert "SdkMessageFilter.Availability = Server" in r.stdout
    assert r.stderr == ""


def test_create_account_available(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(["check", "Create", "account"], capsys)
    assert r.exit_code == 0 and "is available offline" in r.stdout


def test_assign_account_message_level_server(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(["check", "Assign", "account"], capsys)
    assert r.exit_code == 1 and "SdkMessage.Availability = Server" in r.stdout


def test_retrieve_queue_available(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["check", "Retrieve", "queue"], capsys).exit_code == 0


def test_message_alone_lists_exceptions(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(["check", "Create"], capsys)
    assert r.exit_code == 0
    for table in ("queue", "site", "systemuser", "businessunit"):
        assert table in r.stdout
    data = json.loads(run_cli(["check", "Create", "--format", "json"], capsys).stdout)
    assert "queue" in data["exceptions"] and data["table"] is None


def test_typo_suggests_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(["check", "Craete", "account"], capsys)
    assert r.exit_code == 2
    assert r.stderr.strip() == "msgavail: error: unknown message 'Craete'; did you mean Create?"
    assert "Traceback" not in r.stderr + r.stdout


def test_json_carries_every_contract_key(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(["check", "Create", "queue", "--format", "json"], capsys)
    data = json.loads(r.stdout)
    assert set(data) >= CONTRACT_KEYS
    assert data["message"] == "Create" and data["table"] == "queue"
    assert data["secondary_table"] is None and data["mode"] == "offline"
    assert data["available"] is False and data["offline"] is False and data["online"] is True
    assert data["supported"] is True
    assert data["message_availability"] == "All" and data["filter_availability"] == "Server"
    assert data["source"] == {"kind": "published", "org": None, "harvested_at": None}
    assert r.exit_code == 1


def test_online_mode(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(["check", "Create", "queue", "--mode", "online"], capsys)
    assert r.exit_code == 0 and "is available online" in r.stdout


def test_snapshot_option_and_env(tmp_path, capsys, monkeypatch) -> None:
    data = snapshot.to_dict(published.load())
    for f in data["filters"]:
        if f["message"] == "Create" and f.get("primary_table") == "queue":
            f["availability"] = "All"
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(data))
    r = run_cli(["check", "Create", "queue", "--snapshot", str(path), "--format", "json"], capsys)
    out = json.loads(r.stdout)
    assert r.exit_code == 0 and out["source"]["kind"] == "snapshot"
    monkeypatch.setenv("MSGAVAIL_SNAPSHOT", str(path))
    assert run_cli(["check", "Create", "queue"], capsys).exit_code == 0


def test_bad_snapshot_is_refused(tmp_path, capsys) -> None:
    path = tmp_path / "snap.json"
    path.write_text('{"format": "msgavail-snapshot", "format_version": 1}')
    r = run_cli(["check", "Create", "queue", "--snapshot", str(path)], capsys)
    assert r.exit_code == 2
    assert r.stderr.startswith(f"msgavail: error: {path}:1:1: not a valid msgavail snapshot")
    assert len(r.stderr.strip().splitlines()) == 1


def test_org_without_harvest_says_what_to_do(cache_dir, capsys) -> None:
    r = run_cli(["check", "Create", "account", "--org", "https://contoso.crm.dynamics.com"], capsys)
    assert r.exit_code == 2
    assert "msgavail harvest --org https://contoso.crm.dynamics.com" in r.stderr


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(["check"], capsys)
    assert r.exit_code == 2
    assert (
        r.stderr
        == "msgavail: error: check: missing argument 'MESSAGE' (see `msgavail check --help`)\n"
    )


def test_real_process_loads_no_heavy_library(tmp_path) -> None:
    """`check` on the embedded default must not import jsonschema, lxml, httpx or diskcache."""
    code = (
        "import sys\n"
        "from validator.cli import run\n"
        "rc = run(['check', 'Create', 'queue'])\n"
        "heavy = sorted(m for m in ('jsonschema', 'lxml', 'httpx', 'diskcache', 'yaml')"
        " if m in sys.modules)\n"
        "print('HEAVY', heavy, rc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )  # fmt: skip
    assert out.stdout.strip().endswith("HEAVY [] 1"), out.stdout
