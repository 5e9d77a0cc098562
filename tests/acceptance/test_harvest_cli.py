"""`msgavail harvest`, `check --org` and `snapshot ...` through the CLI, against the emulator
on loopback and a real diskcache directory."""

from __future__ import annotations

import json
import os
import typing as t

import pytest

import metadata.webapi
from fixtures.emulator.seed import message, offline_profile, synthetic_org, synthetic_profiles
from metadata import snapshot as snapshot_file
from metadata.auth import StaticToken
from metadata.harvest import harvest
from metadata.webapi import RetryPolicy, WebAPIClient
from tests.cli_runner import run_cli
from tests.emulator_fixtures import EMULATOR_TOKEN


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    # Retry-After from the server is honoured as sent; only our own backoff is shortened.
    monkeypatch.setattr(
        metadata.webapi, "DEFAULT_RETRY", RetryPolicy(backoff_base=0.01, backoff_max=0.05)
    )


def reference_snapshot(start_emulator):
    """The synthetic org harvested with no faults, for comparison."""
    emu = start_emulator()
    with WebAPIClient(emu.url, StaticToken(EMULATOR_TOKEN)) as client:
        return harvest(client).snapshot


def test_check_answers_from_the_orgs_harvest(emulator, cache_dir, token_env, capsys):
    r = run_cli(["harvest", "--org", emulator.url], capsys)
    assert r.exit_code == 0, r.stderr
    messages = len(synthetic_org()["sdkmessages"])
    assert f"harvested {emulator.url}: {messages} messages" in r.stdout

    r = run_cli(
        [
            "check",
            "contoso_ScanBadge",
            "contoso_inspection",
            "--org",
            emulator.url,
            "--format",
            "json",
        ],
        capsys,
    )
    assert r.exit_code == 0, r.stderr
    verdict = json.loads(r.stdout)
    assert verdict["message_availability"] == "Client" and verdict["available"] is True
    assert verdict["source"]["kind"] == "org" and verdict["source"]["org"] == emulator.url
    assert verdict["source"]["harvested_at"]
    # The org disagrees with the published default in both directions.
    assert run_cli(["check", "Create", "queue", "--org", emulator.url], capsys).exit_code == 0
    assert run_cli(["check", "Create", "queue"], capsys).exit_code == 1
    assert run_cli(["check", "Update", "account", "--org", emulator.url], capsys).exit_code == 1
    assert run_cli(["check", "Update", "account"], capsys).exit_code == 0
    online = run_cli(
        ["check", "contoso_ScanBadge", "contoso_badge", "--mode", "online", "--org", emulator.url],
        capsys,
    )
    assert online.exit_code == 1 and "Client" in online.stdout


def test_check_org_without_harvest_says_what_to_run(cache_dir, capsys):
    r = run_cli(["check", "Create", "account", "--org", "https://contoso.crm.dynamics.com"], capsys)
    assert r.exit_code == 2
    assert "run `msgavail harvest --org https://contoso.crm.dynamics.com`" in r.stderr


