"""Harvest and probe against the emulator seeded with the synthetic org."""

from __future__ import annotations

import urllib.parse

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
    assert result.requests == 5 and result.skipped_filters == 0
    assert [s for s, _ in progress] == [
        "sdkmessages",
        "sdkmessagefilters",
        "EntityDefinitions",
        "mobileofflineprofiles",
        "mobileofflineprofileitems",
    ]
    # filters are asked for with the expanded message name, without FetchXML
    (req,) = emulator.requests("sdkmessagefilters")
    query = urllib.parse.parse_qs(req.query)
    assert query["$expand"] == ["sdkmessageid($select=name)"]
    assert "fetchXml" not in query


def test_probe_matches_a_fresh_harvest_and_sees_changes(emulator):
    with client_for(emulator) as client:
        fingerprint = harvest(client).fingerprint
        assert probe(client) == fingerprint
        emulator.reset_log()
        assert probe(client) == fingerprint
        assert emulator.count() == 5
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
    # an org without mobile offline profiles is normal: known to have none, one request each
    assert result.snapshot.has_profile_data and result.snapshot.profiles == ()
    assert emu.count("mobileofflineprofiles") == emu.count("mobileofflineprofileitems") == 1


def test_harvest_reads_the_mobile_offline_profiles(emulator):
    with client_for(emulator) as client:
        snap = harvest(client).snapshot
    assert [p.name for p in snap.profiles] == ["Field Technician", "Sales Rep"]
    field = snap.profile("field technician")
    assert field.tables == ("account", "contact", "contoso_inspection", "task")
    contact = field.item("contact")
    assert (contact.distribution, contact.owned_by_me, contact.get_related_records) == (
        "custom",
        True,
        True,
    )
    assert snap.profile("Sales Rep").item("incident").sync_interval_minutes == 60
    assert snap.table("contoso_region").is_offline_in_mobile_client is False
    assert snap.table("account").is_offline_in_mobile_client is True
    (req,) = emulator.requests("mobileofflineprofileitems")
    assert "selectedentitytypecode" in req.query and "fetchXml" not in req.query


def test_profile_tables_page_like_the_sdk_tables(start_emulator):
    emu = start_emulator(max_page_size=4)
    with client_for(emu) as client:
        snap = harvest(client).snapshot
    assert emu.count("mobileofflineprofileitems") == 3  # 9 items, 4 per page
    assert sum(len(p.items) for p in snap.profiles) == 9


def test_probe_notices_a_profile_published_or_changed_after_the_harvest(emulator):
    from fixtures.emulator.seed import offline_profile, profile_item

    with client_for(emulator) as client:
        fingerprint = harvest(client).fingerprint
        emulator.store.insert("mobileofflineprofiles", offline_profile("Inspectors"))
        assert probe(client) != fingerprint
        fingerprint = harvest(client).fingerprint
        emulator.store.insert("mobileofflineprofileitems", profile_item("Inspectors", "account"))
        assert probe(client) != fingerprint
        fingerprint = harvest(client).fingerprint
        row = emulator.store.find("mobileofflineprofiles", "name", "Sales Rep")
        emulator.store.update(
            "mobileofflineprofiles", row["mobileofflineprofileid"], {"publishedon": "2026-02-02"}
        )
        assert probe(client) != fingerprint
        fingerprint = harvest(client).fingerprint
        item = emulator.store.find("mobileofflineprofileitems", "selectedentitytypecode", "task")
        emulator.store.delete("mobileofflineprofileitems", item["mobileofflineprofileitemid"])
        assert probe(client) != fingerprint
        fingerprint = harvest(client).fingerprint
        table = emulator.store.find("EntityDefinitions", "LogicalName", "task")
        emulator.store.update(
            "EntityDefinitions",
            table["MetadataId"],
            {"IsOfflineInMobileClient": {**table["IsOfflineInMobileClient"], "Value": False}},
        )
        assert probe(client) != fingerprint


def test_filter_rows_become_sorted_filters_whatever_their_spelling() -> None:
    # The hot loop (metadata.harvest._filters) looks repeated table spellings up instead of
    # working each out: the values Dataverse may send must still map as documented.
    from metadata.harvest import _filters
    from metadata.model import MessageFilter

    names: dict[str | None, str] = {"m1": "Update"}
    rows = [
        {"sdkmessageid": {"name": "Create"}, "primaryobjecttypecode": "Account",
         "secondaryobjecttypecode": "none", "availability": 2, "isvisible": {"Value": False},
         "versionnumber": "7", "sdkmessagefilterid": "f1"},
        {"_sdkmessageid_value": "m1", "primaryobjecttypecode": "None", "availability": "Server",
         "iscustomprocessingstepallowed": True, "versionnumber": 9},
        {"_sdkmessageid_value": "gone", "primaryobjecttypecode": "account", "availability": 0},
        {"sdkmessageid": {"name": "create"}, "primaryobjecttypecode": "account",
         "secondaryobjecttypecode": 5, "availability": 1, "isvisible": 1},
        {"sdkmessageid": {"name": "Create"}, "primaryobjecttypecode": "", "availability": 0},
    ]  # fmt: skip
    filters, skipped = _filters(rows, names)
    assert skipped == 1
    assert filters == [
        MessageFilter("Create", None, None, Availability.SERVER),
        MessageFilter("Create", "account", None, Availability.ALL, None, False, 7, "f1"),
        MessageFilter("create", "account", None, Availability.CLIENT),
        MessageFilter("Update", None, None, Availability.SERVER, True, None, 9),
    ]
    assert all(type(f) is MessageFilter for f in filters)
