"""Harvesting an org: sdkmessages, sdkmessagefilters, EntityDefinitions and the Power Apps
mobile offline profiles (mobileofflineprofiles, mobileofflineprofileitems) into a Snapshot.

Only OData query options are used (no FetchXML), and every collection is paged the same way
(one request per page). An org without profiles is normal: the snapshot then says "no
profiles" (not "no profile data"). ``probe`` is the cheap freshness check: the highest
``versionnumber`` (a rowversion: any insert or update raises it, so publishing a profile or
adding a table to one is seen) and the capped ``@odata.count`` (deletions) of each versioned
table, plus a digest of the table facts the verdicts use. It costs five small requests;
``fingerprint_of`` computes the same values from a full harvest, so "nothing changed" is a
plain comparison. Profile item associations (the relationships an item follows) are not
harvested: no verdict depends on them.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import typing as t

from metadata.errors import ServerError
from metadata.model import (
    RECORD_DISTRIBUTION,
    Availability,
    Message,
    MessageFilter,
    OfflineProfile,
    ProfileItem,
    Snapshot,
    Source,
    Table,
)

if t.TYPE_CHECKING:
    from metadata.webapi import WebAPIClient

JSON = dict[str, t.Any]
Progress = t.Callable[[str, int], None]
"""Called as ``progress(entity_set, rows_so_far)`` after every page."""

MESSAGE_COLUMNS = "sdkmessageid,name,availability,isprivate,isactive,categoryname,versionnumber"
FILTER_COLUMNS = (
    "sdkmessagefilterid,primaryobjecttypecode,secondaryobjecttypecode,availability,"
    "iscustomprocessingstepallowed,isvisible,versionnumber,_sdkmessageid_value"
)
TABLE_PROPERTIES = (
    "LogicalName,SchemaName,EntitySetName,PrimaryIdAttribute,ObjectTypeCode,OwnershipType,"
    "IsCustomEntity,IsAvailableOffline,IsOfflineInMobileClient,DisplayName"
)
# The table facts a verdict can depend on: the probe reads these (not labels) for its digest.
TABLE_FINGERPRINT_PROPERTIES = (
    "LogicalName,EntitySetName,SchemaName,OwnershipType,IsCustomEntity,IsAvailableOffline,"
    "IsOfflineInMobileClient"
)
# Power Apps mobile offline (Dataverse table reference: MobileOfflineProfile,
# MobileOfflineProfileItem; docs/reference/mobile-offline.md §3).
PROFILE_COLUMNS = "mobileofflineprofileid,name,description,isvalidated,publishedon,versionnumber"
PROFILE_ITEM_COLUMNS = (
    "mobileofflineprofileitemid,name,_regardingobjectid_value,selectedentitytypecode,"
    "recorddistributioncriteria,recordsownedbyme,recordsownedbymyteam,"
    "recordsownedbymybusinessunit,getrelatedentityrecords,canbefollowed,"
    "syncintervalinminutes,versionnumber"
)
VERSIONED_SETS = (
    "sdkmessages",
    "sdkmessagefilters",
    "mobileofflineprofiles",
    "mobileofflineprofileitems",
)
COUNT_CAP = 5000  # Dataverse caps @odata.count at 5,000

Fingerprint = dict[str, t.Any]


class HarvestResult(t.NamedTuple):
    snapshot: Snapshot
    fingerprint: Fingerprint
    requests: int
    skipped_filters: int  # rows whose message could not be resolved


def utc_now() -> str:
    return (
        _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    )


def harvest(
    client: WebAPIClient,
    *,
    progress: Progress | None = None,
    harvested_at: str | None = None,
) -> HarvestResult:
    """Download the five tables and build the org's Snapshot (source kind "org")."""
    before = client.requests_sent
    message_rows = _collect(client, "sdkmessages", [("$select", MESSAGE_COLUMNS)], progress)
    filter_rows = _collect(
        client,
        "sdkmessagefilters",
        [("$select", FILTER_COLUMNS), ("$expand", "sdkmessageid($select=name)")],
        progress,
    )
    table_rows = _collect(client, "EntityDefinitions", [("$select", TABLE_PROPERTIES)], progress)
    profile_rows = _collect(
        client, "mobileofflineprofiles", [("$select", PROFILE_COLUMNS)], progress
    )
    item_rows = _collect(
        client, "mobileofflineprofileitems", [("$select", PROFILE_ITEM_COLUMNS)], progress
    )
    messages = [_message(r) for r in message_rows]
    names_by_id: dict[str | None, str] = {m.id: m.name for m in messages if m.id}
    filters, skipped = _filters(filter_rows, names_by_id)
    tables = [_table(r) for r in table_rows if r.get("LogicalName")]
    messages.sort(key=lambda m: m.name.lower())
    tables.sort(key=lambda tb: tb.logical_name)
    snapshot = Snapshot(
        messages,
        filters,
        tables,
        source=Source(kind="org", org=client.org, harvested_at=harvested_at or utc_now()),
        profiles=profiles_from_rows(profile_rows, item_rows),
    )
    return HarvestResult(
        snapshot,
        fingerprint_of(message_rows, filter_rows, table_rows, profile_rows, item_rows),
        client.requests_sent - before,
        skipped,
    )


