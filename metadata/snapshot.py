"""Snapshot files: one JSON document holding a whole set of availability facts.

The format (``"format": "msgavail-snapshot", "format_version": 2``) is described by
``metadata/schemas/snapshot.schema.json``. Version 2 added ``profiles`` (the org's mobile
offline profiles and their tables; present, possibly empty, when the org was harvested with
them) and the table flag ``is_offline_in_mobile_client``; version 1 files are still read and
carry no profile data. The embedded published default is itself a snapshot
file, read on the fast path (no schema validation: it is checked by the test suite); files a
user names are validated against the schema before use.
"""

from __future__ import annotations

import json
import os
import typing as t

from metadata.errors import SnapshotFormatError
from metadata.model import (
    RECORD_DISTRIBUTION,
    Availability,
    CustomTableRule,
    Message,
    MessageFilter,
    OfflineProfile,
    ProfileItem,
    Snapshot,
    Source,
    Table,
)

FORMAT_NAME = "msgavail-snapshot"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
SCHEMA_PATH = os.path.join(os.path.dirname(__file__), "schemas", "snapshot.schema.json")

JSONDict = dict[str, t.Any]


def _drop_none(d: JSONDict) -> JSONDict:
    return {k: v for k, v in d.items() if v is not None}


def profile_to_dict(profile: OfflineProfile) -> JSONDict:
    return _drop_none(
        {
            "name": profile.name,
            "id": profile.id,
            "description": profile.description,
            "is_validated": profile.is_validated,
            "published_on": profile.published_on,
            "version": profile.version,
            "items": [_drop_none(i._asdict()) for i in profile.items],
        }
    )


def profile_from_dict(p: JSONDict) -> OfflineProfile:
    items = []
    for i in p.get("items", ()):
        dist = i.get("distribution")
        if isinstance(dist, int) and not isinstance(dist, bool):
            dist = RECORD_DISTRIBUTION.get(dist)
        items.append(ProfileItem(**{**i, "table": i["table"].lower(), "distribution": dist}))
    items.sort(key=lambda i: i.table)
    return OfflineProfile(
        name=p["name"],
        items=tuple(items),
        description=p.get("description"),
        is_validated=p.get("is_validated"),
        published_on=p.get("published_on"),
        id=p.get("id"),
        version=p.get("version"),
    )


def _filter_dict(f: MessageFilter, labels: t.Mapping[Availability, str]) -> JSONDict:
    # The hot loop of storing a harvest (20,000 rows): the fields in their order, nulls left
    # out, without building a dict to filter.
    message, primary, secondary, availability, custom, visible, version, fid = f
    d: JSONDict = {"message": message}
    if primary is not None:
        d["primary_table"] = primary
    if secondary is not None:
        d["secondary_table"] = secondary
    d["availability"] = labels[availability]
    if custom is not None:
        d["custom_processing_step_allowed"] = custom
    if visible is not None:
        d["is_visible"] = visible
    if version is not None:
        d["version"] = version
    if fid is not None:
        d["id"] = fid
    return d


def to_dict(snapshot: Snapshot) -> JSONDict:
    """The snapshot as a JSON-ready dict (stable key and row order, nulls left out)."""
    labels = {a: a.label for a in Availability}
    src = snapshot.source
    doc: JSONDict = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "source": _drop_none(
            {
                "kind": "org" if src.kind == "snapshot" and src.org else src.kind,
                "org": src.org,
                "harvested_at": src.harvested_at,
                "description": src.description or None,
            }
        ),
        "messages": [
            _drop_none(
                {
                    "name": m.name,
                    "availability": m.availability.label,
                    "is_private": m.is_private,
                    "is_active": m.is_active,
                    "category": m.category,
                    "version": m.version,
                    "id": m.id,
                }
            )
            for m in snapshot.messages
        ],
        "filters": [_filter_dict(f, labels) for f in snapshot.filters],
        "tables": [_drop_none(tb._asdict()) for tb in snapshot.tables],
        "custom_table_rules": [
            {
                "message": r.message,
                "ownerships": list(r.ownerships),
                "message_availability": r.message_availability.label,
                "filter_availability": r.filter_availability.label,
            }
            for r in snapshot.custom_rules
        ],
    }
    if snapshot.has_profile_data:
        doc["profiles"] = [profile_to_dict(p) for p in snapshot.profiles]
    return doc


def dumps(snapshot: Snapshot, *, compact: bool = False) -> str:
    if compact:
        return json.dumps(to_dict(snapshot), separators=(",", ":"), ensure_ascii=False)
    return json.dumps(to_dict(snapshot), indent=1, ensure_ascii=False) + "\n"


def _lower(name: t.Any) -> str | None:
    # Dataverse writes "none" (or nothing) for "no table" in primary/secondaryobjecttypecode.
    if not name or str(name).lower() == "none":
        return None
    return str(name).lower()


