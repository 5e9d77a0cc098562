"""Turning a linted plan into journal entries and local writes, all in one transaction.

Creates get a client-generated id (uuid4) when the plan gives none, so that playback can create
with ``PATCH set(id)`` + ``If-None-Match: *`` and a replay is recognisable. A ``"$label"`` in an
id, a related id or an ``@odata.bind`` value is replaced by the id of the earlier operation with
that label. An Associate / Disassociate with several related records becomes one journal entry
per related record, so that every entry is exactly one request at playback.

The plan has been linted before it gets here (``validator.executor.gate``): every check on a
plan is a lint rule (missing ids and fields are MA006, unknown names MA001/MA002, references
MA008/MA014), so that ``lint`` and ``run --offline`` report the same findings. This module only
asserts what the rules guarantee.
"""

from __future__ import annotations

import os
import typing as t

from metadata.errors import PlanError
from validator.executor.journal import Journal, LocalRecord, Op, paused_gc
from validator.names import NameResolver
from validator.plan import bind_reference, reference_label
from validator.rules.ma006_invalid_operation import NEEDS_ID

if t.TYPE_CHECKING:
    from validator.engine import Engine
    from validator.plan import Operation as PlanOp

BIND = "@odata.bind"
RELATE = frozenset({"associate", "disassociate"})
READS = frozenset({"whoami"})  # besides Retrieve*: messages that change nothing


class _RandomIds:
    """Random (version 4) UUIDs as text, as ``str(uuid.uuid4())`` makes them, from one
    ``os.urandom`` call per 4096 ids (uuid4 per id was 10 % of queuing a 100,000-op plan)."""

    def __init__(self) -> None:
        self._pool: list[str] = []

    def __call__(self) -> str:
        if not self._pool:
            raw = os.urandom(16 * 4096)
            pool = []
            for i in range(0, len(raw), 16):
                b = bytearray(raw[i : i + 16])
                b[6] = (b[6] & 0x0F) | 0x40  # version 4
                b[8] = (b[8] & 0x3F) | 0x80  # RFC 4122 variant
                h = b.hex()
                pool.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
            self._pool = pool
        return self._pool.pop()


new_id = _RandomIds()


def is_read(message: str) -> bool:
    """Reads change nothing on the server, so there is nothing to play back."""
    name = message.lower()
    return name.startswith("retrieve") or name in READS


class Skipped(t.NamedTuple):
    operation: int
    line: int
    column: int
    message: str
    table: str | None
    reason: str


class QueueResult(t.NamedTuple):
    queued: tuple[Op, ...]
    skipped: tuple[Skipped, ...]


def _parse_bind(value: str) -> tuple[str, str] | None:
    """``/accounts(<guid>)`` or ``accounts(<guid>)`` -> (entity set, id)."""
    text = value.rsplit("/", 1)[-1] if "(" in value else value
    if not text.endswith(")") or "(" not in text:
        return None
    name, _, key = text[:-1].partition("(")
    return (name, key.strip("'")) if name and key else None


def _table(names: NameResolver, name: str) -> str:
    """The logical name; a name the data presumes custom (MA002 lets it through) as given."""
    found = names.lookup_table(name)
    if found is None and names.is_presumed_custom(name):
        return name.strip().lower()
    return found if found is not None else names.table(name)


class Enqueuer:
    """Builds journal entries for one plan against one engine (canonical names, ids, labels)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.ids: dict[str, tuple[str | None, str]] = {}  # label -> (table, id)

    def _ref(self, value: str) -> str:
        label = reference_label(value)
        if label is not None:
            found = self.ids.get(label)
            assert found is not None and found[1], f"{value}: MA008/MA014 let it through"
            return found[1]
        return value

    def build(self, op: PlanOp) -> list[Op]:
        names = self.engine.names
        assert op.message is not None  # the gate reports MA006 before we get here
        message = names.message(op.message)
        table = _table(names, op.table) if op.table else None
        secondary = names.table(op.secondary_table) if op.secondary_table else None
        verb = message.lower()
        record_id: str | None
        if op.id is not None:
            record_id = self._ref(op.id)
        elif verb == "create":
            record_id = new_id()
        else:
            record_id = None
        assert record_id is not None or verb not in NEEDS_ID, f"MA006 let {message} through"
        assert table is not None or verb != "create", "MA006 let a Create without table through"
        if op.label:
            self.ids[op.label] = (table, record_id or "")

        data: dict[str, t.Any] = {}
        binds: dict[str, dict[str, str]] = {}
        raw = dict(op.data or {})
        etag = raw.pop("@odata.etag", None)  # the version the user saw, for --etag playback
        for key, value in raw.items():
            if key.endswith(BIND) and isinstance(value, str):
                nav = key[: -len(BIND)]
                label = bind_reference(value)
                if label is not None:
                    target_table, target_id = self.ids.get(label, (None, ""))
                    assert target_id and target_table, f"{value}: MA008/MA014 let it through"
                    binds[nav] = {"table": target_table, "id": target_id}
                    continue
                parsed = _parse_bind(value)
                if parsed is not None:
                    binds[nav] = {"entity_set": parsed[0], "id": parsed[1]}
                    continue
            data[key] = value
        if verb == "setstate":
            params = dict(op.parameters or {})
            for src, dst in (("State", "statecode"), ("Status", "statuscode")):
                if src in params and dst not in data:
                    data[dst] = params[src]
            assert "statecode" in data, "MA006 let a SetState without a state through"

        base: Op = {
            "message": message,
            "table": table,
            "secondary_table": secondary,
            "id": record_id,
            "data": data or None,
            "parameters": dict(op.parameters) if op.parameters else None,
            "binds": binds,
            "relationship": op.relationship,
            "related": None,
            "label": op.label,
            "etag": etag if isinstance(etag, str) else None,
            "origin": {"path": op.path, "operation": op.index, "line": op.line},
        }
        if verb not in RELATE:
            base["op_id"] = new_id()
            return [base]
        assert op.relationship and op.related, f"MA006 let an incomplete {message} through"
        out: list[Op] = []
        for rel in op.related:
            one: Op = dict(base)  # type: ignore[assignment]
            one["op_id"] = new_id()
            one["related"] = {
                "table": _table(names, rel.table),
                "id": self._ref(rel.id),
            }
            out.append(one)
        return out


class LocalWrites:
    """The local store as one plan leaves it: each record read once from the journal, every
    change kept in memory and written back in one statement (inside the enqueue transaction)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._seen: dict[tuple[str, str], LocalRecord | None] = {}
        self._dirty: dict[tuple[str, str], LocalRecord] = {}

    def prefetch(self, ops: t.Iterable[Op]) -> None:
        """Read every record these operations touch, in a few statements."""
        wanted: set[tuple[str, str]] = set()
        for op in ops:
            table, record_id = op.get("table"), op.get("id")
            if table and record_id:
                wanted.add((table, record_id))
        found = self.journal.records_by_id(wanted)
        for table, record_id in wanted:
            key = (table, record_id.lower())
            if key not in self._seen:
                self._seen[key] = found.get(key)

    def record(self, table: str, record_id: str) -> LocalRecord | None:
        key = (table, record_id.lower())
        if key not in self._seen:
            self._seen[key] = self.journal.record(table, record_id)
        return self._seen[key]

    def put_record(self, rec: LocalRecord) -> None:
        key = (rec["table"], rec["id"].lower())
        self._seen[key] = self._dirty[key] = rec

    def flush(self) -> None:
        self.journal.put_records(self._dirty.values())
        self._dirty.clear()


