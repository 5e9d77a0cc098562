"""Harvesting an org: sdkmessages, sdkmessagefilters and EntityDefinitions into a Snapshot.

Only OData query options are used (no FetchXML). ``probe`` is the cheap freshness check: the
highest ``versionnumber`` (a rowversion: any insert or update raises it) and the capped
``@odata.count`` of each sdk table, plus a digest of the table facts the verdicts use. It costs
three small requests; ``fingerprint_of`` computes the same values from a full harvest, so
"nothing changed" is a plain comparison.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import typing as t

from metadata.errors import ServerError
from metadata.model import Availability, Message, MessageFilter, Snapshot, Source, Table

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
    "IsCustomEntity,IsAvailableOffline,DisplayName"
)
# The table facts a verdict can depend on: the probe reads these (not labels) for its digest.
TABLE_FINGERPRINT_PROPERTIES = (
    "LogicalName,EntitySetName,SchemaName,OwnershipType,IsCustomEntity,IsAvailableOffline"
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
    """Download the three tables and build the org's Snapshot (source kind "org")."""
    before = client.requests_sent
    message_rows = _collect(client, "sdkmessages", [("$select", MESSAGE_COLUMNS)], progress)
    filter_rows = _collect(
        client,
        "sdkmessagefilters",
        [("$select", FILTER_COLUMNS), ("$expand", "sdkmessageid($select=name)")],
        progress,
    )
    table_rows = _collect(client, "EntityDefinitions", [("$select", TABLE_PROPERTIES)], progress)
    messages = [_message(r) for r in message_rows]
    names_by_id: dict[str | None, str] = {m.id: m.name for m in messages if m.id}
    filters: list[MessageFilter] = []
    skipped = 0
    for row in filter_rows:
        f = _filter(row, names_by_id)
        if f is None:
            skipped += 1
        else:
            filters.append(f)
    tables = [_table(r) for r in table_rows if r.get("LogicalName")]
    messages.sort(key=lambda m: m.name.lower())
    filters.sort(key=lambda f: (f.message.lower(), f.primary or "", f.secondary or ""))
    tables.sort(key=lambda tb: tb.logical_name)
    snapshot = Snapshot(
        messages,
        filters,
        tables,
        source=Source(kind="org", org=client.org, harvested_at=harvested_at or utc_now()),
    )
    return HarvestResult(
        snapshot,
        fingerprint_of(message_rows, filter_rows, table_rows),
        client.requests_sent - before,
        skipped,
    )


def probe(client: WebAPIClient) -> Fingerprint:
    """The freshness fingerprint from three small requests (no page-size preference, so
    ``$top=1`` is honoured)."""
    fp: Fingerprint = {}
    for entity_set in ("sdkmessages", "sdkmessagefilters"):
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
    message_rows: t.Sequence[JSON], filter_rows: t.Sequence[JSON], table_rows: t.Sequence[JSON]
) -> Fingerprint:
    def versions(rows: t.Sequence[JSON]) -> dict[str, int | None]:
        numbers = [v for v in (_int_or_none(r.get("versionnumber")) for r in rows) if v is not None]
        return {
            "max_version": max(numbers) if numbers else None,
            "count": min(len(rows), COUNT_CAP),
        }

    return {
        "sdkmessages": versions(message_rows),
        "sdkmessagefilters": versions(filter_rows),
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


def _filter(row: JSON, names_by_id: t.Mapping[str | None, str]) -> MessageFilter | None:
    expanded = row.get("sdkmessageid")
    name = expanded.get("name") if isinstance(expanded, dict) else None
    if not name:
        name = names_by_id.get(row.get("_sdkmessageid_value"))
    if not name:
        return None
    return MessageFilter(
        message=name,
        primary=_table_name(row.get("primaryobjecttypecode")),
        secondary=_table_name(row.get("secondaryobjecttypecode")),
        availability=_availability(row.get("availability"), f"a filter of {name}"),
        custom_processing_step_allowed=_bool_or_none(row.get("iscustomprocessingstepallowed")),
        is_visible=_bool_or_none(row.get("isvisible")),
        version=_int_or_none(row.get("versionnumber")),
        id=row.get("sdkmessagefilterid"),
    )


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
    )
