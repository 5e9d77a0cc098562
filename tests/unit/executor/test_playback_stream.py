"""Playback reads the journal a chunk at a time (issue 10): a sync holds a window of
operations, never the whole journal, and still keeps journal order, parked operations and
what waits behind them, and replays an operation a killed sync left in flight."""

from __future__ import annotations

import gc
import typing as t

import pytest

from fixtures.emulator import writes
from tests.cli_runner import run_cli
from tests.emulator_fixtures import EMULATOR_TOKEN
from tests.executor_support import executor_seed
from validator.api import load_engine
from validator.executor.enqueue import queue_operations
from validator.executor.journal import Journal, journal_dir, journal_name
from validator.executor.playback import SyncOptions, sync_journal
from validator.plan import Operation

N = 4500  # three chunks of the journal's reads (2,000 operations each)
PARKED_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def _live_ops() -> int:
    return sum(1 for o in gc.get_objects() if type(o) is dict and "op_id" in o)


def test_a_sync_holds_a_window_of_the_journal_and_keeps_its_order(
    start_emulator, token_env, cache_dir, data_dir, capsys, monkeypatch: pytest.MonkeyPatch
):
    from metadata.auth import StaticToken
    from metadata.webapi import WebAPIClient

    emu = start_emulator(seed=executor_seed())
    assert run_cli(["harvest", "--org", emu.url], capsys).exit_code == 0
    engine = load_engine(org=emu.url, cache_dir=cache_dir)
    plan = [
        Operation(index=i, message="Create", table="account", path="p", line=i + 1,
                  id=PARKED_ID if i == 9 else None, data={"name": f"A{i}"})
        for i in range(N - 1)
    ] + [Operation(index=N - 1, message="Update", table="account", path="p", line=N,
                   id=PARKED_ID, data={"name": "later"})]  # fmt: skip
    path = journal_dir(journal_name(emu.url), data_dir)
    with Journal.open(path) as journal:
        queue_operations(journal, engine, plan)
        journal.set_state(
            [t.cast(t.Any, journal.get(10))],
            "parked",
            last_error={"status": 400, "code": None, "message": "refused"},
        )
        journal.set_state([t.cast(t.Any, journal.get(3000))], "in-flight", attempts=1)  # fmt: skip

    def whole_journal(*_a: object, **_k: object) -> t.NoReturn:
        raise AssertionError("playback read the whole journal at once")

    monkeypatch.setattr(Journal, "ops", whole_journal)
    held: list[int] = []

    def progress(done: int, total: int) -> None:
        assert total == N - 1  # every operation but the parked one is to be sent
        if len(held) < 4:
            held.append(_live_ops())

    client = WebAPIClient(emu.url, StaticToken(EMULATOR_TOKEN))
    with client, Journal.open(path) as journal:
        report = sync_journal(journal, emu.url,
                              SyncOptions(client=client, cache_dir=cache_dir, batch_size=50,
                                          bulk_size=100, parallel=1),
                              progress=progress)  # fmt: skip
        monkeypatch.undo()
        ops = journal.ops()
    window = 20 * 50 + 2000  # look-ahead window plus one chunk read ahead
    assert held and max(held) <= window + 1, held
    assert report.aborted is None
    assert len(report.applied) == N - 2
    assert [op["seq"] for op in report.parked] == [10]
    assert [(op["seq"], behind) for op, behind in report.waiting] == [(N, 10)]
    assert report.pending == []
    states = {op["seq"]: op["state"] for op in ops}
    assert states[10] == "parked" and states[N] == "pending"
    assert {s for seq, s in states.items() if seq not in (10, N)} == {"done"}
    assert ops[2999]["attempts"] == 2  # the one a killed sync left in flight went again
    creates = writes.state(emu.store).creates
    assert len(emu.store.rows("accounts")) == N - 2 and set(creates.values()) == {1}
