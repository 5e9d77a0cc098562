"""Playing the journal back to the org: in order, idempotently, never losing an operation.

Every operation is one request whose replay is harmless (docs/reference/offline-sync.md §6):

=============  =============================================  ==================================
operation      request                                        a replay answers
=============  =============================================  ==================================
Create         ``PATCH set(id)`` + ``If-None-Match: *``       412: checked with a GET, then done
Update         ``PATCH set(id)`` + ``If-Match: *`` (or ETag)  204 again (same values)
Upsert         ``PATCH set(key)``, no condition (key: an id   204 again (same values, same
               or an alternate key ``a='x',b=2``)             record)
SetState       ``PATCH set(id)`` statecode/statuscode         204 again
Delete         ``DELETE set(id)``                             404: done
Associate      ``POST set(id)/nav/$ref``                      0x80040237 duplicate key: done
Disassociate   ``DELETE set(id)/nav(relid)/$ref``             404: done
other          bound or unbound action (``POST``)             at least once (not idempotent)
=============  =============================================  ==================================

State changes are committed around each request: in-flight (attempts + 1) before it is sent,
then done / parked / pending in one transaction after the answer. A process killed in between
leaves in-flight entries, which the next sync sends again (uncertain). Operations touching a
record that an earlier parked or unfinished operation touches wait behind it; the rest go on.
Consecutive operations on distinct records share a ``$batch`` (continue-on-error), so no two
operations in one batch depend on each other; dependent ones go in the next batch. (A
changeset would make them atomic, but a replayed create's 412 would roll back its whole
changeset, so successive batches replay more simply.)

Consecutive creates (updates) on a table the org has ``CreateMultiple`` (``UpdateMultiple``)
for go as one bulk request, all or nothing (docs/reference/service-limits.md §4). A
``CreateMultiple`` whose answer was lost (or that a killed sync left in flight) is not replayed
as is: the same ids would fail it as a whole. Its replay first asks which of the uncertain ids
exist (one ``GET`` per chunk of ids, ``$filter`` with ``Microsoft.Dynamics.CRM.In`` on the
primary key, ``$select`` of the key and the columns the creates wrote), counts a record that
holds what our create wrote as applied, parks one that holds something else (a create never
overwrites a record it did not create: the same rule as a single create's 412 and read-back),
and sends the rest as one ``CreateMultiple`` (service-limits.md §6). Every create has an id
before it is sent: the journal gives one to a create whose plan had none.
"""

from __future__ import annotations

import collections
import time
import typing as t

from metadata.errors import (
    AuthenticationError,
    DataUnavailableError,
    ServerError,
    ThrottledError,
    TransportError,
    WebAPIError,
)
from metadata.webapi import TRANSIENT_STATUSES
from validator.executor.journal import Journal, Op
from validator.executor.multipart import SubRequest, SubResponse, decode, encode

if t.TYPE_CHECKING:
    from metadata.model import Snapshot
    from metadata.webapi import WebAPIClient

NS = "Microsoft.Dynamics.CRM."
DUPLICATE_KEY = "0x80040237"
# Error statuses we read ourselves; 401 and 429 stay with the client (auth, Retry-After).
HANDLED = frozenset(range(400, 500)) - {401, 429} | {500}
WRITE_VERBS = frozenset(
    {"create", "update", "upsert", "delete", "setstate", "associate", "disassociate"}
)
MAX_PARALLEL = 52  # Dataverse's concurrent-request limit per user (service-limits.md §1)
# Ids per existence query of a replayed CreateMultiple: 39 URL characters per id (a quoted GUID
# and a comma), so 400 ids keep the GET well inside the Web API's 32 KB URL limit.
QUERY_IDS = 400
ALREADY_APPLIED = "already applied (an earlier answer was lost)"
ROUND_DEPTH = 3  # requests per worker in a parallel round


class Request(t.NamedTuple):
    """One request of a playback round and the operations it carries."""

    kind: t.Literal["single", "batch", "bulk"]
    ops: list[Op]
    reqs: tuple[SubRequest, ...] = ()
    message: str | None = None  # bulk: CreateMultiple / UpdateMultiple
    table: str | None = None  # bulk: the table of every target


class BulkAnswer(t.NamedTuple):
    """What a bulk request came to: the answer to the targets sent (None: nothing was left to
    send, or sending failed: ``error``), and for a replayed CreateMultiple, the server's rows
    of the uncertain creates that exist (by lower-case id)."""

    response: SubResponse | None
    sent: list[Op]
    found: dict[str, dict[str, t.Any]]
    error: WebAPIError | None = None
    queries: int = 0
    unchecked: bool = False  # the existence query was refused: each create replays alone


