"""The guard: check what Microsoft's Dataverse SDK is asked to write, before it sends anything.

``pip install 'msgavail[sdk]'`` (the SDK is ``powerplatform-dataverse-client``, import
``PowerPlatform.Dataverse``)::

    import validator
    from PowerPlatform.Dataverse.client import DataverseClient

    with DataverseClient(ORG, credential) as raw:
        client = validator.guard(raw, mode="offline", org=ORG)   # or snapshot="org.json"
        client.records.create("account", {"name": "Contoso"})    # checked, then sent
        client.records.create("queue", {"name": "Triage"})       # raises NotAvailableError

Every write the SDK offers on records is checked against the engine first: ``create`` (one:
Create; a list: CreateMultiple), ``update`` (Update / UpdateMultiple), ``delete`` (Delete;
a list: BulkDelete, or Delete per record with ``use_bulk_delete=False``), ``upsert`` (one item:
Upsert; several: UpsertMultiple), on ``client.records``, on ``client.dataframe`` (which writes
through ``client.records``), on ``client.batch.new().records`` and on the records of its
changesets. The message checked is the one the SDK will send; where the data predates a bulk
message (the published 9.0 table has no CreateMultiple, UpdateMultiple, UpsertMultiple, Upsert
or BulkDelete), the per-record messages it stands for are checked instead (Upsert: Create and
Update). A write that is not available in the mode raises ``NotAvailableError`` carrying the
verdict, and nothing is sent; unknown names raise ``UnknownMessageError`` /
``UnknownTableError``. Reads (``retrieve``, ``list``, ``get``, queries, tables, files) pass
through unchecked.

``validator.guard(client, org=ORG, queue=True)`` is the queueing variant: an available write
is not sent but queued in the offline journal (``queue=True``: the org's journal, the one
``msgavail sync --org ORG`` plays back; or a ``Journal``, or a journal directory), through the
executor's own ``queue_operations`` (client-generated ids, local store, one transaction per
call or per ``batch.execute()``). It checks the per-record messages the journal plays back
(Create, Update, Delete, Upsert). ``create`` returns the ids the records will have. An upsert
(by alternate key, one item or many) is queued as one Upsert per item, addressed by its key
(``contacts(firstname='Joe',emailaddress1='joe@example.com')``): playback sends the documented
upsert, ``PATCH`` on that URL with no condition, which creates or updates, so a replay after a
lost answer updates the same record with the same values (exactly one record, once). The local
store does not show a queued upsert (the record's id is the server's to choose); data with no
Upsert message (the published 9.0 table) cannot queue one and raises ``NotQueueableError``.
Values are queued as given (the SDK's choice-label conversion needs the server).

The guard wraps the SDK's public objects and calls only their public methods.
"""

from __future__ import annotations

import os
import typing as t
import uuid

from metadata.errors import NotAvailableError, NotQueueableError
from metadata.model import Mode

if t.TYPE_CHECKING:
    from validator.engine import Engine, Verdict
    from validator.executor.journal import Journal
    from validator.plan import Operation

__all__ = ["GuardedClient", "guard"]

# Where the data lacks a bulk message, the per-record messages it stands for.
PER_RECORD: dict[str, tuple[str, ...]] = {
    "CreateMultiple": ("Create",),
    "UpdateMultiple": ("Update",),
    "UpsertMultiple": ("Create", "Update"),
    "Upsert": ("Create", "Update"),
    "BulkDelete": ("Delete",),
}


class Checker:
    """(message, table) -> the verdict that refuses it, or None; memoized per pair (the data
    is immutable), so a guarded call costs one dictionary lookup once warm."""

    def __init__(self, engine: Engine, mode: Mode, profile: str | None) -> None:
        self.engine = engine
        self.mode: Mode = mode
        self.profile = profile
        self._memo: dict[tuple[str, str | None], Verdict | None] = {}

    def refusal(self, message: str, table: str | None) -> Verdict | None:
        key = (message, table)
        try:
            return self._memo[key]
        except KeyError:
            pass
        names = [message]
        if message in PER_RECORD and self.engine.names.lookup_message(message) is None:
            names = list(PER_RECORD[message])
        found: Verdict | None = None
        for name in names:
            verdict = self.engine.check(name, table, mode=self.mode, profile=self.profile)
            if not verdict.available:
                found = verdict
                break
        self._memo[key] = found
        return found

    def require(self, operation: str, message: str, table: str | None) -> None:
        verdict = self.refusal(message, table)
        if verdict is not None:
            raise NotAvailableError(operation, verdict)


def _many(value: object) -> bool:
    return isinstance(value, (list, tuple))


def _delete_message(ids: object, use_bulk_delete: bool) -> str:
    return "BulkDelete" if _many(ids) and use_bulk_delete else "Delete"