def probe(client: WebAPIClient) -> Fingerprint:
    """The freshness fingerprint from five small requests (no page-size preference, so
    ``$top=1`` is honoured)."""
    fp: Fingerprint = {}
    for entity_set in VERSIONED_SETS:
        body = client.get_json(
            entity_set,
            [
                ("$select", "versionnumber"),
                ("$orderby", "versionnumber desc"),
                ("$top", "1"),
                ("$count", "true"),
            ],
        )
        rows = body.get("value") or []
        top = rows[0].get("versionnumber") if rows and isinstance(rows[0], dict) else None
        fp[entity_set] = {
            "max_version": _int_or_none(top),
            "count": _int_or_none(body.get("@odata.count")),
        }
    tables = client.get_json("EntityDefinitions", [("$select", TABLE_FINGERPRINT_PROPERTIES)])
    fp["EntityDefinitions"] = _tables_digest(tables.get("value") or [])
    return fp


def fingerprint_of(
    message_rows: t.Sequence[JSON],
    filter_rows: t.Sequence[JSON],
    table_rows: t.Sequence[JSON],
    profile_rows: t.Sequence[JSON] = (),
    item_rows: t.Sequence[JSON] = (),
) -> Fingerprint:
    def versions(rows: t.Sequence[JSON]) -> dict[str, int | None]:
        # 20,000 filter rows: ints (what the Web API sends) kept as they are, anything else
        # converted as _int_or_none does.
        found = [r.get("versionnumber") for r in rows]
        numbers = [
            v for v in (v if type(v) is int else _int_or_none(v) for v in found) if v is not None
        ]
        return {
            "max_version": max(numbers) if numbers else None,
            "count": min(len(rows), COUNT_CAP),
        }

    return {
        "sdkmessages": versions(message_rows),
        "sdkmessagefilters": versions(filter_rows),
        "mobileofflineprofiles": versions(profile_rows),
        "mobileofflineprofileitems": versions(item_rows),
        "EntityDefinitions": _tables_digest(table_rows),
    }


def _tables_digest(rows: t.Sequence[t.Any]) -> dict[str, t.Any]:
    keys = TABLE_FINGERPRINT_PROPERTIES.split(",")
    facts = sorted(
        json.dumps([r.get(k) for k in keys], sort_keys=True, default=str)
        for r in rows
        if isinstance(r, dict)
    )
    digest = hashlib.sha256("\n".join(facts).encode()).hexdigest()
    return {"count": len(facts), "digest": digest}


def _collect(
    client: WebAPIClient,
    entity_set: str,
    params: list[tuple[str, str]],
    progress: Progress | None,
) -> list[JSON]:
    rows: list[JSON] = []
    for page in client.iter_pages(entity_set, params):
        rows.extend(r for r in page if isinstance(r, dict))
        if progress is not None:
            progress(entity_set, len(rows))
    return rows


# -- rows -> model ----------------------------------------------------------------------------