class SyncOptions(t.NamedTuple):
    batch_size: int = 100
    use_etag: bool = False
    cache_dir: str | None = None
    client: WebAPIClient | None = None  # injected by tests and benchmarks
    max_idle_rounds: int = 6  # rounds in a row with only transient failures before giving up
    retries: int = 5  # per request, for 5xx and transport errors (429 waits Retry-After)
    bulk: bool = True  # consecutive creates / updates on a table as CreateMultiple / UpdateMultiple
    bulk_size: int = 250  # targets per bulk request (measured: bench/executor_bench.py)
    parallel: int | None = None  # most requests at once; None: the server's x-ms-dop-hint


class Outcome(t.NamedTuple):
    kind: t.Literal["done", "park", "retry", "verify"]
    note: str | None = None
    error: dict[str, t.Any] | None = None


class Applied:
    """The operations a sync applied, kept by sequence number: a sync of 100,000 operations
    holds 100,000 numbers here, not the operations (issue 10: peak memory)."""

    def __init__(self) -> None:
        self.seqs: list[int] = []

    def append(self, op: Op) -> None:
        self.seqs.append(op["seq"])

    def __len__(self) -> int:
        return len(self.seqs)

    def __iter__(self) -> t.Iterator[int]:
        return iter(self.seqs)


class SyncReport:
    def __init__(self, org: str) -> None:
        self.org = org
        self.applied = Applied()
        self.parked: list[Op] = []  # parked now (this run or earlier)
        self.waiting: list[tuple[Op, int]] = []  # (op, seq of the operation it waits behind)
        self.pending: list[Op] = []  # not sent: the sync stopped first
        self.aborted: str | None = None
        self.repaired: list[str] = []  # what the journal's checks put right before playback
        self.requests = 0
        self.batches = 0
        self.bulk_requests = 0
        self.throttled = 0  # 429s met, for whole requests and inside batches
        self.waited = 0.0  # seconds spent waiting on Retry-After
        self.peak_parallel = 1
        self.seconds = 0.0

    @property
    def ops_per_second(self) -> float:
        return len(self.applied) / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, t.Any]:
        return {
            "version": 1,
            "org": self.org,
            "applied": len(self.applied),
            "parked": [_brief(op) for op in self.parked],
            "waiting": [{**_brief(op), "behind": seq} for op, seq in self.waiting],
            "not_sent": len(self.pending),
            "requests": self.requests,
            "batches": self.batches,
            "bulk_requests": self.bulk_requests,
            "throttled": self.throttled,
            "waited_seconds": round(self.waited, 3),
            "ops_per_second": round(self.ops_per_second, 1),
            "parallel": self.peak_parallel,
            "seconds": round(self.seconds, 3),
            "aborted": self.aborted,
            **({"repaired": self.repaired} if self.repaired else {}),
        }

    def lines(self) -> list[str]:
        out = [f"warning: {note}" for note in self.repaired] + [
            f"applied {len(self.applied)} operation(s) to {self.org} in {self.requests} "
            f"request(s) ({self.seconds:.1f}s, {self.ops_per_second:,.0f} ops/s"
            + (f", up to {self.peak_parallel} at once" if self.peak_parallel > 1 else "")
            + ")"
        ]
        if self.throttled:
            out.append(
                f"throttled {self.throttled} time(s) (HTTP 429); waited {self.waited:.1f}s "
                "on Retry-After"
            )
        if self.parked:
            out.append(f"parked {len(self.parked)} operation(s) the server refused:")
            for op in self.parked:
                err = op.get("last_error") or {}
                status = err.get("status")
                code = f" {err['code']}" if err.get("code") else ""
                out.append(
                    f"  #{op['seq']} {op['message']} {op.get('table') or ''}"
                    f"({op.get('id') or ''}): HTTP {status}{code}: {err.get('message')}"
                )
        if self.waiting:
            out.append(f"{len(self.waiting)} operation(s) wait behind a parked one:")
            for op, seq in self.waiting[:20]:
                out.append(f"  #{op['seq']} {op['message']} {op.get('table')} waits behind #{seq}")
        if self.parked or self.waiting:
            out.append(
                "fix the cause, then `msgavail queue retry` and sync again "
                "(or `msgavail queue drop SEQ` to give up on one)"
            )
        if self.pending:
            out.append(f"{len(self.pending)} operation(s) still queued; sync again to send them")
        return out


def _brief(op: Op) -> dict[str, t.Any]:
    return {
        "seq": op["seq"],
        "message": op["message"],
        "table": op.get("table"),
        "id": op.get("id"),
        "error": op.get("last_error"),
    }


