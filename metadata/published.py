"""The embedded default: Microsoft's published availability table for Dynamics 365 9.0.

Source: ``fixtures/published-v9/*.csv`` (copied verbatim from the developer guide, see
``fixtures/published-v9/SOURCES.md``). ``scripts/build_published_default.py`` turns them into
``metadata/data/published-v9.json``, a snapshot file that ships in the wheel; ``load()`` reads it.

What the conversion decides, because the published table does not say:

* Table names in the table are schema names (``SystemUser``); the logical name is the schema name
  lower-cased (``systemuser``), as Dataverse stores it in ``primaryobjecttypecode``.
* Entity set names follow Dataverse's default English plural of the logical name: ``y`` after a
  consonant becomes ``ies`` (``opportunity`` -> ``opportunities``); a name ending in ``s``, ``x``,
  ``z``, ``ch`` or ``sh`` takes ``es`` (``customeraddress`` -> ``customeraddresses``); any other
  name takes ``s`` (``account`` -> ``accounts``). A harvest replaces these with the org's real
  ``EntitySetName`` values.
* Ownership, object type codes and display names are unknown (null).
* Custom-table rules come from ``custom-entities.csv``: "User-owned entities only" applies to
  ``UserOwned`` tables, "User-owned and organization-owned entities" to both ownerships.
"""

from __future__ import annotations

import json
import os
import typing as t

from metadata.model import (
    Availability,
    CustomTableRule,
    Message,
    MessageFilter,
    Snapshot,
    Source,
    Table,
)

DATA_PATH = os.path.join(os.path.dirname(__file__), "data", "published-v9.json")
DESCRIPTION = "published default (Dynamics 365 9.0)"
SOURCE = Source(kind="published", description=DESCRIPTION)

_OWNERSHIP_PHRASES = {
    "user-owned entities only": ("UserOwned",),
    "user-owned and organization-owned entities": ("UserOwned", "OrganizationOwned"),
}


def load() -> Snapshot:
    """Read the embedded default (fast path: the file is checked by the test suite)."""
    from metadata.snapshot import from_dict

    with open(DATA_PATH, encoding="utf-8") as fh:
        data = json.load(fh)
    return from_dict(data, source=SOURCE)


def entity_set_name(logical_name: str) -> str:
    """Dataverse's default entity set name for a logical name (see module docstring)."""
    n = logical_name
    if n.endswith("y") and len(n) > 1 and n[-2] not in "aeiou":
        return n[:-1] + "ies"
    if n.endswith(("s", "x", "z", "ch", "sh")):
        return n + "es"
    return n + "s"


def build_from_csv(default_csv: str, custom_csv: str) -> Snapshot:
    """Convert the published CSV tables into a Snapshot (used by the generator script)."""
    import csv

    with open(default_csv, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with open(custom_csv, newline="", encoding="utf-8") as fh:
        custom_rows = list(csv.DictReader(fh))

    messages: dict[str, Message] = {}
    filters: list[MessageFilter] = []
    schema_names: dict[str, str] = {}
    for row in rows:
        name = row["message"]
        msg_av = Availability.parse(row["message_availability"])
        known = messages.get(name)
        if known is not None and known.availability != msg_av:
            raise ValueError(f"message {name} has two availabilities in {default_csv}")
        messages[name] = Message(name=name, availability=msg_av)
        for col in ("primary_entity", "secondary_entity"):
            if row[col]:
                schema_names.setdefault(row[col].lower(), row[col])
        filters.append(
            MessageFilter(
                message=name,
                primary=row["primary_entity"].lower() or None,
                secondary=row["secondary_entity"].lower() or None,
                availability=Availability.parse(row["entity_deployment"]),
            )
        )
    tables = [
        Table(logical_name=logical, schema_name=schema, entity_set_name=entity_set_name(logical))
        for logical, schema in sorted(schema_names.items())
    ]
    rules = [
        CustomTableRule(
            message=r["message"],
            ownerships=_OWNERSHIP_PHRASES[r["ownership"].strip().lower()],
            message_availability=Availability.parse(r["message_availability"]),
            filter_availability=Availability.parse(r["entity_deployment"]),
        )
        for r in custom_rows
    ]
    ordered = sorted(messages.values(), key=lambda m: m.name.lower())
    return Snapshot(ordered, filters, tables, rules, source=SOURCE)


def render(snapshot: Snapshot) -> str:
    """The exact text of the generated package data file."""
    from metadata.snapshot import to_dict

    data: dict[str, t.Any] = to_dict(snapshot)
    # One row per line: compact to load, yet a regenerated file diffs readably.
    parts = ["{"]
    keys = list(data)
    for i, key in enumerate(keys):
        sep = "," if i < len(keys) - 1 else ""
        value = data[key]
        if isinstance(value, list):
            rows = ",\n".join(" " + json.dumps(v, separators=(",", ":")) for v in value)
            parts.append(f"{json.dumps(key)}:[\n{rows}\n]{sep}")
        else:
            parts.append(f"{json.dumps(key)}:{json.dumps(value, separators=(',', ':'))}{sep}")
    parts.append("}")
    return "\n".join(parts) + "\n"
