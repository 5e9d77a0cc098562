"""Bulk messages and parallel requests in playback: CreateMultiple / UpdateMultiple where the
org has them, $batch elsewhere, replays that neither duplicate nor park, up to x-ms-dop-hint
requests at once with per-record order kept, and a 429 that slows every worker."""

from __future__ import annotations

import typing as t
import uuid

import pytest

from fixtures.emulator import ServerModel, writes
from tests.cli_runner import run_cli
from tests.emulator_fixtures import EMULATOR_TOKEN
from tests.executor_support import (
    actual_state,
    executor_seed,
    expected_state,
    relationship_plan,
    write_plan,
)
from validator.executor.journal import Journal, journal_dir, journal_name
from validator.executor.playback import SyncOptions, sync_journal

BULK = "Microsoft.Dynamics.CRM.CreateMultiple"


def _org(start_emulator, capsys, **model):
    emu = start_emulator(seed=executor_seed(), model=ServerModel(**model) if model else None)
    assert run_cli(["harvest", "--org", emu.url], capsys).exit_code == 0
    emu.reset_log()
    return emu


def _queue(tmp_path, emu, capsys, ops) -> list[dict[str, t.Any]]:
    import json

    plan = write_plan(tmp_path / f"plan-{uuid.uuid4().hex[:6]}.json", ops)
    result = run_cli(["run", plan, "--offline", "--org", emu.url, "--format", "json"], capsys)
    assert result.exit_code == 0, result.stdout + result.stderr
    queued: list[dict[str, t.Any]] = json.loads(result.stdout)["queued"]
    return queued


def _sync(emu, data_dir, cache_dir, **options):
    from metadata.auth import StaticToken
    from metadata.webapi import WebAPIClient

    client = WebAPIClient(emu.url, StaticToken(EMULATOR_TOKEN))
    with client, Journal.open(journal_dir(journal_name(emu.url), data_dir)) as journal:
        report = sync_journal(
            journal, emu.url, SyncOptions(client=client, cache_dir=cache_dir, **options)
        )
        return report, journal.ops()


def _creates(table: str, n: int, column: str = "name") -> list[dict[str, t.Any]]:
    return [{"message": "Create", "table": table, "data": {column: f"R{i}"}} for i in range(n)]


@pytest.fixture
def env(token_env, cache_dir, data_dir):
    return cache_dir, data_dir


def test_creates_go_as_create_multiple_where_the_org_has_it(tmp_path, start_emulator, capsys, env):
    cache_dir, data_dir = env
    emu = _org(start_emulator, capsys)
    queued = _queue(
        tmp_path, emu, capsys, _creates("account", 25) + _creates("incident", 5, "title")
    )
    report, ops = _sync(emu, data_dir, cache_dir, bulk_size=10)
    assert report.aborted is None and not report.parked
    assert {op["state"] for op in ops} == {"done"}
    assert emu.count("accounts/" + BULK) == 3  # 25 accounts in requests of 10
    assert report.bulk_requests == 3
    assert emu.count("$batch") == 1  # incident has no CreateMultiple in this org
    assert len(emu.store.rows("accounts")) == 25 and len(emu.store.rows("incidents")) == 5
    creates = writes.state(emu.store).creates
    assert {creates[(s, op["id"])] for op in queued for s in ("accounts", "incidents")
            if (s, op["id"]) in creates} == {1}  # fmt: skip


def _writes_to(emu, entity_set: str) -> list[tuple[str, str]]:
    """The (method, path) of every request after the harvest that touched ``entity_set``."""
    return [(r.method, r.path) for r in emu.log if r.path.startswith(entity_set)]


def test_a_create_multiple_whose_answer_was_lost_is_neither_duplicated_nor_parked(
    tmp_path, start_emulator, capsys, env
):
    cache_dir, data_dir = env
    emu = _org(start_emulator, capsys)
    queued = _queue(tmp_path, emu, capsys, _creates("account", 12))
    emu.faults.lose_response(path="accounts/" + BULK)  # applied, then the answer is lost
    report, ops = _sync(emu, data_dir, cache_dir, bulk_size=100, retries=0)
    assert report.aborted is None and not report.parked, report.lines()
    assert [op["state"] for op in ops] == ["done"] * 12
    creates = writes.state(emu.store).creates
    assert [creates[("accounts", op["id"])] for op in queued] == [1] * 12
    assert {op["note"] for op in ops} == {"already applied (an earlier answer was lost)"}
    # The replay asked once which ids exist (all did) and sent nothing else: no create alone.
    assert _writes_to(emu, "accounts") == [("POST", "accounts/" + BULK), ("GET", "accounts")]
    query = emu.requests("accounts", "GET")[0].query
    assert "Microsoft.Dynamics.CRM.In(PropertyName=%27accountid%27" in query.replace("'", "%27")
    assert report.requests == 2


