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


def test_damaged_head_is_a_cache_error_and_recoverable(tmp_path):
    with Store.open(tmp_path) as store:
        store.put(ORG, org_snapshot(), {}, now=1.0)
        store._open().set("head:" + ORG, '{"format": 2, "id": 3}')
        with pytest.raises(CacheError, match="damaged"):
            store.get(ORG)
        store.recover(ORG)
        assert store.get(ORG) is None
        assert list(store._open().iterkeys()) == []  # the body went too


@pytest.mark.parametrize("key", ["head:", "harvest:"], ids=["format-2", "format-1"])
def test_an_entry_of_an_unknown_format_names_it_and_the_rebuild(tmp_path, key):
    """e.g. written by a newer msgavail: refused as damaged, never misread."""
    with Store.open(tmp_path) as store:
        store._open().set(key + ORG, '{"format": 99, "stored_at": 1.0}')
        with pytest.raises(CacheError) as info:
            store.get(ORG)
        assert str(info.value) == (
            f"the cached harvest of {ORG} in {store.path} is damaged (unknown entry format 99); "
            f"`msgavail harvest --org {ORG}` rebuilds it"
        )


def big_snapshot() -> Snapshot:
    """Large enough (the whole published table) for diskcache to keep it in a value file."""
    base = published.load()
    source = Source(kind="org", org=ORG, harvested_at="2026-01-02T03:04:05Z")
    return Snapshot(base.messages, base.filters, base.tables, source=source)


def body_files(root):
    return [
        os.path.join(d, n) for d, _, names in os.walk(root) for n in names if n.endswith(".val")
    ]


def overwrite(data: bytes):
    def garble(path: str) -> None:
        with open(path, "wb") as fh:
            fh.write(data)

    return garble


@pytest.mark.parametrize(
    "garble",
    [
        overwrite(b"\x00\xff garbage \xfe" * 100),  # not UTF-8
        overwrite(b'{"messages": [{"name": 3}]'),  # not JSON (truncated)
        overwrite(b'{"messages": "none"}'),  # JSON, not a snapshot
        os.unlink,  # the value file is gone
    ],
    ids=["bytes", "truncated", "wrong-shape", "deleted"],
)
def test_garbled_value_file_is_a_clear_cache_error_and_recoverable(tmp_path, garble):
    with Store.open(tmp_path) as store:
        store.put(ORG, big_snapshot(), {"x": 1}, now=1.0)
    (value_file,) = body_files(tmp_path)
    garble(value_file)
    with Store.open(tmp_path) as store:
        cached = store.get(ORG)  # the header is intact: refresh decisions still work
        assert cached is not None and cached.fingerprint == {"x": 1}
        with pytest.raises(CacheError) as info:
            _ = cached.snapshot
        assert str(info.value).startswith(f"the cached harvest of {ORG} in ")
        assert "is damaged" in str(info.value) and f"msgavail harvest --org {ORG}" in str(
            info.value
        )
        store.recover(ORG)
        assert store.get(ORG) is None
        store.put(ORG, big_snapshot(), {"x": 2}, now=2.0)
        assert store.get(ORG).snapshot == big_snapshot()


def test_a_new_harvest_replaces_the_old_body_only_after_the_switch(tmp_path):
    first = big_snapshot()
    second = Snapshot(first.messages, first.filters[:-5], first.tables, source=first.source)
    with Store.open(tmp_path) as store:
        store.put(ORG, first, {"n": 1}, now=1.0)
        old = store.get(ORG)
        store.put(ORG, second, {"n": 2}, now=2.0)
        # A reader that read the old header before the switch follows the new one.
        assert old.snapshot == second and old.fingerprint == {"n": 2}
        assert len(body_files(tmp_path)) == 1  # the old body is gone once replaced


def test_a_format_1_entry_is_still_read_and_replaced(tmp_path):
    import json

    from metadata.snapshot import to_dict

    snap = big_snapshot()
    legacy = {
        "format": 1,
        "org": ORG,
        "harvested_at": snap.source.harvested_at,
        "stored_at": 5.0,
        "fingerprint": {"v": 1},
        "snapshot": to_dict(snap),
    }
    with Store.open(tmp_path) as store:
        store._open().set("harvest:" + ORG, json.dumps(legacy))
        cached = store.get(ORG)
        assert cached.snapshot == snap and cached.fingerprint == {"v": 1}
        store.put(ORG, snap, {"v": 2}, now=6.0)
        assert store._open().get("harvest:" + ORG) is None
        assert store.get(ORG).fingerprint == {"v": 2}


def test_damaged_database_is_moved_aside(tmp_path):
    with Store.open(tmp_path) as store:
        store.put(ORG, big_snapshot(), {}, now=1.0)
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
