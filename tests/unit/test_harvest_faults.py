"""Property: whatever the page sizes and wherever faults land, the harvest is complete and
exact (nothing lost, nothing doubled)."""

from __future__ import annotations

import typing as t

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.emulator import start
from metadata.auth import StaticToken
from metadata.harvest import harvest
from metadata.webapi import RetryPolicy, WebAPIClient

FAULT_KINDS = ("throttle", "unavailable", "drop")
PATHS = ("sdkmessages", "sdkmessagefilters", "EntityDefinitions")

_reference: dict[str, t.Any] = {}


def reference():
    if "snap" not in _reference:
        with start() as emu, WebAPIClient(emu.url, StaticToken("x")) as client:
            _reference["snap"] = harvest(client).snapshot
    return _reference["snap"]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    server_max=st.integers(1, 40),
    requested=st.integers(1, 60),
    faults=st.lists(
        st.tuples(st.sampled_from(FAULT_KINDS), st.sampled_from(PATHS), st.integers(0, 8)),
        max_size=4,
    ),
)
def test_harvest_is_exact_under_paging_and_faults(server_max, requested, faults):
    expected = reference()
    with start(max_page_size=server_max) as emu:
        for kind, path, after in faults:
            if kind == "throttle":
                emu.faults.throttle(retry_after=0, path=path, after=after)
            elif kind == "unavailable":
                emu.faults.unavailable(path=path, after=after, times=2)
            else:
                emu.faults.drop(path=path, after=after)
        retry = RetryPolicy(max_retries=10, max_throttle_retries=10)
        with WebAPIClient(
            emu.url, StaticToken("x"), page_size=requested, retry=retry, sleep=lambda s: None
        ) as client:
            got = harvest(client).snapshot
    assert got == expected
    ids = [f.id for f in got.filters]
    assert len(ids) == len(set(ids))