def test_a_replayed_create_multiple_sends_only_the_creates_that_did_not_land(
    tmp_path, start_emulator, capsys, env
):
    cache_dir, data_dir = env
    emu = _org(start_emulator, capsys)
    queued = _queue(tmp_path, emu, capsys, _creates("account", 12))
    # Two bulk requests of 6, both unanswered: the first was applied, the second never
    # processed. The client cannot tell them apart; the sync gives up after one idle round.
    emu.faults.lose_response(path="accounts/" + BULK)
    emu.faults.drop(path="accounts/" + BULK)
    first, ops = _sync(emu, data_dir, cache_dir, bulk_size=6, retries=0, max_idle_rounds=1)
    assert first.aborted is not None and len(first.applied) == 0
    assert {(op["state"], op["uncertain"]) for op in ops} == {("pending", True)}
    assert len(emu.store.rows("accounts")) == 6

    emu.reset_log()
    report, ops = _sync(emu, data_dir, cache_dir, bulk_size=12)
    assert report.aborted is None and not report.parked, report.lines()
    # One query for the 12 uncertain ids, one CreateMultiple with the 6 that were missing.
    assert _writes_to(emu, "accounts") == [("GET", "accounts"), ("POST", "accounts/" + BULK)]
    assert report.requests == 2 and report.bulk_requests == 1
    notes = [op["note"] for op in ops]
    assert notes == ["already applied (an earlier answer was lost)"] * 6 + [None] * 6
    creates = writes.state(emu.store).creates
    assert [creates[("accounts", op["id"])] for op in queued] == [1] * 12
    names = {r["accountid"]: r["name"] for r in emu.store.rows("accounts")}
    assert names == {op["id"]: op["data"]["name"] for op in queued}


def test_a_replayed_create_multiple_never_takes_over_a_record_it_did_not_create(
    tmp_path, start_emulator, capsys, env
):
    import httpx

    cache_dir, data_dir = env
    emu = _org(start_emulator, capsys)
    queued = _queue(tmp_path, emu, capsys, _creates("account", 8))
    emu.faults.drop(path="accounts/" + BULK)  # never processed; the client cannot know
    first, _ = _sync(emu, data_dir, cache_dir, retries=0, max_idle_rounds=1)
    assert first.aborted is not None and "accounts" not in emu.store.tables
    # Meanwhile someone else creates a record with the id of our third create.
    theirs = queued[2]["id"]
    resp = httpx.patch(
        f"{emu.api_url}accounts({theirs})",
        json={"name": "Someone else's"},
        headers={"Authorization": f"Bearer {EMULATOR_TOKEN}", "If-None-Match": "*"},
    )
    assert resp.status_code == 204
    emu.reset_log()
    report, ops = _sync(emu, data_dir, cache_dir)
    assert [op["seq"] for op in report.parked] == [queued[2]["seq"]]
    assert "a different account record with id" in report.parked[0]["last_error"]["message"]
    assert _writes_to(emu, "accounts") == [("GET", "accounts"), ("POST", "accounts/" + BULK)]
    names = {r["accountid"]: r["name"] for r in emu.store.rows("accounts")}
    assert names[theirs] == "Someone else's"  # not overwritten
    assert names == {**{op["id"]: op["data"]["name"] for op in queued}, theirs: "Someone else's"}
    assert [op["state"] for op in ops].count("done") == 7


def test_a_replay_whose_existence_query_is_refused_checks_each_create_alone(
    tmp_path, start_emulator, capsys, env
):
    cache_dir, data_dir = env
    emu = _org(start_emulator, capsys)
    queued = _queue(tmp_path, emu, capsys, _creates("account", 4))
    emu.faults.lose_response(path="accounts/" + BULK)
    emu.faults.error(400, "0x80060888", "Filter too complex", path="accounts", method="GET")
    report, ops = _sync(emu, data_dir, cache_dir, retries=0)
    assert report.aborted is None and not report.parked, report.lines()
    assert {op["note"] for op in ops} == {"already applied (an earlier answer was lost)"}
    creates = writes.state(emu.store).creates
    assert [creates[("accounts", op["id"])] for op in queued] == [1] * 4
    # Each create again (in one $batch, 412 each), then each record read back.
    assert emu.count("accounts/" + BULK) == 1 and emu.count("$batch") == 1
    assert emu.count("accounts(", "GET") == 4