FAULTS = {
    "several pages": lambda emu: None,
    "429 mid-harvest": lambda emu: emu.faults.throttle(
        retry_after=1, path="sdkmessagefilters", after=2
    ),
    "burst of 503s": lambda emu: emu.faults.unavailable(path="sdkmessagefilters", after=1, times=4),
    "dropped connection": lambda emu: emu.faults.drop(path="sdkmessagefilters", after=3),
    "slow response": lambda emu: emu.faults.slow(3.0, path="EntityDefinitions"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_faults_still_end_in_a_complete_correct_snapshot(
    fault, start_emulator, cache_dir, token_env, capsys, tmp_path
):
    expected = reference_snapshot(start_emulator)
    emu = start_emulator(max_page_size=7)  # below the page size the client asks for
    FAULTS[fault](emu)
    r = run_cli(["harvest", "--org", emu.url, "--page-size", "50", "--timeout", "1"], capsys)
    assert r.exit_code == 0, r.stderr
    assert "Traceback" not in r.stderr
    pages = [q for q in emu.requests("sdkmessagefilters") if q.status == 200]
    assert len(pages) == -(-len(synthetic_org()["sdkmessagefilters"]) // 7)
    if fault != "several pages":
        assert emu.faults.fired >= 1
    out = tmp_path / "org.json"
    assert run_cli(["snapshot", "export", "--org", emu.url, "-o", str(out)], capsys).exit_code == 0
    got = snapshot_file.read(out)
    assert got == expected  # same messages, filters and tables, nothing lost or doubled
    assert len({(f.message, f.primary, f.secondary) for f in got.filters}) == len(got.filters)


def test_wrong_token_is_an_authentication_failure(emulator, cache_dir, capsys, monkeypatch):
    monkeypatch.setenv("DATAVERSE_TOKEN", "wrong-token-0123456789")
    r = run_cli(["harvest", "--org", emulator.url], capsys)
    assert r.exit_code == 2
    assert "authentication failed" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert "wrong-token-0123456789" not in r.stderr + r.stdout


def test_ttl_no_request_then_only_the_probe(emulator, cache_dir, token_env, capsys):
    assert run_cli(["harvest", "--org", emulator.url], capsys).exit_code == 0
    emulator.reset_log()
    r = run_cli(["harvest", "--org", emulator.url], capsys)
    assert r.exit_code == 0 and "no request made" in r.stdout
    assert emulator.count() == 0
    r = run_cli(["harvest", "--org", emulator.url, "--ttl", "0s", "--format", "json"], capsys)
    assert r.exit_code == 0
    assert json.loads(r.stdout)["action"] == "unchanged"
    assert emulator.count() == 5
    assert all("$top=1" in q.query or q.path == "EntityDefinitions" for q in emulator.requests())


def test_offline_and_network_failure_use_the_cache(start_emulator, cache_dir, token_env, capsys):
    emu = start_emulator()
    url = emu.url
    r = run_cli(["harvest", "--org", url, "--offline"], capsys)
    assert r.exit_code == 2 and "--offline" in r.stderr
    assert emu.count() == 0
    assert run_cli(["harvest", "--org", url], capsys).exit_code == 0
    emu.stop()  # the org is now unreachable
    r = run_cli(["harvest", "--org", url, "--offline", "--ttl", "0"], capsys)
    assert r.exit_code == 0
    r = run_cli(["harvest", "--org", url, "--ttl", "0"], capsys)
    assert r.exit_code == 0, r.stderr
    assert "warning: could not refresh" in r.stderr and "using the cached harvest" in r.stderr
    assert " old)" in r.stderr
    assert run_cli(["check", "contoso_ScanBadge", "--org", url], capsys).exit_code == 0


def test_damaged_cache_is_reported_then_rebuilt(emulator, cache_dir, token_env, capsys):
    assert run_cli(["harvest", "--org", emulator.url], capsys).exit_code == 0
    harvests = os.path.join(cache_dir, "harvests")
    for name in os.listdir(harvests):
        if name.startswith("cache.db"):
            os.unlink(os.path.join(harvests, name))
    with open(os.path.join(harvests, "cache.db"), "wb") as fh:
        fh.write(b"\x00garbage" * 512)
    r = run_cli(["check", "Create", "account", "--org", emulator.url], capsys)
    assert r.exit_code == 2 and "damaged" in r.stderr and "msgavail harvest" in r.stderr
    assert "Traceback" not in r.stderr
    r = run_cli(["harvest", "--org", emulator.url], capsys)
    assert r.exit_code == 0, r.stderr
    assert "damaged" in r.stderr and "re-harvesting" in r.stderr
    assert run_cli(["check", "Create", "account", "--org", emulator.url], capsys).exit_code == 0


def test_token_never_reaches_output_logs_exceptions_or_disk(
    start_emulator, cache_dir, token_env, capsys, caplog, tmp_path
):
    import logging

    caplog.set_level(logging.DEBUG)
    emu = start_emulator(max_page_size=5)
    emu.faults.throttle(retry_after=0, path="sdkmessagefilters", after=1)
    outputs = []
    for args in (
        ["harvest", "--org", emu.url, "--format", "json"],
        ["harvest", "--org", emu.url, "--force"],
        ["harvest", "--org", emu.url, "--ttl", "0"],
        ["snapshot", "export", "--org", emu.url, "-o", str(tmp_path / "s.json")],
        ["check", "Create", "--org", emu.url],
    ):
        r = run_cli(args, capsys)
        outputs.append(r.stdout + r.stderr)
    emu.token = "another-token"  # now the server refuses ours: error paths too
    r = run_cli(["harvest", "--org", emu.url, "--force"], capsys)
    assert r.exit_code == 2
    outputs.append(r.stdout + r.stderr)
    with WebAPIClient(emu.url, StaticToken(EMULATOR_TOKEN)) as client:
        try:
            client.get_all("sdkmessages")
        except Exception as exc:
            outputs.append(f"{exc!r} {exc} {exc.__dict__} {exc.__cause__!r} {exc.__context__!r}")
        outputs.append(repr(client) + repr(client._tokens))
    secret = EMULATOR_TOKEN.encode()
    for text in [*outputs, caplog.text]:
        assert EMULATOR_TOKEN not in text
    for root in (cache_dir, str(tmp_path)):
        for dirpath, _, files in os.walk(root):
            for name in files:
                with open(os.path.join(dirpath, name), "rb") as fh:
                    assert secret not in fh.read(), os.path.join(dirpath, name)


def test_snapshot_export_show_and_diff(start_emulator, cache_dir, token_env, capsys, tmp_path):
    emu = start_emulator()
    assert run_cli(["harvest", "--org", emu.url], capsys).exit_code == 0
    before = tmp_path / "before.json"
    after = tmp_path / "after.json"
    assert (
        run_cli(["snapshot", "export", "--org", emu.url, "-o", str(before)], capsys).exit_code == 0
    )
    r = run_cli(["snapshot", "show", str(before)], capsys)
    assert r.exit_code == 0
    assert "messages: 18 (Server 5, Client 1, All 12)" in r.stdout
    assert "client-only messages: contoso_ScanBadge" in r.stdout

    # The org changes: a filter's availability, a new custom table with a filter.
    from fixtures.emulator.seed import message_filter, table

    row = emu.store.find("sdkmessages", "name", "Merge")
    create_id = emu.store.find("sdkmessages", "name", "Create")["sdkmessageid"]
    f = next(
        x
        for x in emu.store.rows("sdkmessagefilters")
        if x["primaryobjecttypecode"] == "site" and x["_sdkmessageid_value"] == create_id
    )
    emu.store.update("sdkmessagefilters", f["sdkmessagefilterid"], {"availability": 2})
    emu.store.insert(
        "EntityDefinitions", table("contoso_visit", ownership="UserOwned", custom=True, otc=10020)
    )
    emu.store.insert("sdkmessagefilters", message_filter("Create", "contoso_visit", 2))
    emu.store.delete("sdkmessages", row["sdkmessageid"])
    assert run_cli(["harvest", "--org", emu.url, "--ttl", "0"], capsys).exit_code == 0
    assert (
        run_cli(["snapshot", "export", "--org", emu.url, "-o", str(after)], capsys).exit_code == 0
    )

    r = run_cli(["snapshot", "diff", str(before), str(after)], capsys)
    assert r.exit_code == 1
    assert "  - Merge (Server)" in r.stdout
    assert "  ~ Create on site: Server -> All" in r.stdout
    assert "  + Create on contoso_visit (All)" in r.stdout
    assert "  + contoso_visit (UserOwned)" in r.stdout
    r = run_cli(["snapshot", "diff", str(before), str(after), "--format", "json"], capsys)
    d = json.loads(r.stdout)
    assert d["equal"] is False
    assert d["filters"]["changed"] == [
        {
            "message": "Create",
            "primary_table": "site",
            "secondary_table": None,
            "before": "Server",
            "after": "All",
        }
    ]
    assert [m["name"] for m in d["messages"]["removed"]] == ["Merge"]
    assert run_cli(["snapshot", "diff", str(after), str(after)], capsys).exit_code == 0
    # --snapshot works for check with the exported file
    r = run_cli(["check", "Create", "contoso_visit", "--snapshot", str(after)], capsys)
    assert r.exit_code == 0 and "snapshot" in r.stdout


def test_a_file_that_fails_the_schema_is_refused(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "format": "msgavail-snapshot",
                "format_version": 1,
                "source": {"kind": "org"},
                "messages": [{"name": "X"}],
                "filters": [],
            }
        )
    )
    for args in (["snapshot", "show", str(bad)], ["check", "X", "--snapshot", str(bad)]):
        r = run_cli(args, capsys)
        assert r.exit_code == 2 and "not a valid msgavail snapshot" in r.stderr


def test_progress_only_on_request_or_terminal(start_emulator, cache_dir, token_env, capsys):
    emu = start_emulator(max_page_size=20)
    quiet = run_cli(["harvest", "--org", emu.url], capsys)  # stderr is not a terminal here
    assert quiet.exit_code == 0 and quiet.stderr == ""
    shown = run_cli(["harvest", "--org", emu.url, "--force", "--progress"], capsys)
    assert shown.exit_code == 0
    assert "harvesting sdkmessagefilters: 80 rows" in shown.stderr
    assert "harvesting" not in shown.stdout


def test_bad_options_are_usage_errors(cache_dir, capsys):
    r = run_cli(["harvest", "--org", "https://contoso.crm.dynamics.com", "--ttl", "soon"], capsys)
    assert r.exit_code == 2 and "invalid value for '--ttl': expected a duration" in r.stderr
    r = run_cli(["harvest", "--org", "http://contoso.crm.dynamics.com"], capsys)
    assert r.exit_code == 2 and "loopback" in r.stderr
    r = run_cli(["harvest"], capsys)
    assert r.exit_code == 2 and "--org" in r.stderr


@pytest.mark.parametrize(
    "token",
    [
        EMULATOR_TOKEN + "\nX-Smuggled: yes",  # httpx quoted it whole: "Illegal header value"
        EMULATOR_TOKEN + "\u00e9",  # was "internal error: UnicodeEncodeError"
    ],
)
def test_malformed_token_is_refused_before_any_request_and_never_echoed(
    token, emulator, cache_dir, capsys, monkeypatch
):
    monkeypatch.setenv("DATAVERSE_TOKEN", token)
    r = run_cli(["harvest", "--org", emulator.url], capsys)
    assert r.exit_code == 2
    assert r.stderr.startswith(
        "msgavail: error: DATAVERSE_TOKEN is not a bearer token: it contains"
    )
    assert len(r.stderr.splitlines()) == 1 and "internal error" not in r.stderr
    assert EMULATOR_TOKEN not in r.stdout + r.stderr and "Smuggled" not in r.stderr
    assert emulator.count() == 0


def _value_files(root):
    return [
        os.path.join(d, n) for d, _, names in os.walk(root) for n in names if n.endswith(".val")
    ]


def test_garbled_value_file_is_reported_then_harvest_recovers_it(
    start_emulator, cache_dir, token_env, capsys
):
    emu = start_emulator(seed="big:1500")  # the harvest lives in a diskcache value file
    assert run_cli(["harvest", "--org", emu.url], capsys).exit_code == 0
    (value_file,) = _value_files(cache_dir)
    with open(value_file, "r+b") as fh:
        fh.seek(1000)
        fh.write(b"\xff\x00garbled\x00\xfe" * 20)
    check = ["check", "gen_Message0001", "gen_table00002", "--org", emu.url]
    r = run_cli(check, capsys)
    assert r.exit_code == 2 and len(r.stderr.splitlines()) == 1
    assert r.stderr.startswith(f"msgavail: error: the cached harvest of {emu.url} in ")
    assert (
        "is damaged (" in r.stderr and f"`msgavail harvest --org {emu.url}` rebuilds it" in r.stderr
    )
    # Within the TTL too: harvest notices the damage, says so, and rebuilds (no rm -rf needed).
    r = run_cli(["harvest", "--org", emu.url], capsys)
    assert r.exit_code == 0, r.stderr
    assert "is damaged" in r.stderr and "re-harvesting" in r.stderr
    assert r.stdout.startswith(f"harvested {emu.url}: 60 messages, 1500 filters")
    assert run_cli(check, capsys).exit_code in (0, 1)
    assert len(_value_files(cache_dir)) == 1


@pytest.mark.parametrize(
    ("args", "action", "reads"),
    [
        ([], "cached", 1),  # within the TTL: answer from the cache
        (["--ttl", "0"], "unchanged", 1),  # probe says unchanged: the cached snapshot answers
        (["--force"], "harvested", 0),  # a new harvest never needs the old body
    ],
)
def test_every_harvest_path_reads_the_cached_snapshot_at_most_once(
    args, action, reads, emulator, cache_dir, token_env, capsys, monkeypatch
):
    import metadata.snapshot

    assert run_cli(["harvest", "--org", emulator.url], capsys).exit_code == 0
    parsed: list[int] = []
    real = metadata.snapshot.from_dict

    def counting(*a: t.Any, **k: t.Any) -> t.Any:
        parsed.append(1)
        return real(*a, **k)

    monkeypatch.setattr(metadata.snapshot, "from_dict", counting)
    r = run_cli(["harvest", "--org", emulator.url, "--format", "json", *args], capsys)
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["action"] == action
    assert len(parsed) == reads


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda seed: seed["sdkmessages"].append(message("contoso_Odd", 7)),
         "unexpected availability 7 in sdkmessage contoso_Odd"),
        (lambda seed: seed["sdkmessages"].append({**message("x", 0), "name": ""}),
         "an sdkmessage row has no name: "),
        (lambda seed: seed.update(synthetic_profiles())
         or seed["mobileofflineprofiles"].append({**offline_profile("p"), "name": None}),
         "a mobileofflineprofile row has no name: "),
    ],
)  # fmt: skip
def test_an_org_answer_msgavail_cannot_read_is_one_error_and_caches_nothing(
    start_emulator, cache_dir, token_env, capsys, change, error
):
    seed = synthetic_org()
    change(seed)
    emu = start_emulator(seed=seed)
    r = run_cli(["harvest", "--org", emu.url], capsys)
    assert r.exit_code == 2
    assert r.stderr.startswith(f"msgavail: error: {error}") and r.stderr.count("\n") == 1
    # nothing half-written: the org still has no cached harvest
    after = run_cli(["check", "Create", "account", "--org", emu.url], capsys)
    assert after.exit_code == 2 and "no cached harvest" in after.stderr


def test_snapshot_export_to_stdout_is_the_file_and_show_json_counts_it(
    emulator, cache_dir, token_env, tmp_path, capsys
):
    assert run_cli(["harvest", "--org", emulator.url], capsys).exit_code == 0
    out = tmp_path / "org.json"
    assert (
        run_cli(["snapshot", "export", "--org", emulator.url, "-o", str(out)], capsys).exit_code
        == 0
    )
    piped = run_cli(["snapshot", "export", "--org", emulator.url, "-o", "-"], capsys)
    assert piped.exit_code == 0 and piped.stderr == ""  # nothing but the snapshot on stdout
    assert piped.stdout == out.read_text(encoding="utf-8")
    shown = run_cli(["snapshot", "show", str(out), "--format", "json"], capsys)
    assert shown.exit_code == 0
    summary = json.loads(shown.stdout)
    seed = synthetic_org()
    assert summary["source"]["org"] == emulator.url
    assert summary["messages"]["total"] == len(seed["sdkmessages"])
    client_only = sorted(m["name"] for m in seed["sdkmessages"] if m["availability"] == 1)
    assert summary["client_only_messages"] == client_only