def apply_local(journal: Journal | LocalWrites, op: Op) -> None:
    """What the user will read back offline after ``op`` (inside the enqueue transaction).
    ``journal`` is the journal itself or the plan's :class:`LocalWrites` over it."""
    table, record_id = op.get("table"), op.get("id")
    if not table or not record_id:
        return  # unbound messages change nothing we can show locally
    verb = op["message"].lower()
    rec = journal.record(table, record_id)
    if verb == "create":
        if rec is not None and not rec.get("deleted"):
            origin = op["origin"]
            raise PlanError(
                f"a {table} record with id {record_id} is already in the local store",
                path=origin.get("path"),
                line=origin.get("line"),
            )
        rec = {"table": table, "id": record_id, "data": {}, "deleted": False, "partial": False}
    elif rec is None:
        # Not created offline: the server has it; we know only what the user changes.
        rec = {"table": table, "id": record_id, "data": {}, "deleted": False, "partial": True}
    new: LocalRecord = {**rec, "seq": op["seq"]}
    fields = dict(new.get("data") or {})
    if verb in ("create", "update", "setstate"):
        fields.update(op.get("data") or {})
        for nav, target in (op.get("binds") or {}).items():
            fields[f"_{nav}_value"] = target["id"]
    elif verb == "delete":
        new["deleted"] = True
    elif verb in RELATE and op.get("related"):
        related = dict(op.get("related") or {})
        links = {k: list(v) for k, v in (new.get("links") or {}).items()}
        rel_name = op.get("relationship") or ""
        current = [r for r in links.get(rel_name, []) if r != related]
        if verb == "associate":
            current.append(related)
        links[rel_name] = current
        new["links"] = links
    else:
        return
    new["data"] = fields
    journal.put_record(new)


def queue_operations(
    journal: Journal,
    engine: Engine,
    operations: t.Sequence[PlanOp],
    skip: t.Mapping[int, str] | None = None,
) -> QueueResult:
    """Queue ``operations`` (minus the ``skip`` indexes, with reasons) in ONE transaction.

    An operation that refers by label to a skipped one is skipped too (it cannot replay).
    Returns the stored entries; on any error nothing at all is queued.
    """
    skip = dict(skip or {})
    # Building and storing a plan creates several objects per operation, none in a cycle.
    with paused_gc():
        skipped_labels: set[str] = set()
        skipped: list[Skipped] = []
        enq = Enqueuer(engine)
        entries: list[Op] = []
        for op in operations:
            blocked = next((lbl for lbl in op.references if lbl in skipped_labels), None)
            read = op.index not in skip and is_read(enq.engine.names.message(op.message or ""))
            if op.index in skip or blocked or read:
                reason = skip.get(op.index) or (
                    f"it refers to ${blocked}, which was skipped"
                    if blocked
                    else "a read: nothing to play back (`msgavail get` reads the local store)"
                )
                skipped.append(
                    Skipped(op.index, op.line, op.column, op.message or "", op.table, reason)
                )
                if op.label:
                    skipped_labels.add(op.label)
                continue
            entries.extend(enq.build(op))
        # One transaction, a few statements: every entry, every local record, the counter.
        with journal.transaction():
            queued = journal.append_many(entries)
            local = LocalWrites(journal)
            local.prefetch(queued)
            for stored in queued:
                apply_local(local, stored)
            local.flush()
    return QueueResult(tuple(queued), tuple(skipped))