class _Lowered(dict[t.Any, "str | None"]):
    """``_lower`` of each distinct table spelling, worked out once."""

    def __missing__(self, key: t.Any) -> str | None:
        value = self[key] = _lower(key)
        return value


def _labels() -> dict[str, Availability]:
    return {a.label: a for a in Availability}


_new_row = tuple.__new__  # positional construction without the generated __new__'s call


def _availability_reader() -> t.Callable[[t.Any], Availability]:
    known: dict[t.Any, Availability] = {a.label: a for a in Availability}
    known.update({int(a): a for a in Availability})

    def read(value: t.Any) -> Availability:
        found = known.get(value) if not isinstance(value, bool) else None
        return found if found is not None else Availability.parse(value)

    return read


def from_dict(data: JSONDict, *, source: Source | None = None) -> Snapshot:
    """Build a Snapshot from an already-validated dict; ``source`` overrides the file's own."""
    if source is None:
        s = data.get("source", {})
        source = Source(
            kind=s.get("kind", "snapshot"),
            org=s.get("org"),
            harvested_at=s.get("harvested_at"),
            description=s.get("description", ""),
        )
    av = _availability_reader()
    messages = [
        Message(
            m["name"],
            av(m["availability"]),
            m.get("is_private", False),
            m.get("is_active", True),
            m.get("category"),
            m.get("version"),
            m.get("id"),
        )
        for m in data["messages"]
    ]
    # The hot loop of every start-up (1315 rows in the default): each distinct table spelling
    # and availability worked out once, rows built as plain tuples of the record's type.
    tables_seen = _Lowered()
    labels = _labels()
    filters = []
    for f in data["filters"]:
        get = f.get
        p, s, a = get("primary_table"), get("secondary_table"), f["availability"]
        filters.append(_new_row(MessageFilter, (
            f["message"],
            tables_seen[p] if p is not None else None,
            tables_seen[s] if s is not None else None,
            labels[a] if a in labels else av(a),
            get("custom_processing_step_allowed"),
            get("is_visible"),
            get("version"),
            get("id"),
        )))  # fmt: skip
    tables = [
        Table(**{**tb, "logical_name": tb["logical_name"].lower()}) for tb in data.get("tables", ())
    ]
    rules = [
        CustomTableRule(
            message=r["message"],
            ownerships=tuple(r["ownerships"]),
            message_availability=av(r["message_availability"]),
            filter_availability=av(r["filter_availability"]),
        )
        for r in data.get("custom_table_rules", ())
    ]
    raw_profiles = data.get("profiles")
    profiles = None if raw_profiles is None else [profile_from_dict(p) for p in raw_profiles]
    return Snapshot(messages, filters, tables, rules, source=source, profiles=profiles)


def load_schema() -> JSONDict:
    with open(SCHEMA_PATH, encoding="utf-8") as fh:
        schema: JSONDict = json.load(fh)
    return schema


def validate(data: t.Any, *, path: str, text: str | None = None) -> None:
    """Raise SnapshotFormatError naming the first place ``data`` breaks the snapshot schema."""
    import jsonschema  # lazy: only files a user names are validated

    validator = jsonschema.Draft202012Validator(load_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is None:
        return
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    position = None
    if text is not None:
        from metadata.jsonpos import locate

        position = locate(text, error.absolute_path)
    raise SnapshotFormatError(
        f"not a valid msgavail snapshot: at {where.lstrip('.') or 'the top level'}: "
        f"{error.message}",
        path=path,
        line=position[0] if position else None,
        column=position[1] if position else None,
    )


def read(path: str | os.PathLike[str]) -> Snapshot:
    """Read and validate a snapshot file; the result's source kind is "snapshot"."""
    p = os.fspath(path)
    try:
        with open(p, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise SnapshotFormatError(f"cannot read snapshot: {exc.strerror}", path=p) from exc
    except UnicodeDecodeError as exc:
        raise SnapshotFormatError("snapshot is not UTF-8 text", path=p) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SnapshotFormatError(
            f"invalid JSON: {exc.msg}", path=p, line=exc.lineno, column=exc.colno
        ) from exc
    validate(data, path=p, text=text)
    s = data["source"]
    source = Source(
        kind="snapshot",
        org=s.get("org"),
        harvested_at=s.get("harvested_at"),
        description=s.get("description", ""),
        path=p,
    )
    try:
        return from_dict(data, source=source)
    except (ValueError, TypeError) as exc:  # schema-valid but inconsistent (e.g. bad table key)
        raise SnapshotFormatError(f"not a valid msgavail snapshot: {exc}", path=p) from exc


def write(snapshot: Snapshot, path: str | os.PathLike[str]) -> None:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    from metadata.fsutil import atomic_write_text

    atomic_write_text(os.fspath(path), dumps(snapshot))
