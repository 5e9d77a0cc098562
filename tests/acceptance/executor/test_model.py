"""Random offline sessions, random faults, compared with a model of what the org must hold.

Hypothesis draws a sequence of offline operations over a few accounts and contacts (creates,
updates, state changes, deletes, associations and their removal), a batch size and a schedule
of lost answers, 503s and 429s. After one sync (with retries) and, if needed, a second, the
emulator must hold exactly what the model says, with every record created once.
"""

from __future__ import annotations

import typing as t

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.emulator import start, writes
from metadata.auth import StaticToken
from metadata.webapi import RetryPolicy, WebAPIClient
from tests.cli_runner import run_cli
from tests.emulator_fixtures import EMULATOR_TOKEN
from tests.executor_support import actual_state, executor_seed, expected_state
from validator.api import load_engine
from validator.executor.enqueue import queue_operations
from validator.executor.journal import Journal
from validator.executor.playback import SyncOptions, sync_journal
from validator.plan import Operation, Related

Step = tuple[str, int, int]  # (kind, record number, other record number)

steps = st.lists(
    st.tuples(
        st.sampled_from(["account", "contact", "update", "state", "delete", "link", "unlink"]),
        st.integers(0, 5),
        st.integers(0, 5),
    ),
    min_size=5,
    max_size=40,
)
faults = st.lists(
    st.tuples(st.sampled_from(["lost", "503", "429", "part503", "part429"]), st.integers(0, 12)),
    max_size=6,
)


def to_plan(draw: list[Step]) -> list[Operation]:
    """Valid offline operations: only on records that exist (locally) at that point."""
    ops: list[Operation] = []
    alive: dict[str, list[str]] = {"account": [], "contact": []}
    links: set[tuple[str, str]] = set()
    n = 0

    def add(message: str, table: str, **kw: t.Any) -> None:
        ops.append(Operation(index=len(ops), message=message, table=table, path="model", **kw))

    for kind, a, b in draw:
        if kind in ("account", "contact"):
            n += 1
            label = f"{kind[0]}{n}"
            data: dict[str, t.Any] = {"name" if kind == "account" else "lastname": label}
            if kind == "contact" and alive["account"]:
                parent = alive["account"][a % len(alive["account"])]
                data["parentcustomerid_account@odata.bind"] = f"${parent}"
            add("Create", kind, label=label, data=data)
            alive[kind].append(label)
        elif kind == "update" and alive["contact"]:
            c = alive["contact"][a % len(alive["contact"])]
            add("Update", "contact", id=f"${c}", data={"telephone1": f"{a}{b}"})
        elif kind == "state" and alive["account"]:
            acc = alive["account"][a % len(alive["account"])]
            add("SetState", "account", id=f"${acc}", data={"statecode": b % 2, "statuscode": b})
        elif kind == "delete" and alive["contact"]:
            c = alive["contact"].pop(a % len(alive["contact"]))
            links = {lk for lk in links if lk[1] != c}
            add("Delete", "contact", id=f"${c}")
        elif kind in ("link", "unlink") and alive["account"] and alive["contact"]:
            pair = (
                alive["account"][a % len(alive["account"])],
                alive["contact"][b % len(alive["contact"])],
            )
            if kind == "unlink" and pair not in links:
                continue
            links.add(pair) if kind == "link" else links.discard(pair)
            add(
                "Associate" if kind == "link" else "Disassociate",
                "account",
                id=f"${pair[0]}",
                relationship="contact_customer_accounts",
                related=(Related("contact", f"${pair[1]}"),),
            )
    return ops


@pytest.mark.slow
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(draw=steps, schedule=faults, size=st.sampled_from([1, 3, 50]))
def test_random_sessions_with_faults_end_in_the_modelled_state(
    draw, schedule, size, tmp_path_factory, capsys, token_env
):
    tmp = tmp_path_factory.mktemp("model")
    cache = str(tmp / "cache")
    with start(executor_seed(), token=EMULATOR_TOKEN) as emu:
        assert run_cli(["harvest", "--org", emu.url, "--cache-dir", cache], capsys).exit_code == 0
        engine = load_engine(org=emu.url, cache_dir=cache)
        plan = to_plan(draw)
        writes_only = r"^(?!EntityDefinitions|sdkmessage)"
        for kind, after in schedule:
            match = {"path": writes_only, "regex": True, "after": after}
            parts = writes.state(emu.store).part_faults  # one request inside a $batch
            if kind == "lost":
                emu.faults.lose_response(**match)
            elif kind == "503":
                emu.faults.unavailable(**match)
            elif kind == "429":
                emu.faults.throttle(retry_after=0, **match)
            elif kind == "part503":
                parts.unavailable(**match)
            else:
                parts.throttle(retry_after=0, **match)
        policy = RetryPolicy(max_retries=3, backoff_base=0.001, backoff_max=0.01)
        with Journal.open(tmp / "journal") as journal:
            queued = queue_operations(journal, engine, plan).queued
            for _ in range(2):  # a second sync picks up what the first left pending
                with WebAPIClient(emu.url, StaticToken(EMULATOR_TOKEN), retry=policy) as client:
                    options = SyncOptions(batch_size=size, cache_dir=cache, client=client)
                    report = sync_journal(journal, emu.url, options)
                assert not report.parked, report.lines()
                if not report.aborted and not report.pending:
                    break
            assert {op["state"] for op in journal.ops()} <= {"done"}
        want_rows, want_links = expected_state(queued)
        got_rows, got_links = actual_state(emu.store)
        assert got_rows == want_rows
        assert got_links == want_links
        assert set(writes.state(emu.store).creates.values()) <= {1}