def _upsert_message(items: t.Sized) -> str:
    return "Upsert" if len(items) == 1 else "UpsertMultiple"


def _upsert_item(item: t.Any) -> tuple[t.Mapping[str, t.Any], t.Mapping[str, t.Any]]:
    """(alternate key, record) of an SDK upsert item: an ``UpsertItem`` or a plain dict with
    ``alternate_key`` and ``record`` (both mappings), as ``records.upsert`` takes them."""
    if isinstance(item, dict):
        key, record = item.get("alternate_key"), item.get("record")
    else:
        key, record = getattr(item, "alternate_key", None), getattr(item, "record", None)
    if not isinstance(key, t.Mapping) or not isinstance(record, t.Mapping):
        raise TypeError(
            "Each item must be an UpsertItem or a dict with 'alternate_key' and 'record' keys"
        )
    if not key or not all(isinstance(k, str) and k for k in key):
        raise ValueError("alternate_key must be a non-empty dict with column names as keys")
    return key, record


def key_segment(key: t.Mapping[str, t.Any]) -> str:
    """The key segment of a record URL for an alternate key, in OData literals:
    ``{"firstname": "Jo'e", "code": 7}`` -> ``firstname='Jo''e',code=7``. Characters a URL
    path cannot carry as they are (space, ``?``, ``#``, ``%``, ``/``, ...) are percent-encoded,
    so the segment is the same in a request line of a ``$batch`` as in a single request."""
    import urllib.parse

    parts = []
    for name, value in key.items():
        if isinstance(value, bool):
            literal = "true" if value else "false"
        elif value is None:
            literal = "null"
        elif isinstance(value, (int, float, uuid.UUID)):
            literal = str(value)
        else:
            text = urllib.parse.quote(str(value).replace("'", "''"), safe="'@:!*")
            literal = f"'{text}'"
        parts.append(f"{name.lower()}={literal}")
    return ",".join(parts)


