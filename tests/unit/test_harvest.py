"""Harvest and probe against the emulator seeded with the synthetic org."""

from __future__ import annotations

from fixtures.emulator.seed import synthetic_org
from metadata.auth import StaticToken
from metadata.harvest import harvest, probe
from metadata.model import Availability
from metadata.webapi import WebAPIClient
from tests.emulator_fixtures import EMULATOR_TOKEN


def client_for(emu, **kw):
    return WebAPIClient(emu.url, StaticToken(EMULATOR_TOKEN), sleep=lambda s: None, **kw)


def test_harvest_builds_the_orgs_snapshot(emulator):
    seed = synthetic_org()
    progress = []
    with client_for(emulator) as client:
        result = harvest(client, progress=lambda s, n: progress.append((s, n)))
    snap = result.snapshot
    assert snap.source.kind == "org" and snap.source.org == emulator.url
    assert snap.source.harvested_at.endswith("Z")
    assert len(snap.messages) == len(seed["sdkmessages"])
    assert len(snap.filters) == len(seed["sdkmessagefilters"])
    assert len(snap.tables) == len(seed["EntityDefinitions"])
    assert snap.message("contoso_ScanBadge").availability is Availability.CLIENT
    assert snap.filter("Create", "queue").availability is Availability.ALL
    assert snap.filter("Update", "account").availability is Availability.SERVER
    assert snap.filter("WhoAmI").primary is None
    region = snap.table("contoso_region")
    assert (region.ownership, region.is_custom, region.display_name) == (
        "OrganizationOwned",
        True,
        "Region",
    )
    assert result.requests == 3 and result.skipped_filters == 0
    assert [s for s, _ in progress] == ["sdkmessages", "sdkmessagefilters", "EntityDefinitions"]
    # filters are asked for with the expanded message name, without FetchXML
    (req,) = emulator.requests("sdkmessagefilters")
    assert "$expand=sdkmessageid(%24select%3Dname)" in req.query or "sdkmessageid(" in req.query
    assert "fetchXml" not in req.query


def test_probe_matches_a_fresh_harvest_and_sees_changes(emulator):
    with client_for(emulator) as client:
        fingerprint = harvest(client).fingerprint
        assert probe(client) == fingerprint
        emulator.reset_log()
        assert probe(client) == fingerprint
        assert emulator.count() == 3
        row = emulator.store.find("sdkmessagefilters", "primaryobjecttypecode", "site")
        emulator.store.update("sdkmessagefilters", row["sdkmessagefilterid"], {"availability": 2})
        assert probe(client) != fingerprint
        fingerprint = harvest(client).fingerprint
        msg = emulator.store.find("sdkmessages", "name", "contoso_InternalSync")
        emulator.store.delete("sdkmessages", msg["sdkmessageid"])  # max version unchanged
        assert probe(client) != fingerprint
        fingerprint = harvest(client).fingerprint
        table = emulator.store.find("EntityDefinitions", "LogicalName", "contoso_region")
        emulator.store.update(
            "EntityDefinitions", table["MetadataId"], {"IsAvailableOffline": True}
        )
        assert probe(client) != fingerprint


def test_filters_of_unknown_messages_are_counted_not_kept(emulator):
    from fixtures.emulator.seed import message_filter

    emulator.store.insert("sdkmessagefilters", message_filter("NoSuchMessage", "account", 2))
    with client_for(emulator) as client:
        result = harvest(client)
    assert result.skipped_filters == 1
    assert not result.snapshot.filters_for("NoSuchMessage")


def test_big_org_pages(start_emulator):
    emu = start_emulator(seed="big:1200", max_page_size=500)
    with client_for(emu) as client:
        result = harvest(client)
    assert len(result.snapshot.filters) == 1200
    assert emu.count("sdkmessagefilters") == 3
