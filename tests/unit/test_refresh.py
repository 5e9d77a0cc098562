"""Cache, probe or harvest: the refresh policy against the emulator and a real cache."""

from __future__ import annotations

import pytest

from metadata.auth import StaticToken
from metadata.errors import AuthenticationError, DataUnavailableError
from metadata.refresh import refresh
from metadata.store import Store
from metadata.webapi import RetryPolicy, WebAPIClient
from tests.emulator_fixtures import EMULATOR_TOKEN

DAY = 86400.0


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path):
    with Store.open(tmp_path / "cache") as s:
        yield s


def factory(emu, token=EMULATOR_TOKEN):
    retry = RetryPolicy(max_retries=1, max_throttle_retries=1)
    return lambda: WebAPIClient(emu.url, StaticToken(token), retry=retry, sleep=lambda s: None)


def test_ttl_then_probe_then_harvest_on_change(emulator, store):
    clock = Clock()
    first = refresh(emulator.url, store=store, client_factory=factory(emulator), clock=clock)
    assert first.action == "harvested" and first.requests == 5
    emulator.reset_log()

    clock.now += DAY - 60
    again = refresh(emulator.url, store=store, client_factory=factory(emulator), clock=clock)
    assert again.action == "cached" and emulator.count() == 0
    assert again.snapshot == first.snapshot

    clock.now += 120  # past the TTL, nothing changed: only the probe
    probed = refresh(emulator.url, store=store, client_factory=factory(emulator), clock=clock)
    assert probed.action == "unchanged" and emulator.count() == 5
    assert {r.path for r in emulator.requests()} == {
        "sdkmessages",
        "sdkmessagefilters",
        "EntityDefinitions",
        "mobileofflineprofiles",
        "mobileofflineprofileitems",
    }
    emulator.reset_log()
    clock.now += 60  # the probe confirmed the cache: the TTL starts again
    assert (
        refresh(emulator.url, store=store, client_factory=factory(emulator), clock=clock).action
        == "cached"
    )

    row = emulator.store.find("sdkmessages", "name", "Merge")
    emulator.store.update("sdkmessages", row["sdkmessageid"], {"availability": 2})
    clock.now += DAY + 1
    changed = refresh(emulator.url, store=store, client_factory=factory(emulator), clock=clock)
    assert changed.action == "harvested" and changed.requests == 10
    assert changed.snapshot.message("Merge").availability.label == "All"
    assert store.cached_snapshot(emulator.url).message("Merge").availability.label == "All"


def test_force_harvests_within_ttl(emulator, store):
    refresh(emulator.url, store=store, client_factory=factory(emulator))
    forced = refresh(emulator.url, store=store, client_factory=factory(emulator), force=True)
    assert forced.action == "harvested"


def test_offline_never_touches_the_network(emulator, store):
    def no_client():
        raise AssertionError("offline refresh created a client")

    with pytest.raises(DataUnavailableError, match="--offline"):
        refresh(emulator.url, store=store, client_factory=no_client, offline=True)
    clock = Clock()
    refresh(emulator.url, store=store, client_factory=factory(emulator), clock=clock)
    emulator.reset_log()
    clock.now += 3 * DAY
    out = refresh(emulator.url, store=store, client_factory=no_client, offline=True, clock=clock)
    assert out.action == "cached" and emulator.count() == 0
    assert "days old" in out.warnings[0]


def test_network_failure_falls_back_to_the_cache_with_its_age(emulator, store):
    clock = Clock()
    refresh(emulator.url, store=store, client_factory=factory(emulator), clock=clock)
    harvested_at = store.get(emulator.url).harvested_at
    clock.now += 2 * DAY
    emulator.faults.unavailable(times=-1)
    out = refresh(emulator.url, store=store, client_factory=factory(emulator), clock=clock)
    assert out.action == "fallback"
    assert harvested_at in out.warnings[0] and "503" in out.warnings[0]


def test_authentication_failure_is_not_hidden_by_the_cache(emulator, store):
    clock = Clock()
    refresh(emulator.url, store=store, client_factory=factory(emulator), clock=clock)
    clock.now += 2 * DAY
    with pytest.raises(AuthenticationError):
        refresh(emulator.url, store=store, client_factory=factory(emulator, "bad"), clock=clock)


def test_damaged_cache_is_rebuilt_by_harvesting(emulator, store):
    refresh(emulator.url, store=store, client_factory=factory(emulator))
    store._open().set("head:" + emulator.url, "{not json")
    out = refresh(emulator.url, store=store, client_factory=factory(emulator))
    assert out.action == "harvested" and "damaged" in out.warnings[0]
    assert store.get(emulator.url) is not None