def _int_or_none(value: t.Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool_or_none(value: t.Any) -> bool | None:
    if isinstance(value, dict):  # BooleanManagedProperty
        value = value.get("Value")
    return value if isinstance(value, bool) else None


_BY_CODE = {int(a): a for a in Availability}


def _availability(value: t.Any, what: str) -> Availability:
    found = _BY_CODE.get(value) if type(value) is int else None  # the common case, fast
    if found is not None:
        return found
    try:
        return Availability.parse(value)
    except ValueError:
        raise ServerError(f"unexpected availability {value!r} in {what}") from None


def _message(row: JSON) -> Message:
    name = row.get("name")
    if not isinstance(name, str) or not name:
        raise ServerError(f"an sdkmessage row has no name: {row.get('sdkmessageid')}")
    return Message(
        name=name,
        availability=_availability(row.get("availability"), f"sdkmessage {name}"),
        is_private=bool(row.get("isprivate")),
        is_active=row.get("isactive") is not False,
        category=row.get("categoryname") or None,
        version=_int_or_none(row.get("versionnumber")),
        id=row.get("sdkmessageid"),
    )


def _table_name(value: t.Any) -> str | None:
    if not isinstance(value, str) or not value or value.lower() == "none":
        return None
    return value.lower()


class _TableNames(dict[str, "str | None"]):
    """``_table_name`` of each distinct spelling, worked out once."""

    def __missing__(self, key: str) -> str | None:
        value = self[key] = _table_name(key)
        return value


_new_filter = tuple.__new__  # positional, as in metadata/snapshot.py's hot loop


def _filters(
    rows: t.Sequence[JSON], names_by_id: t.Mapping[str | None, str]
) -> tuple[list[MessageFilter], int]:
    """The filter rows as MessageFilters sorted by (message, primary, secondary), and how many
    rows name no message. ``_filter`` for every row, with the per-row calls that repeat the
    same work (20,000 rows name a few hundred tables) looked up instead: the hot loop of a
    harvest after the download."""
    tables = _TableNames()
    lowered: dict[str, str] = {}
    keyed: list[tuple[str, str, str]] = []
    filters: list[MessageFilter] = []
    skipped = 0
    for row in rows:
        get = row.get
        expanded = get("sdkmessageid")
        name = expanded.get("name") if type(expanded) is dict else None
        if not name:
            name = names_by_id.get(get("_sdkmessageid_value"))
            if not name:
                skipped += 1
                continue
        p, s = get("primaryobjecttypecode"), get("secondaryobjecttypecode")
        primary = tables[p] if type(p) is str else None
        secondary = tables[s] if type(s) is str else None
        av = get("availability")
        availability = _BY_CODE.get(av) if type(av) is int else None
        if availability is None:
            availability = _availability(av, f"a filter of {name}")
        custom, visible = get("iscustomprocessingstepallowed"), get("isvisible")
        version = get("versionnumber")
        filters.append(_new_filter(MessageFilter, (
            name, primary, secondary, availability,
            custom if custom is True or custom is False else _bool_or_none(custom),
            visible if visible is True or visible is False else _bool_or_none(visible),
            version if type(version) is int else _int_or_none(version),
            get("sdkmessagefilterid"),
        )))  # fmt: skip
        low = lowered.get(name)
        if low is None:
            low = lowered[name] = name.lower()
        keyed.append((low, primary or "", secondary or ""))
    order = sorted(range(len(keyed)), key=keyed.__getitem__)  # stable, no Python key calls
    return [filters[i] for i in order], skipped


def _label(value: t.Any) -> str | None:
    if not isinstance(value, dict):
        return value if isinstance(value, str) else None
    user = value.get("UserLocalizedLabel")
    if isinstance(user, dict) and user.get("Label"):
        return str(user["Label"])
    for label in value.get("LocalizedLabels") or ():
        if isinstance(label, dict) and label.get("Label"):
            return str(label["Label"])
    return None


def _table(row: JSON) -> Table:
    ownership = row.get("OwnershipType")
    return Table(
        logical_name=str(row["LogicalName"]).lower(),
        schema_name=row.get("SchemaName"),
        entity_set_name=row.get("EntitySetName"),
        primary_id_attribute=row.get("PrimaryIdAttribute"),
        object_type_code=_int_or_none(row.get("ObjectTypeCode")),
        ownership=str(ownership) if ownership is not None else None,
        is_custom=bool(_bool_or_none(row.get("IsCustomEntity"))),
        is_available_offline=_bool_or_none(row.get("IsAvailableOffline")),
        display_name=_label(row.get("DisplayName")),
        is_offline_in_mobile_client=_bool_or_none(row.get("IsOfflineInMobileClient")),
    )


def profiles_from_rows(
    profile_rows: t.Sequence[JSON], item_rows: t.Sequence[JSON]
) -> list[OfflineProfile]:
    """Profiles with their items (joined on ``_regardingobjectid_value``), sorted by name.

    Items whose profile is not among the rows (e.g. a profile deleted between the two
    requests) are left out; items without a table name are skipped.
    """
    items: dict[str, list[ProfileItem]] = {}
    for row in item_rows:
        table = row.get("selectedentitytypecode")
        owner = row.get("_regardingobjectid_value")
        if not isinstance(table, str) or not table or not isinstance(owner, str):
            continue
        dist = _int_or_none(row.get("recorddistributioncriteria"))
        items.setdefault(owner.lower(), []).append(
            ProfileItem(
                table=table.lower(),
                distribution=RECORD_DISTRIBUTION.get(dist) if dist is not None else None,
                owned_by_me=_bool_or_none(row.get("recordsownedbyme")),
                owned_by_my_team=_bool_or_none(row.get("recordsownedbymyteam")),
                owned_by_my_business_unit=_bool_or_none(row.get("recordsownedbymybusinessunit")),
                get_related_records=_bool_or_none(row.get("getrelatedentityrecords")),
                can_be_followed=_bool_or_none(row.get("canbefollowed")),
                sync_interval_minutes=_int_or_none(row.get("syncintervalinminutes")),
                name=row.get("name") if isinstance(row.get("name"), str) else None,
                id=row.get("mobileofflineprofileitemid"),
                version=_int_or_none(row.get("versionnumber")),
            )
        )
    profiles = []
    for row in profile_rows:
        name = row.get("name")
        pid = row.get("mobileofflineprofileid")
        if not isinstance(name, str) or not name:
            raise ServerError(f"a mobileofflineprofile row has no name: {pid}")
        mine = sorted(items.get(str(pid).lower(), ()), key=lambda i: i.table)
        profiles.append(
            OfflineProfile(
                name=name,
                items=tuple(mine),
                description=row.get("description") or None,
                is_validated=_bool_or_none(row.get("isvalidated")),
                published_on=row.get("publishedon") or None,
                id=pid,
                version=_int_or_none(row.get("versionnumber")),
            )
        )
    profiles.sort(key=lambda p: p.name.lower())
    return profiles