def keys_of(op: Op) -> set[str]:
    """The records an operation touches: later ones on any of them wait behind it."""
    keys = {str(op["id"]).lower()} if op.get("id") else set()
    if op.get("related"):
        keys.add(str(op["related"]["id"]).lower())  # type: ignore[index]
    for target in (op.get("binds") or {}).values():
        keys.add(str(target["id"]).lower())
    if not keys:  # an unbound action: ordered with everything unbound
        keys.add(f"unbound:{op['message']}")
    return keys


class Resolver:
    """Tables to entity sets and primary keys, from the org's harvested definitions."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def entity_set(self, table: str) -> str:
        tb = self.snapshot.table(table)
        if tb is None or not tb.entity_set_name:
            raise LookupError(
                f"table {table} is not in the harvested definitions of the org "
                "(harvest again, or drop the operation)"
            )
        return tb.entity_set_name

    def primary_key(self, table: str) -> str:
        tb = self.snapshot.table(table)
        return (tb.primary_id_attribute if tb else None) or f"{table}id"

    def supports(self, message: str, table: str) -> bool:
        """Does the org's harvest have ``message`` (e.g. CreateMultiple) for ``table``?"""
        return self.snapshot.filter(message, table) is not None


def build_request(op: Op, resolver: Resolver, use_etag: bool) -> SubRequest:
    verb = op["message"].lower()
    table, record_id = op.get("table"), op.get("id")
    path = ""
    if table:
        path = resolver.entity_set(table)
        if record_id:
            path += f"({record_id})"
    if verb in ("create", "update", "setstate", "upsert"):
        body = dict(op.get("data") or {})
        for nav, target in (op.get("binds") or {}).items():
            target_set = target.get("entity_set") or resolver.entity_set(target["table"])
            body[f"{nav}@odata.bind"] = f"/{target_set}({target['id']})"
        if verb == "upsert":  # the documented upsert: creates or updates, a replay is harmless
            headers: tuple[tuple[str, str], ...] = ()
        elif verb == "create":
            headers = (("If-None-Match", "*"),)
        else:
            etag = op.get("etag") if use_etag else None
            headers = (("If-Match", etag or "*"),)
        return SubRequest("PATCH", path, headers, body)
    if verb == "delete":
        return SubRequest("DELETE", path)
    if verb in ("associate", "disassociate"):
        rel = op.get("related") or {}
        rel_set = resolver.entity_set(rel["table"])
        nav = op.get("relationship") or ""
        if verb == "associate":
            return SubRequest(
                "POST", f"{path}/{nav}/$ref", (), {"@odata.id": f"{rel_set}({rel['id']})"}
            )
        return SubRequest("DELETE", f"{path}/{nav}({rel['id']})/$ref")
    body = dict(op.get("parameters") or {})
    if table:
        return SubRequest("POST", f"{path}/{NS}{op['message']}", (), body)
    return SubRequest("POST", op["message"], (), body)


def _error_of(resp: SubResponse) -> dict[str, t.Any]:
    from metadata.webapi import parse_error_body

    code, message = parse_error_body(resp.body)
    return {"status": resp.status, "code": code, "message": message or f"HTTP {resp.status}",
            "at": _now()}  # fmt: skip


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def classify(op: Op, resp: SubResponse, later_delete: int | None) -> Outcome:
    status = resp.status
    verb = op["message"].lower()
    if 200 <= status < 300:
        return Outcome("done")
    err = _error_of(resp)
    if status in (401,):
        return Outcome("retry", error=err)  # the caller aborts the sync
    if verb == "create" and status == 412:
        return Outcome("verify", error=err)
    if verb in ("delete", "disassociate") and status == 404:
        return Outcome("done", "already gone")
    if verb == "associate" and err.get("code") == DUPLICATE_KEY:
        return Outcome("done", "already associated")
    if verb in ("update", "setstate") and status == 404 and later_delete is not None:
        return Outcome("done", f"record deleted; #{later_delete} deletes it anyway")
    if status in TRANSIENT_STATUSES and not (status == 500 and err.get("code")):
        return Outcome("retry", error=err)
    return Outcome("park", error=err)


def _same(server: t.Any, ours: t.Any) -> bool:
    if isinstance(ours, str) and isinstance(server, str):
        return server.casefold() == ours.casefold()
    return bool(server == ours)


def matches_server(op: Op, row: t.Mapping[str, t.Any]) -> bool:
    """Does the server's row hold what our create wrote (our earlier attempt landed)?"""
    for key, value in (op.get("data") or {}).items():
        if not _same(row.get(key), value):
            return False
    for nav, target in (op.get("binds") or {}).items():
        if not _same(row.get(f"_{nav}_value"), target["id"]):
            return False
    return True


