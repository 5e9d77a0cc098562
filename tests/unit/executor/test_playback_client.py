"""Playback goes through the one Web API client: its Retry-After reading, its backoff, its
(injectable) sleep; and the paths where playback gives up or cannot build a request."""

from __future__ import annotations

import email.utils
import time
import typing as t
import uuid

import pytest

from metadata.auth import StaticToken
from metadata.webapi import RetryPolicy, WebAPIClient, parse_error_body, parse_retry_after
from tests.cli_runner import run_cli
from tests.executor_support import executor_seed, write_plan
from validator.executor.journal import Journal, journal_dir, journal_name
from validator.executor.playback import SyncOptions, sync_journal


@pytest.fixture
def org(start_emulator, token_env, cache_dir, data_dir, capsys):
    emu = start_emulator(seed=executor_seed())
    assert run_cli(["harvest", "--org", emu.url], capsys).exit_code == 0
    emu.reset_log()
    return emu


def _queue(tmp_path, org, capsys, ops) -> None:
    plan = write_plan(tmp_path / f"plan-{uuid.uuid4().hex[:6]}.json", ops)
    result = run_cli(["run", plan, "--offline", "--org", org.url], capsys)
    assert result.exit_code == 0, result.stdout + result.stderr


def _creates(n: int) -> list[dict[str, t.Any]]:
    return [{"message": "Create", "table": "account", "data": {"name": f"A{i}"}} for i in range(n)]


def _sync(org, data_dir, cache_dir, waits: list[float], **options):
    options.setdefault("bulk", False)  # these tests are about $batch and its parts
    from tests.emulator_fixtures import EMULATOR_TOKEN as token_env

    client = WebAPIClient(
        org.url,
        StaticToken(token_env),
        sleep=waits.append,
        retry=RetryPolicy(max_retries=options.pop("retries", 0)),
    )
    with client, Journal.open(journal_dir(journal_name(org.url), data_dir)) as journal:
        report = sync_journal(
            journal, org.url, SyncOptions(client=client, cache_dir=cache_dir, **options)
        )
        return report, journal.ops()


def test_retry_after_is_read_as_seconds_or_an_http_date():
    now = time.time()
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 2.5 ") == 2.5
    in_a_minute = email.utils.formatdate(now + 60, usegmt=True)
    assert parse_retry_after(in_a_minute, now=now) == pytest.approx(60, abs=1.5)
    assert parse_retry_after(email.utils.formatdate(now - 60, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_a_part_throttled_with_an_http_date_waits_until_that_date():
    client = WebAPIClient("http://127.0.0.1:9", StaticToken(token="t"), sleep=lambda s: None)
    with client:
        later = email.utils.formatdate(time.time() + 40, usegmt=True)
        assert client.retry_after({"retry-after": later}) == pytest.approx(40, abs=1.5)
        assert client.retry_after({"Retry-After": "999"}) == 300.0  # the policy's cap
        assert 0 < client.retry_after({}) <= 0.5  # no header: the backoff curve


def test_error_bodies_are_read_by_the_client_module():
    body = b'{"error": {"code": "0x80040237", "message": "A record  with\\nmatching key"}}'
    assert parse_error_body(body) == ("0x80040237", "A record with matching key")
    assert parse_error_body(b"<html>Bad gateway</html>\nmore") == (None, "<html>Bad gateway</html>")


def test_throttled_parts_wait_with_the_clients_sleep(tmp_path, org, capsys, data_dir, cache_dir):
    from fixtures.emulator import writes

    _queue(tmp_path, org, capsys, _creates(3))
    writes.state(org.store).part_faults.throttle(retry_after=17, path="accounts(", after=1)
    waits: list[float] = []
    started = time.monotonic()
    report, ops = _sync(org, data_dir, cache_dir, waits)
    assert time.monotonic() - started < 10  # the injected sleep waited, not the process
    assert any(16.5 < w <= 17.0 for w in waits), waits  # held every request for it
    assert report.aborted is None
    assert [op["state"] for op in ops] == ["done"] * 3


def test_a_server_that_keeps_failing_is_given_up_on_and_nothing_is_lost(
    tmp_path, org, capsys, data_dir, cache_dir
):
    from fixtures.emulator import writes

    _queue(tmp_path, org, capsys, _creates(4))
    writes.state(org.store).part_faults.unavailable(path="accounts(", times=-1)
    waits: list[float] = []
    report, ops = _sync(org, data_dir, cache_dir, waits, max_idle_rounds=3)
    assert report.aborted is not None and "keeps failing" in report.aborted
    assert "4 operation(s) stay queued" in report.aborted
    assert len(waits) == 2  # backed off between the idle rounds, through the client
    assert [op["state"] for op in ops] == ["pending"] * 4
    assert all(op["uncertain"] and op["attempts"] == 3 for op in ops)
    assert "accounts" not in org.store.tables or org.store.rows("accounts") == []
    # Once the server is back, the next sync applies every operation exactly once.
    writes.state(org.store).part_faults.clear()
    report, ops = _sync(org, data_dir, cache_dir, [])
    assert [op["state"] for op in ops] == ["done"] * 4
    assert len(org.store.rows("accounts")) == 4


def test_when_the_client_gives_up_the_sync_stops_and_keeps_everything(
    tmp_path, org, capsys, data_dir, cache_dir
):
    _queue(tmp_path, org, capsys, _creates(3))
    org.faults.unavailable(path="$batch", times=-1)
    waits: list[float] = []
    report, ops = _sync(org, data_dir, cache_dir, waits, retries=2)
    assert report.aborted is not None
    assert "HTTP 503" in report.aborted and "after 3 attempts" in report.aborted
    assert "nothing was lost" in report.aborted
    assert len(waits) == 2  # the client's backoff, with the injected sleep
    assert [r.status for r in org.requests("$batch")] == [503] * 3
    assert [(op["state"], op["uncertain"]) for op in ops] == [("pending", True)] * 3
    org.faults.clear()
    report, ops = _sync(org, data_dir, cache_dir, [])
    assert [op["state"] for op in ops] == ["done"] * 3
    assert len(org.store.rows("accounts")) == 3


def test_an_operation_that_cannot_be_built_is_parked_and_the_rest_go_on(
    tmp_path, org, capsys, data_dir, cache_dir
):
    _queue(tmp_path, org, capsys, _creates(2))
    with Journal.open(journal_dir(journal_name(org.url), data_dir)) as journal:
        first = journal.get(1)
        assert first is not None
        first["table"] = "nosuchtable"  # e.g. a table removed from the org since it was queued
        with journal.transaction():
            journal.put(first)
    report, ops = _sync(org, data_dir, cache_dir, [])
    assert [op["state"] for op in ops] == ["parked", "done"]
    assert "table nosuchtable is not in the harvested definitions" in (
        ops[0]["last_error"] or {}
    ).get("message", "")
    assert [op["seq"] for op in report.parked] == [1]
    assert len(org.store.rows("accounts")) == 1
