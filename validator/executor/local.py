"""Reading the local store while offline: Retrieve by id and RetrieveMultiple by equality.

Records come back in the Web API's shape (the primary key column plus the columns written
offline), so a user reads their own offline writes the way they will read them online.
"""

from __future__ import annotations

import typing as t

from metadata.errors import ConfigError
from validator.executor.journal import Journal, LocalRecord

Where = tuple[tuple[str, str], ...]


def parse_where(items: t.Iterable[str]) -> Where:
    """``name=Contoso`` -> (("name", "Contoso"),); several conditions are ANDed."""
    found: list[tuple[str, str]] = []
    for item in items:
        column, sep, value = item.partition("=")
        if not sep or not column.strip():
            raise ConfigError(f"--where {item!r}: expected COLUMN=VALUE")
        found.append((column.strip(), value))
    return tuple(found)


def _matches(value: object, wanted: str) -> bool:
    if value is None:
        return wanted.lower() == "null"
    if isinstance(value, bool):
        return wanted.lower() == str(value).lower()
    if isinstance(value, str):  # Dataverse compares strings case-insensitively
        return value.casefold() == wanted.casefold()
    return str(value) == wanted


def shape(rec: LocalRecord, primary_key: str) -> dict[str, t.Any]:
    row: dict[str, t.Any] = {primary_key: rec["id"]}
    row.update(rec.get("data") or {})
    if rec.get("links"):
        row["@msgavail.links"] = rec["links"]
    if rec.get("partial"):
        row["@msgavail.partial"] = True  # only the columns changed offline are known
    row["@msgavail.seq"] = rec.get("seq")
    return row


def retrieve(journal: Journal, table: str, record_id: str) -> LocalRecord | None:
    rec = journal.record(table, record_id)
    if rec is None or rec.get("deleted"):
        return None
    return rec


def matches(rec: LocalRecord, where: Where) -> bool:
    data = rec.get("data") or {}
    return all(_matches(data.get(col), val) for col, val in where)


def retrieve_multiple(journal: Journal, table: str, where: Where) -> list[LocalRecord]:
    return [r for r in journal.records(table) if not r.get("deleted") and matches(r, where)]