class Player:
    """One sync run over one journal."""

    def __init__(
        self,
        journal: Journal,
        client: WebAPIClient,
        resolver: Resolver,
        options: SyncOptions,
        progress: t.Callable[[int, int], None] | None = None,
    ) -> None:
        self.journal = journal
        self.client = client
        self.resolver = resolver
        self.options = options
        self.progress = progress
        self.report = SyncReport(client.org)
        self._api_path = "/" + client.base_url.split("://", 1)[1].split("/", 1)[1]
        self.dop = max(1, min(MAX_PARALLEL, options.parallel or 1))  # grows to the hint
        self._no_bulk: set[int] = set()  # seqs that go alone after a failed bulk request
        self._lost: set[int] = set()  # seqs whose bulk request went unanswered once
        self._part_throttles = 0

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> SyncReport:
        started = time.monotonic()
        throttled, waited = self.client.throttled, self.client.waited
        try:
            return self._run(started)
        finally:
            self.report.throttled += self.client.throttled - throttled
            self.report.waited += self.client.waited - waited
            self.report.seconds = time.monotonic() - started

    def _probe(self) -> None:
        """The server's x-ms-dop-hint before the first round (a GET WhoAmI, as the docs
        suggest), so playback starts at the recommended parallelism."""
        if self.options.parallel or self.client.dop_hint is not None:
            return
        try:
            self.client.request("GET", "WhoAmI", allow_statuses=HANDLED)
        except WebAPIError:
            return  # no hint: playback ramps up from one request at a time
        self.dop = self._target_dop()

    def _run(self, started: float) -> SyncReport:
        # The journal is read a chunk at a time, twice: a first pass learns what must be known
        # before the first request (parked operations, later deletes, how many to send); the
        # second feeds the queue as playback reaches it. A sync holds a window of operations,
        # not the journal (issue 10: peak memory at most 2x the journal on disk).
        parked: list[Op] = []
        deletes: dict[str, list[int]] = {}
        total = 0
        for chunk in self.journal.iter_ops({"pending", "in-flight", "parked"}):
            # In flight when an earlier sync died: the server may have applied them.
            stale = [op for op in chunk if op["state"] == "in-flight"]
            if stale:
                self.journal.set_state(stale, "pending", uncertain=True)
            for op in chunk:
                if op["state"] == "parked":
                    parked.append(op)
                    continue
                total += 1
                if op["message"].lower() == "delete" and op.get("id"):
                    deletes.setdefault(str(op["id"]).lower(), []).append(op["seq"])
        self._deletes = deletes
        blockers: dict[str, int] = {}  # record key -> seq of the parked op it waits behind
        for op in parked:
            for key in keys_of(op):
                blockers.setdefault(key, op["seq"])
        if total:
            self._probe()
        self._done_count = 0
        idle = 0
        stream = self.journal.iter_ops({"pending", "in-flight"})
        queue: collections.deque[Op] = collections.deque()
        group: list[Op] = []
        try:
            while True:
                # How far ahead to look for independent operations.
                window = max(20 * self.options.batch_size, 2 * self._capacity())
                while len(queue) < window:
                    more = next(stream, None)
                    if more is None:
                        break
                    queue.extend(more)
                if not queue:
                    break
                head = [queue.popleft() for _ in range(min(window, len(queue)))]
                group, waiting, rest = self._next_group(head, blockers)
                for op, seq in waiting:
                    self.report.waiting.append((op, seq))
                if not group:
                    continue  # everything in the window waits behind parked operations
                progressed = self._send(group)
                retry = [op for op in group if op["state"] == "pending"]
                newly_parked = [op for op in group if op["state"] == "parked"]
                parked.extend(newly_parked)
                for op in newly_parked:
                    for key in keys_of(op):
                        blockers.setdefault(key, op["seq"])
                back = sorted(retry + rest, key=lambda o: o["seq"]) if retry else rest
                queue.extendleft(reversed(back))
                group = []
                if self.progress:
                    self.progress(self._done_count, total)
                if progressed:
                    idle = 0
                else:
                    idle += 1
                    if idle >= self.options.max_idle_rounds:
                        self.report.aborted = (
                            f"{self.client.org} keeps failing (last: "
                            f"{(retry[0].get('last_error') or {}).get('message')}); "
                            f"{len(queue)} operation(s) stay queued"
                        )
                        break
                    self.client.sleep(self.client.backoff(idle - 1))
        except (AuthenticationError, TransportError, ThrottledError, ServerError) as exc:
            self.report.aborted = f"{exc}; nothing was lost: the operations stay queued"
        # Every change this sync made is written; what it did not send is still queued.
        parked.extend(op for op in group if op["state"] == "parked")  # a round cut short
        unsent = [op for op in group if op["state"] in ("pending", "in-flight")] + list(queue)
        for more in stream:
            unsent.extend(more)
        self.report.parked = sorted(parked, key=lambda o: o["seq"])
        self.report.pending = sorted(unsent, key=lambda o: o["seq"])
        return self.report

    def _next_group(
        self, todo: list[Op], blockers: dict[str, int]
    ) -> tuple[list[Op], list[tuple[Op, int]], list[Op]]:
        """Operations on distinct records (up to the batch size) for the next request; the
        ones that must wait behind a parked operation; and the rest, for later rounds.

        An operation touching a record already in the group is deferred, and so is every later
        one touching a deferred record: per record, journal order is kept exactly.
        """
        group: list[Op] = []
        waiting: list[tuple[Op, int]] = []
        rest: list[Op] = []
        in_group: set[str] = set()
        deferred: set[str] = set()
        limit = self._capacity()
        for i, op in enumerate(todo):
            if len(group) >= limit:
                rest.extend(todo[i:])
                break
            keys = keys_of(op)
            blocked = next((blockers[k] for k in keys if k in blockers), None)
            if blocked is not None:
                waiting.append((op, blocked))
                for k in keys:  # later operations on its records wait too
                    blockers.setdefault(k, blocked)
                continue
            alone = not self._batchable(op)
            if any(k in in_group or k in deferred for k in keys) or (alone and group):
                rest.append(op)
                deferred |= keys
                continue
            group.append(op)
            in_group |= keys
            if alone:
                rest.extend(todo[i + 1 :])
                break
        return group, waiting, rest

    @staticmethod
    def _batchable(op: Op) -> bool:
        # Actions are not idempotent: alone, and never retried blindly by the client.
        return op["message"].lower() in WRITE_VERBS

    # -- sending -----------------------------------------------------------------------------
    def _capacity(self) -> int:
        """Operations one round may carry: a few full requests for every worker, so that
        the round's last answer (every round waits for it) is a small part of the round."""
        per = self.options.batch_size
        if self.options.bulk:
            per = max(per, self.options.bulk_size)
        return per * self.dop * (ROUND_DEPTH if self.dop > 1 else 1)

    def _target_dop(self) -> int:
        wanted = self.options.parallel or self.client.dop_hint or 1
        return max(1, min(MAX_PARALLEL, wanted))

    def _send(self, group: list[Op]) -> bool:
        """One round: every operation in ``group`` touches records no other one in it touches,
        so its requests (bulk, $batch, single) go out at once, up to ``self.dop``."""
        prepared: list[tuple[Op, SubRequest]] = []
        unbuildable: list[tuple[Op, str]] = []
        for op in group:
            try:
                prepared.append((op, build_request(op, self.resolver, self.options.use_etag)))
            except (LookupError, KeyError, TypeError) as exc:
                unbuildable.append((op, str(exc).strip("'\"")))
        if unbuildable:
            for op, why in unbuildable:
                op["state"] = "parked"
                op["last_error"] = {"status": None, "code": None, "message": why}
            self.journal.put_many(op for op, _ in unbuildable)
        if not prepared:
            return True
        for op, _ in prepared:  # in flight, durably, before anything is sent
            op["state"] = "in-flight"
            op["attempts"] = int(op.get("attempts") or 0) + 1
        self.journal.put_many(op for op, _ in prepared)
        requests = self._plan(prepared)
        throttled_before = self.client.throttled
        results = self._dispatch(requests)
        progressed = False
        abort: WebAPIError | None = None
        throttled_out: ThrottledError | None = None
        ops: list[Op] = []
        responses: list[SubResponse] = []
        for request, outcome in zip(requests, results, strict=True):
            if isinstance(outcome, BulkAnswer):
                settled, error = self._settle_bulk(request, outcome)
                progressed |= settled
                if isinstance(error, ThrottledError):
                    throttled_out = throttled_out or error
                elif error is not None:
                    abort = abort or error
                continue
            if isinstance(outcome, ThrottledError):
                # Refused every time (a 429 is never applied): queued again. It stops the sync
                # only if no other request of the round got through.
                for op in request.ops:
                    op["state"] = "pending"
                throttled_out = throttled_out or outcome
                continue
            if isinstance(outcome, WebAPIError):
                for op in request.ops:  # the server may have applied them
                    op["state"] = "pending"
                    op["uncertain"] = True
                abort = abort or outcome
                continue
            ops.extend(request.ops)
            responses.extend(outcome)
        settled, auth_failure = self._settle(ops, responses)
        progressed |= settled
        self.journal.put_many(op for op, _ in prepared)  # the whole round in one transaction
        throttled = self.client.throttled - throttled_before + self._part_throttles
        # One request fewer after a 429, one more after a round without: at the hint, the
        # 429s are the execution-time budget's edge (Retry-After already paces every worker),
        # and halving left a quarter of the budget unused (BENCHMARKS.md, issue 10).
        self.dop = max(1, self.dop - 1) if throttled else min(self._target_dop(), self.dop + 1)
        self.report.peak_parallel = max(self.report.peak_parallel, min(self.dop, len(requests)))
        if auth_failure is not None:
            raise AuthenticationError(
                f"authentication failed: {self.client.org} refused the token (HTTP 401)",
                status=401,
            )
        if abort is not None:
            raise abort
        if throttled_out is not None and not progressed:
            raise throttled_out
        return progressed

    def _plan(self, prepared: list[tuple[Op, SubRequest]]) -> list[Request]:
        """The round's requests: a bulk message per table for consecutive creates (updates)
        where the org has it, ``$batch`` requests for the rest, an action alone."""
        bulk: dict[tuple[str, str], list[Op]] = {}
        rest: list[tuple[Op, SubRequest]] = []
        for op, req in prepared:
            message = self._bulk_message(op)
            if message is None:
                rest.append((op, req))
            else:
                bulk.setdefault((message, str(op["table"])), []).append(op)
        out: list[Request] = []
        size = self.options.bulk_size
        for (message, table), chosen in bulk.items():
            if len(chosen) < 2:  # one record: a bulk message buys nothing
                rest.extend((op, r) for op, r in prepared if op is chosen[0])
                continue
            for i in range(0, len(chosen), size):
                out.append(Request("bulk", chosen[i : i + size], (), message, table))
        rest.sort(key=lambda item: item[0]["seq"])
        size = self.options.batch_size
        for i in range(0, len(rest), size):
            chunk = rest[i : i + size]
            kind: t.Literal["single", "batch"] = "single" if len(chunk) == 1 else "batch"
            out.append(Request(kind, [op for op, _ in chunk], tuple(r for _, r in chunk)))
        return out

    def _bulk_message(self, op: Op) -> str | None:
        if not self.options.bulk or op["seq"] in self._no_bulk or not op.get("table"):
            return None
        verb = op["message"].lower()
        # A replayed create goes in bulk too (its id is looked up first); one without an id
        # (never made by the journal) could not be looked up: alone, with 412 + read-back.
        if verb == "create" and (op.get("id") or not op.get("uncertain")):
            message = "CreateMultiple"
        elif verb == "update" and not (self.options.use_etag and op.get("etag")):
            message = "UpdateMultiple"
        else:
            return None
        return message if self.resolver.supports(message, str(op["table"])) else None

    def _dispatch(
        self, requests: list[Request]
    ) -> list[list[SubResponse] | BulkAnswer | WebAPIError]:
        # Bulk requests count when settled: a replay may need a query and no bulk request.
        self.report.requests += sum(1 for r in requests if r.kind != "bulk")
        self.report.batches += sum(1 for r in requests if r.kind == "batch")
        if len(requests) == 1 or self.dop == 1:
            return [self._call(r) for r in requests]
        from concurrent.futures import ThreadPoolExecutor

        # At most dop requests in flight; the next starts as soon as one is answered.
        with ThreadPoolExecutor(max_workers=min(self.dop, len(requests))) as pool:
            return list(pool.map(self._call, requests))

    def _call(self, request: Request) -> list[SubResponse] | BulkAnswer | WebAPIError:
        if request.kind == "bulk":
            return self._bulk(request)
        try:
            if request.kind == "single":
                return [self._single(request.ops[0], request.reqs[0])]
            return self._batch(list(request.reqs))
        except WebAPIError as exc:
            return exc

    def _bulk(self, request: Request) -> BulkAnswer:
        """Send a bulk request (in a worker thread); a replayed CreateMultiple first finds
        which of its uncertain creates exist and sends only the others."""
        table = str(request.table)
        found: dict[str, dict[str, t.Any]] = {}
        queries = 0
        todo = request.ops
        uncertain = [op for op in todo if op.get("uncertain")]
        if request.message == "CreateMultiple" and uncertain:
            try:
                for i in range(0, len(uncertain), QUERY_IDS):
                    queries += 1
                    found.update(self._existing(table, uncertain[i : i + QUERY_IDS]))
            except WebAPIError as exc:
                if exc.status is not None and 400 <= exc.status < 500 and exc.status not in (
                    401, 429,
                ):  # fmt: skip
                    return BulkAnswer(None, [], {}, queries=queries, unchecked=True)
                return BulkAnswer(None, [], {}, error=exc, queries=queries)
            todo = [op for op in todo if str(op["id"]).lower() not in found]
        if not todo:
            return BulkAnswer(None, [], found, queries=queries)
        try:
            resp = self._post_bulk(request, table, todo)
        except WebAPIError as exc:
            return BulkAnswer(None, todo, found, error=exc, queries=queries)
        return BulkAnswer(resp, todo, found, queries=queries)

    def _existing(self, table: str, ops: list[Op]) -> dict[str, dict[str, t.Any]]:
        """The server's rows (key and the columns our creates wrote) for the ids of ``ops``
        that exist, by lower-case id; paged as the server pages."""
        pk = self.resolver.primary_key(table)
        columns = {pk}
        for op in ops:
            columns.update(op.get("data") or {})
            columns.update(f"_{nav}_value" for nav in op.get("binds") or {})
        ids = ",".join(f"'{op['id']}'" for op in ops)
        params = [
            ("$select", ",".join(sorted(columns))),
            ("$filter", f"{NS}In(PropertyName='{pk}',PropertyValues=[{ids}])"),
        ]
        rows = self.client.get_all(self.resolver.entity_set(table), params)
        return {str(row.get(pk)).lower(): row for row in rows if row.get(pk)}

    def _post_bulk(self, request: Request, table: str, ops: list[Op]) -> SubResponse:
        pk = self.resolver.primary_key(table)
        targets = []
        for op in ops:
            target: dict[str, t.Any] = {"@odata.type": f"{NS}{table}", pk: op["id"]}
            target.update(op.get("data") or {})
            for nav, bind in (op.get("binds") or {}).items():
                bind_set = bind.get("entity_set") or self.resolver.entity_set(bind["table"])
                target[f"{nav}@odata.bind"] = f"/{bind_set}({bind['id']})"
            targets.append(target)
        resp = self.client.request(
            "POST",
            f"{self.resolver.entity_set(table)}/{NS}{request.message}",
            json={"Targets": targets},
            # A lost answer to CreateMultiple is not retried blindly: its replay looks first.
            idempotent=request.message != "CreateMultiple",
            allow_statuses=HANDLED,
        )
        return SubResponse(
            resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.content
        )

    def _settle_bulk(self, request: Request, answer: BulkAnswer) -> tuple[bool, WebAPIError | None]:
        """Each operation's state from a bulk answer: whether any finished, and an error
        that must stop the sync (authentication, throttling beyond the retries)."""
        self.report.requests += answer.queries + (1 if answer.sent else 0)
        self.report.bulk_requests += 1 if answer.sent else 0
        progressed = False
        if answer.unchecked:  # the server would not say which exist: each replays alone
            for op in request.ops:
                op["state"] = "pending"
                self._no_bulk.add(op["seq"])
            return True, None
        for op in request.ops:
            row = answer.found.get(str(op.get("id")).lower()) if op.get("id") else None
            if row is None:
                continue
            progressed = True
            if matches_server(op, row):
                self._finish(op, ALREADY_APPLIED)
            else:
                op["state"] = "parked"
                op["last_error"] = _not_ours(op, None)
        if answer.error is not None:
            # A bulk request unanswered is looked up next round; a failed query (the client
            # retried it already) stops the sync as any other request's failure does.
            lost = bool(answer.sent) and isinstance(answer.error, (TransportError, ServerError))
            # A 429 beyond the retries was never applied; anything else may have been.
            refused = isinstance(answer.error, ThrottledError)
            sent = set() if refused else {op["seq"] for op in answer.sent}
            for op in request.ops:
                if op["state"] != "in-flight":
                    continue
                op["state"] = "pending"
                if op["seq"] in sent:  # the server may have applied them: looked up next time
                    op["uncertain"] = True
                    if lost and op["seq"] in self._lost:  # lost twice: each goes alone
                        self._no_bulk.add(op["seq"])
                    elif lost:
                        self._lost.add(op["seq"])
            return progressed, None if lost else answer.error
        resp = answer.response
        if resp is None:
            return progressed, None
        if 200 <= resp.status < 300:
            for op in answer.sent:
                self._finish(op, None)
            return True, None
        # All or nothing: nothing was applied (or, after a 5xx, maybe everything). Each
        # operation goes again on its own, where its answer is read alone.
        err = _error_of(resp)
        for op in answer.sent:
            op["state"] = "pending"
            op["uncertain"] = bool(op.get("uncertain")) or resp.status >= 500
            op["last_error"] = err
            self._no_bulk.add(op["seq"])
        return progressed or resp.status < 500, None

    def _finish(self, op: Op, note: str | None) -> None:
        op["state"] = "done"
        op["note"] = note
        op["uncertain"] = False
        self.report.applied.append(op)
        self._done_count += 1

    def _single(self, op: Op, req: SubRequest) -> SubResponse:
        resp = self.client.request(
            req.method,
            req.path,
            json=req.body,
            headers=dict(req.headers),
            idempotent=self._batchable(op),
            allow_statuses=HANDLED,
        )
        return SubResponse(
            resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.content
        )

    def _batch(self, reqs: list[SubRequest]) -> list[SubResponse]:
        ctype, body = encode(reqs, self._api_path)
        resp = self.client.request(
            "POST",
            "$batch",
            content=body,
            headers={"Content-Type": ctype, "Prefer": "odata.continue-on-error"},
            idempotent=True,  # every part is a replay-safe write
            allow_statuses=HANDLED,
        )
        ctype_out = resp.headers.get("content-type", "")
        if not ctype_out.lower().startswith("multipart/"):
            # The whole batch failed (e.g. 400 malformed): every part shares the answer.
            one = SubResponse(resp.status_code, {}, resp.content)
            return [one] * len(reqs)
        parts = decode(ctype_out, resp.content)
        if len(parts) < len(reqs):  # processing stopped early: the rest was not attempted
            parts += [SubResponse(0, {}, b"not processed")] * (len(reqs) - len(parts))
        return parts[: len(reqs)]

    def _settle(
        self, ops: list[Op], responses: list[SubResponse]
    ) -> tuple[bool, dict[str, t.Any] | None]:
        """Each operation's state from its answer (the caller writes them): whether any
        finished, and the error of a 401 if one came back."""
        progressed = False
        auth_failure: dict[str, t.Any] | None = None
        throttled = [r for r in responses if r.status == 429]
        self._part_throttles = len(throttled)
        if throttled:  # the limits are per user: every worker waits
            self.report.throttled += len(throttled)
            self.client.hold(max(self.client.retry_after(r.headers) for r in throttled))
        for op, resp in zip(ops, responses, strict=True):
            later = self._later_delete(op)
            outcome = classify(op, resp, later)
            if outcome.kind == "verify":
                outcome = self._verify(op, outcome)
            if resp.status == 401:
                auth_failure = outcome.error
            if outcome.kind == "done":
                self._finish(op, outcome.note)
                progressed = True
            elif outcome.kind == "park":
                op["state"] = "parked"
                op["last_error"] = outcome.error
                progressed = True
            else:
                op["state"] = "pending"
                op["uncertain"] = True
                op["last_error"] = outcome.error
        return progressed, auth_failure

    def _later_delete(self, op: Op) -> int | None:
        if not op.get("id"):
            return None
        later = [s for s in self._deletes.get(str(op["id"]).lower(), []) if s > op["seq"]]
        return later[0] if later else None

    def _verify(self, op: Op, outcome: Outcome) -> Outcome:
        """A create met an existing record: ours from an earlier attempt, or someone else's?"""
        path = f"{self.resolver.entity_set(str(op['table']))}({op['id']})"
        self.report.requests += 1
        resp = self.client.request("GET", path, allow_statuses=HANDLED)
        if resp.status_code == 200 and matches_server(op, resp.json()):
            return Outcome("done", ALREADY_APPLIED)
        return Outcome("park", error=_not_ours(op, outcome.error))


