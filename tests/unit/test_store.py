"""The diskcache store: real cache directories in tmp."""

from __future__ import annotations

import os

import pytest

from metadata import published
from metadata.errors import CacheError, DataUnavailableError
from metadata.model import Snapshot, Source
from metadata.store import Store

ORG = "https://contoso.crm.dynamics.com"


def org_snapshot() -> Snapshot:
    base = published.load()
    return Snapshot(
        base.messages[:20],
        base.filters[:50],
        base.tables[:10],
        source=Source(kind="org", org=ORG, harvested_at="2026-01-02T03:04:05Z"),
    )


def test_round_trip_keyed_by_normalized_org(tmp_path):
    snap = org_snapshot()
    with Store.open(tmp_path) as store:
        store.put("https://CONTOSO.crm.dynamics.com/", snap, {"x": 1}, now=100.0)
    with Store.open(tmp_path) as store:
        cached = store.get(ORG + "/api/data/v9.2/")
        assert cached is not None
        assert cached.snapshot == snap
        assert cached.snapshot.source.kind == "org"
        assert cached.snapshot.source.harvested_at == "2026-01-02T03:04:05Z"
        assert (cached.fingerprint, cached.stored_at, cached.checked_at) == ({"x": 1}, 100.0, 100.0)
        store.touch(ORG, now=200.0)
        assert store.get(ORG).checked_at == 200.0


def test_missing_harvest_says_what_to_run(tmp_path):
    with Store.open(tmp_path) as store, pytest.raises(DataUnavailableError) as info:
        store.cached_snapshot("https://fabrikam.crm.dynamics.com/")
    assert "msgavail harvest --org https://fabrikam.crm.dynamics.com" in str(info.value)


def test_damaged_entry_is_a_cache_error_and_recoverable(tmp_path):
    with Store.open(tmp_path) as store:
        store.put(ORG, org_snapshot(), {}, now=1.0)
        store._open().set("harvest:" + ORG, '{"format": 1, "snapshot": {"messages": 3}}')
        with pytest.raises(CacheError, match="damaged"):
            store.get(ORG)
        store.recover(ORG)
        assert store.get(ORG) is None


def test_damaged_database_is_moved_aside(tmp_path):
    with Store.open(tmp_path) as store:
        store.put(ORG, org_snapshot(), {}, now=1.0)
    db = tmp_path / "harvests" / "cache.db"
    for name in os.listdir(tmp_path / "harvests"):
        if name.startswith("cache.db-"):
            os.unlink(tmp_path / "harvests" / name)
    db.write_bytes(b"this is not a database" * 100)
    store = Store.open(tmp_path)
    with pytest.raises(CacheError, match=r"damaged.*msgavail harvest"):
        store.get(ORG)
    store.recover(ORG)
    assert store.get(ORG) is None
    assert any(n.startswith("harvests.damaged-") for n in os.listdir(tmp_path))
    store.close()


def test_unusable_directory_is_a_cache_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(CacheError, match=r"cannot use .*/file as the cache dir.*: .*/file is a"):
        Store.open(blocker).get(ORG)