class _Passthrough:
    """Everything not overridden goes to the wrapped SDK object unchanged (reads)."""

    def __init__(self, inner: t.Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> t.Any:
        return getattr(self._inner, name)


# -- checking, then sending ------------------------------------------------------------------
class GuardedRecords(_Passthrough):
    """``client.records`` (or a batch's / changeset's ``records``), each write checked first."""

    def __init__(self, inner: t.Any, checker: Checker, where: str = "records") -> None:
        super().__init__(inner)
        self._checker = checker
        self._where = where

    def create(self, table: str, data: t.Any) -> t.Any:
        message = "CreateMultiple" if _many(data) else "Create"
        self._checker.require(f"{self._where}.create", message, table)
        return self._inner.create(table, data)

    def update(self, table: str, ids: t.Any, changes: t.Any) -> t.Any:
        message = "UpdateMultiple" if _many(ids) else "Update"
        self._checker.require(f"{self._where}.update", message, table)
        return self._inner.update(table, ids, changes)

    def delete(self, table: str, ids: t.Any, **kwargs: t.Any) -> t.Any:
        message = _delete_message(ids, kwargs.get("use_bulk_delete", True))
        self._checker.require(f"{self._where}.delete", message, table)
        return self._inner.delete(table, ids, **kwargs)

    def upsert(self, table: str, items: t.Any) -> t.Any:
        if isinstance(items, t.Sized) and len(items) > 0:
            self._checker.require(f"{self._where}.upsert", _upsert_message(items), table)
        return self._inner.upsert(table, items)


class GuardedChangeSet(_Passthrough):
    """A batch's ``changeset()``: a context manager whose ``records`` are checked."""

    def __init__(self, inner: t.Any, checker: Checker) -> None:
        super().__init__(inner)
        self.records = GuardedRecords(inner.records, checker, "changeset.records")

    def __enter__(self) -> GuardedChangeSet:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> t.Any:
        return self._inner.__exit__(*exc)


class GuardedBatchRequest(_Passthrough):
    """``client.batch.new()``: records checked as they are added, before ``execute()``."""

    def __init__(self, inner: t.Any, checker: Checker) -> None:
        super().__init__(inner)
        self._checker = checker
        self.records = GuardedRecords(inner.records, checker, "batch.records")

    def changeset(self) -> GuardedChangeSet:
        return GuardedChangeSet(self._inner.changeset(), self._checker)


class GuardedBatch(_Passthrough):
    def __init__(self, inner: t.Any, checker: Checker) -> None:
        super().__init__(inner)
        self._checker = checker

    def new(self) -> t.Any:
        return GuardedBatchRequest(self._inner.new(), self._checker)


# -- checking, then queueing -----------------------------------------------------------------
class _Queue:
    """Builds plan operations for the executor and queues them in the offline journal."""

    def __init__(self, journal: Journal, checker: Checker) -> None:
        self.journal = journal
        self.checker = checker
        self.index = 0

    def op(self, message: str, table: str, **fields: t.Any) -> Operation:
        from validator.plan import Operation

        self.index += 1
        return Operation(index=self.index - 1, message=message, table=table, path="<sdk>", **fields)

    def check(self, operation: str, message: str, table: str) -> None:
        self.checker.require(operation, message, table)

    def queue(self, ops: t.Sequence[Operation]) -> None:
        from validator.executor.enqueue import queue_operations

        queue_operations(self.journal, self.checker.engine, ops)

    def creates(self, where: str, table: str, data: t.Any) -> list[Operation]:
        rows = list(data) if _many(data) else [data]
        self.check(f"{where}.create", "Create", table)
        pk = self._primary_key(table)
        ops = []
        for row in rows:
            row = dict(row)
            given = row.pop(pk, None) if pk else None
            ops.append(self.op("Create", table, id=str(given or uuid.uuid4()), data=row))
        return ops

    def updates(self, where: str, table: str, ids: t.Any, changes: t.Any) -> list[Operation]:
        self.check(f"{where}.update", "Update", table)
        id_list = list(ids) if _many(ids) else [ids]
        change_list = list(changes) if _many(changes) else [changes] * len(id_list)
        if len(change_list) != len(id_list):
            raise ValueError("Length of changes list must match length of ids list")
        return [
            self.op("Update", table, id=str(i), data=dict(c))
            for i, c in zip(id_list, change_list, strict=True)
        ]

    def deletes(self, where: str, table: str, ids: t.Any) -> list[Operation]:
        self.check(f"{where}.delete", "Delete", table)
        return [self.op("Delete", table, id=str(i)) for i in (ids if _many(ids) else [ids])]

    def upserts(self, where: str, table: str, items: t.Any) -> list[Operation]:
        """One Upsert per item, addressed by its alternate key (the journal's ``id`` is the
        key segment of the record's URL, which playback PATCHes)."""
        self.check(f"{where}.upsert", "Upsert", table)
        if self.checker.engine.names.lookup_message("Upsert") is None:
            raise NotQueueableError(
                f"{where}.upsert",
                None,
                "the data has no Upsert message (the published 9.0 table predates it), so the "
                "journal cannot record one: harvest the org (guard(..., org=ORG)) first",
            )
        if not isinstance(items, list) or not items:
            raise TypeError("items must be a non-empty list of UpsertItem or dicts")
        ops = []
        for item in items:
            key, record = _upsert_item(item)
            ops.append(self.op("Upsert", table, id=key_segment(key), data=dict(record)))
        return ops

    def _primary_key(self, table: str) -> str | None:
        found = self.checker.engine.snapshot.table(self.checker.engine.names.table(table))
        return found.primary_id_attribute if found is not None else None


class QueuedRecords(_Passthrough):
    """``client.records`` whose writes go to the offline journal; reads pass through."""

    def __init__(self, inner: t.Any, queue: _Queue, where: str = "records") -> None:
        super().__init__(inner)
        self._queue = queue
        self._where = where

    def create(self, table: str, data: t.Any) -> t.Any:
        ops = self._queue.creates(self._where, table, data)
        self._queue.queue(ops)
        ids = [t.cast(str, op.id) for op in ops]
        return ids if _many(data) else ids[0]

    def update(self, table: str, ids: t.Any, changes: t.Any) -> None:
        self._queue.queue(self._queue.updates(self._where, table, ids, changes))

    def delete(self, table: str, ids: t.Any, **kwargs: t.Any) -> None:
        self._queue.queue(self._queue.deletes(self._where, table, ids))

    def upsert(self, table: str, items: t.Any) -> None:
        self._queue.queue(self._queue.upserts(self._where, table, items))


class _CollectedRecords:
    """A queued batch's (or changeset's) ``records``: operations wait for ``execute()``."""

    def __init__(self, queue: _Queue, ops: list[Operation], where: str) -> None:
        self._queue = queue
        self._ops = ops
        self._where = where

    def create(self, table: str, data: t.Any) -> str | None:
        ops = self._queue.creates(self._where, table, data)
        if self._where == "changeset.records" and not _many(data):
            # The changeset's reference to the new record ("$ref") is a plan label.
            label = f"sdk{uuid.uuid4().hex[:12]}"
            ops = [ops[0]._replace(label=label)]
            self._ops.extend(ops)
            return f"${label}"
        self._ops.extend(ops)
        return None

    def update(self, table: str, ids: t.Any, changes: t.Any) -> None:
        self._ops.extend(self._queue.updates(self._where, table, ids, changes))

    def delete(self, table: str, ids: t.Any, **kwargs: t.Any) -> None:
        self._ops.extend(self._queue.deletes(self._where, table, ids))

    def upsert(self, table: str, items: t.Any) -> None:
        self._ops.extend(self._queue.upserts(self._where, table, items))


class _QueuedChangeSet:
    def __init__(self, queue: _Queue, ops: list[Operation]) -> None:
        self.records = _CollectedRecords(queue, ops, "changeset.records")

    def __enter__(self) -> _QueuedChangeSet:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class QueuedBatchRequest:
    """``client.batch.new()`` whose ``execute()`` queues every write in one transaction and
    answers a ``BatchResult`` with a 202 Accepted per queued operation."""

    def __init__(self, queue: _Queue) -> None:
        self._queue = queue
        self._ops: list[Operation] = []
        self.records = _CollectedRecords(queue, self._ops, "batch.records")

    def changeset(self) -> _QueuedChangeSet:
        return _QueuedChangeSet(self._queue, self._ops)

    def execute(self, *, continue_on_error: bool = False) -> t.Any:
        from PowerPlatform.Dataverse.models.batch import BatchItemResponse, BatchResult

        self._queue.queue(self._ops)
        return BatchResult(
            responses=[BatchItemResponse(status_code=202, entity_id=op.id) for op in self._ops]
        )


class QueuedBatch(_Passthrough):
    def __init__(self, inner: t.Any, queue: _Queue) -> None:
        super().__init__(inner)
        self._queue = queue

    def new(self) -> QueuedBatchRequest:
        return QueuedBatchRequest(self._queue)


# -- the client ------------------------------------------------------------------------------
class GuardedClient(_Passthrough):
    """A ``DataverseClient`` whose writes are checked (and sent, or queued) by the guard.

    ``records``, ``batch`` and ``dataframe`` are guarded; everything else is the client's own.
    ``client`` is the wrapped SDK client; ``checker.engine`` the engine that decides."""

    def __init__(
        self,
        client: t.Any,
        checker: Checker,
        journal: Journal | None = None,
        owns_journal: bool = False,
    ) -> None:
        super().__init__(client)
        self.client = client
        self.checker = checker
        self.journal = journal
        self._owns_journal = owns_journal
        self._dataframe: t.Any = None
        if journal is None:
            self.records: t.Any = GuardedRecords(client.records, checker)
            self.batch: t.Any = GuardedBatch(client.batch, checker)
        else:
            queue = _Queue(journal, checker)
            self.records = QueuedRecords(client.records, queue)
            self.batch = QueuedBatch(client.batch, queue)

    @property
    def dataframe(self) -> t.Any:
        """The SDK's DataFrame operations over the guarded ``records``."""
        if self._dataframe is None:
            from PowerPlatform.Dataverse.operations.dataframe import DataFrameOperations

            self._dataframe = DataFrameOperations(t.cast(t.Any, self))
        return self._dataframe

    def close(self) -> None:
        """Close the journal the guard opened (``queue=True`` or a path) and the client."""
        if self.journal is not None and self._owns_journal:
            self.journal.close()
            self.journal = None
        self._inner.close()

    def __enter__(self) -> GuardedClient:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def guard(
    client: t.Any,
    mode: Mode = "offline",
    *,
    snapshot: str | os.PathLike[str] | None = None,
    org: str | None = None,
    engine: Engine | None = None,
    profile: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    queue: Journal | str | os.PathLike[str] | bool | None = None,
) -> GuardedClient:
    """Wrap a ``DataverseClient`` so every write is checked for ``mode`` before it is sent.

    The data comes from ``engine``, else ``snapshot`` (a file), else ``org`` (its cached
    harvest), else the published default. ``queue``: instead of sending available writes,
    queue them in the offline journal: ``True`` for the org's journal (``msgavail sync --org
    ORG`` plays it back; needs ``org``), a ``Journal``, or a journal directory.
    """
    if engine is None:
        from validator.api import load_engine

        engine = load_engine(snapshot=snapshot, org=org, cache_dir=cache_dir)
    checker = Checker(engine, mode, profile)
    if queue is None or queue is False:
        return GuardedClient(client, checker)
    from validator.executor.journal import Journal, journal_dir, journal_name

    if isinstance(queue, Journal):
        return GuardedClient(client, checker, queue)
    if queue is True:
        if org is None:
            raise ValueError("guard(queue=True) needs org=: the journal is the org's")
        directory: str | os.PathLike[str] = journal_dir(journal_name(org))
    else:
        directory = queue
    return GuardedClient(client, checker, Journal.open(directory), owns_journal=True)
