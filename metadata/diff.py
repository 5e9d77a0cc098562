"""What changed between two snapshots: messages, filters, tables and mobile offline profiles.

Messages and filters "change" when their availability does (the fact verdicts depend on);
tables when ownership, offline availability (either flag), custom flag or entity set name do;
a mobile offline profile when tables are added to or removed from it (the fact mobile verdicts
depend on; profiles match by name, case-insensitively). Results are
data (``SnapshotDiff``) with a JSON form; the CLI renders text.
"""

from __future__ import annotations

import typing as t

from metadata.model import (
    FilterKey,
    Message,
    MessageFilter,
    OfflineProfile,
    Snapshot,
    Table,
    filter_key,
)

TABLE_FIELDS = (
    "ownership",
    "is_available_offline",
    "is_offline_in_mobile_client",
    "is_custom",
    "entity_set_name",
)


class MessageChange(t.NamedTuple):
    before: Message
    after: Message


class FilterChange(t.NamedTuple):
    before: MessageFilter
    after: MessageFilter


class TableChange(t.NamedTuple):
    before: Table
    after: Table
    fields: tuple[str, ...]


class ProfileChange(t.NamedTuple):
    """A profile in both snapshots whose set of tables differs."""

    name: str
    tables_added: tuple[str, ...]
    tables_removed: tuple[str, ...]


class SnapshotDiff(t.NamedTuple):
    messages_added: tuple[Message, ...]
    messages_removed: tuple[Message, ...]
    messages_changed: tuple[MessageChange, ...]
    filters_added: tuple[MessageFilter, ...]
    filters_removed: tuple[MessageFilter, ...]
    filters_changed: tuple[FilterChange, ...]
    tables_added: tuple[Table, ...]
    tables_removed: tuple[Table, ...]
    tables_changed: tuple[TableChange, ...]
    profiles_added: tuple[OfflineProfile, ...] = ()
    profiles_removed: tuple[OfflineProfile, ...] = ()
    profiles_changed: tuple[ProfileChange, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not any(self)

    def to_json(self) -> dict[str, t.Any]:
        return {
            "messages": {
                "added": [_message_json(m) for m in self.messages_added],
                "removed": [_message_json(m) for m in self.messages_removed],
                "changed": [
                    {
                        "name": c.after.name,
                        "before": c.before.availability.label,
                        "after": c.after.availability.label,
                    }
                    for c in self.messages_changed
                ],
            },
            "filters": {
                "added": [_filter_json(f) for f in self.filters_added],
                "removed": [_filter_json(f) for f in self.filters_removed],
                "changed": [
                    {
                        **{k: v for k, v in _filter_json(c.after).items() if k != "availability"},
                        "before": c.before.availability.label,
                        "after": c.after.availability.label,
                    }
                    for c in self.filters_changed
                ],
            },
            "tables": {
                "added": [_table_json(tb) for tb in self.tables_added],
                "removed": [_table_json(tb) for tb in self.tables_removed],
                "changed": [
                    {
                        "logical_name": c.after.logical_name,
                        "changes": {
                            f: {"before": getattr(c.before, f), "after": getattr(c.after, f)}
                            for f in c.fields
                        },
                    }
                    for c in self.tables_changed
                ],
            },
            "profiles": {
                "added": [{"name": p.name, "tables": list(p.tables)} for p in self.profiles_added],
                "removed": [
                    {"name": p.name, "tables": list(p.tables)} for p in self.profiles_removed
                ],
                "changed": [
                    {
                        "name": c.name,
                        "tables_added": list(c.tables_added),
                        "tables_removed": list(c.tables_removed),
                    }
                    for c in self.profiles_changed
                ],
            },
        }


def _message_json(m: Message) -> dict[str, t.Any]:
    return {"name": m.name, "availability": m.availability.label}


def _filter_json(f: MessageFilter | Message) -> dict[str, t.Any]:
    assert isinstance(f, MessageFilter)
    return {
        "message": f.message,
        "primary_table": f.primary,
        "secondary_table": f.secondary,
        "availability": f.availability.label,
    }


def _table_json(tb: Table) -> dict[str, t.Any]:
    return {"logical_name": tb.logical_name, "ownership": tb.ownership, "is_custom": tb.is_custom}


def diff(old: Snapshot, new: Snapshot) -> SnapshotDiff:
    old_m = {m.name.lower(): m for m in old.messages}
    new_m = {m.name.lower(): m for m in new.messages}
    old_f: dict[FilterKey, MessageFilter] = {
        filter_key(f.message, f.primary, f.secondary): f for f in old.filters
    }
    new_f: dict[FilterKey, MessageFilter] = {
        filter_key(f.message, f.primary, f.secondary): f for f in new.filters
    }
    old_t = {tb.logical_name: tb for tb in old.tables}
    new_t = {tb.logical_name: tb for tb in new.tables}
    table_changes = []
    for k in sorted(old_t.keys() & new_t.keys()):
        fields = tuple(f for f in TABLE_FIELDS if getattr(old_t[k], f) != getattr(new_t[k], f))
        if fields:
            table_changes.append(TableChange(old_t[k], new_t[k], fields))
    old_p = {p.name.lower(): p for p in old.profiles}
    new_p = {p.name.lower(): p for p in new.profiles}
    profile_changes = []
    for k in sorted(old_p.keys() & new_p.keys()):
        before, after = set(old_p[k].tables), set(new_p[k].tables)
        if before != after:
            profile_changes.append(
                ProfileChange(new_p[k].name, tuple(sorted(after - before)),
                              tuple(sorted(before - after)))
            )  # fmt: skip
    return SnapshotDiff(
        messages_added=tuple(new_m[k] for k in sorted(new_m.keys() - old_m.keys())),
        messages_removed=tuple(old_m[k] for k in sorted(old_m.keys() - new_m.keys())),
        messages_changed=tuple(
            MessageChange(old_m[k], new_m[k])
            for k in sorted(old_m.keys() & new_m.keys())
            if old_m[k].availability != new_m[k].availability
        ),
        filters_added=tuple(new_f[k] for k in sorted(new_f.keys() - old_f.keys())),
        filters_removed=tuple(old_f[k] for k in sorted(old_f.keys() - new_f.keys())),
        filters_changed=tuple(
            FilterChange(old_f[k], new_f[k])
            for k in sorted(old_f.keys() & new_f.keys())
            if old_f[k].availability != new_f[k].availability
        ),
        tables_added=tuple(new_t[k] for k in sorted(new_t.keys() - old_t.keys())),
        tables_removed=tuple(old_t[k] for k in sorted(old_t.keys() - new_t.keys())),
        tables_changed=tuple(table_changes),
        profiles_added=tuple(new_p[k] for k in sorted(new_p.keys() - old_p.keys())),
        profiles_removed=tuple(old_p[k] for k in sorted(old_p.keys() - new_p.keys())),
        profiles_changed=tuple(profile_changes),
    )