def test_an_update_multiple_that_fails_falls_back_to_one_answer_per_operation(
    tmp_path, start_emulator, capsys, env
):
    cache_dir, data_dir = env
    emu = _org(start_emulator, capsys)
    made = _queue(tmp_path, emu, capsys, _creates("contact", 3, "lastname"))
    assert _sync(emu, data_dir, cache_dir)[0].parked == []
    missing = str(uuid.uuid4())
    updates = [{"message": "Update", "table": "contact", "id": op["id"],
                "data": {"telephone1": "555"}} for op in made]  # fmt: skip
    updates.insert(1, {"message": "Update", "table": "contact", "id": missing,
                       "data": {"telephone1": "0"}})  # fmt: skip
    _queue(tmp_path, emu, capsys, updates)
    emu.reset_log()
    report, _ = _sync(emu, data_dir, cache_dir)
    assert emu.count("contacts/Microsoft.Dynamics.CRM.UpdateMultiple") == 1  # all or nothing: 404
    assert [op["seq"] for op in report.parked] == [5]  # the missing record, alone
    assert "Does Not Exist" in report.parked[0]["last_error"]["message"]
    assert {r["telephone1"] for r in emu.store.rows("contacts")} == {"555"}


def test_parallel_requests_up_to_the_dop_hint_keep_per_record_order(
    tmp_path, start_emulator, capsys, env
):
    cache_dir, data_dir = env
    emu = _org(start_emulator, capsys, write_ms=5, dop_hint=4)
    _queue(tmp_path, emu, capsys, relationship_plan(30))
    report, ops = _sync(emu, data_dir, cache_dir, batch_size=5, bulk_size=5)
    assert report.aborted is None and not report.parked, report.lines()
    assert {op["state"] for op in ops} == {"done"}
    assert 1 < report.peak_parallel <= 4
    assert 1 < emu.limiter.stats().peak_concurrency <= 4
    assert actual_state(emu.store) == expected_state(ops)
    assert set(writes.state(emu.store).creates.values()) == {1}


def test_a_429_slows_every_worker_and_parks_nothing(tmp_path, start_emulator, capsys, env):
    cache_dir, data_dir = env
    # A 1 s window admitting 4 requests: a tight budget, as a busy org has.
    emu = _org(start_emulator, capsys, write_ms=1, dop_hint=8, limits=True, requests=1200,
               time_scale=300)  # fmt: skip
    _queue(tmp_path, emu, capsys, _creates("incident", 120, "title"))
    report, ops = _sync(emu, data_dir, cache_dir, batch_size=10)
    assert report.aborted is None and not report.parked, report.lines()
    assert {op["state"] for op in ops} == {"done"}
    assert report.throttled > 0 and report.waited > 0
    assert len(emu.store.rows("incidents")) == 120
    doc = report.to_json()
    assert doc["throttled"] == report.throttled and doc["waited_seconds"] > 0
    assert doc["ops_per_second"] > 0


def test_the_existence_query_is_chunked_and_follows_the_server_s_pages(
    tmp_path, start_emulator, capsys, env, monkeypatch
):
    from validator.executor import playback

    cache_dir, data_dir = env
    emu = start_emulator(seed=executor_seed(), max_page_size=5)
    assert run_cli(["harvest", "--org", emu.url], capsys).exit_code == 0
    queued = _queue(tmp_path, emu, capsys, _creates("account", 12))
    monkeypatch.setattr(playback, "QUERY_IDS", 7)  # 12 ids: a query of 7, then one of 5
    emu.faults.lose_response(path="accounts/" + BULK)
    emu.reset_log()
    report, ops = _sync(emu, data_dir, cache_dir, retries=0)
    assert report.aborted is None and not report.parked, report.lines()
    assert {op["note"] for op in ops} == {"already applied (an earlier answer was lost)"}
    gets = emu.requests("accounts", "GET")
    assert len(gets) == 3  # 7 rows in pages of 5 (two requests), then 5 rows in one
    assert sum("$skiptoken" in r.query for r in gets) == 1
    assert emu.count("accounts/" + BULK) == 1 and emu.count("$batch") == 0
    creates = writes.state(emu.store).creates
    assert [creates[("accounts", op["id"])] for op in queued] == [1] * 12