def _not_ours(op: Op, error: dict[str, t.Any] | None) -> dict[str, t.Any]:
    """The parked error of a create whose id someone else's record holds."""
    err = dict(error or {"status": 412, "code": DUPLICATE_KEY, "at": _now()})
    why = f" ({err['message']})" if err.get("message") else ""
    err["message"] = f"a different {op['table']} record with id {op['id']} already exists{why}"
    return err


def sync_journal(
    journal: Journal,
    org: str,
    options: SyncOptions,
    *,
    progress: t.Callable[[int, int], None] | None = None,
) -> SyncReport:
    """Play ``journal`` back to ``org``. One sync per journal at a time (an OS file lock)."""
    from metadata.sources import load_snapshot

    try:
        snapshot = load_snapshot(org=org, cache_dir=options.cache_dir)
    except DataUnavailableError as exc:
        raise DataUnavailableError(
            f"{exc} (sync needs the org's entity sets and primary keys)"
        ) from None
    repaired = journal.verify(entries=False)  # page damage, the counter; entries: Player.run
    journal.acquire_playback_lock()
    try:
        client = options.client
        owned = client is None
        if client is None:
            from metadata.auth import default_provider
            from metadata.webapi import RetryPolicy, WebAPIClient

            policy = RetryPolicy(max_retries=options.retries)
            client = WebAPIClient(org, default_provider(org), retry=policy)
        try:
            report = Player(journal, client, Resolver(snapshot), options, progress).run()
            report.repaired = repaired
            return report
        finally:
            if owned:
                client.close()
    finally:
        journal.release_playback_lock()
