"""The durable offline journal and the local store, in one diskcache directory per org.

One ``diskcache.Cache`` holds three kinds of keys, so that a local write and its journal entry
commit in one SQLite transaction (the outbox rule)::

    meta:seq                 the last sequence number handed out (monotonic, never reused)
    op:<seq, 16 digits>      one queued operation (JSON text), state pending/in-flight/done/...
    rec:<table>:<id>         the local copy of a record as the user's offline writes left it

Settings follow the measurements in docs/reference/offline-sync.md §4: no eviction (a plain
Cache culls silently), ``synchronous=FULL`` (WAL+NORMAL may roll back a commit on power loss),
every value inline in SQLite (side files are written without fsync, and a missing one makes
reads spin), and JSON text instead of pickles (a renamed class would poison the journal).
Operations are never popped: playback reads, sends, then rewrites the state (peek/ack), and a
rewritten key keeps its position, so the journal stays in sequence order.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import sys
import typing as t

from metadata.errors import JournalError, JournalLockedError

if t.TYPE_CHECKING:
    import diskcache

State = t.Literal["pending", "in-flight", "done", "parked", "dropped"]
STATES: tuple[State, ...] = ("pending", "in-flight", "done", "parked", "dropped")
SCHEMA_VERSION = 1

_SEQ_KEY = "meta:seq"
_ORG_KEY = "meta:org"
_OP_PREFIX = "op:"
_REC_PREFIX = "rec:"
_SETTINGS: dict[str, t.Any] = {
    "eviction_policy": "none",
    "sqlite_synchronous": 2,  # FULL
    "disk_min_file_size": 2**30,  # keep every value inline in SQLite
    "cull_limit": 0,
}


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def op_key(seq: int) -> str:
    return f"{_OP_PREFIX}{seq:016d}"


def record_key(table: str, record_id: str) -> str:
    return f"{_REC_PREFIX}{table}:{record_id.lower()}"


def _json_disk() -> type[diskcache.Disk]:
    import diskcache

    class JSONTextDisk(diskcache.Disk):  # type: ignore[misc]
        """Values as JSON text (stored inline as TEXT, readable with sqlite3), never pickles.

        Integers stay SQLite integers: ``Cache.incr`` adds to the stored column directly.
        """

        def store(self, value: t.Any, read: bool, key: t.Any = diskcache.core.UNKNOWN) -> t.Any:
            if read:
                raise TypeError("the journal stores JSON values, not files")
            if type(value) is not int:
                value = json.dumps(value, separators=(",", ":"))
            return super().store(value, read, key=key)

        def fetch(self, mode: int, filename: str | None, value: t.Any, read: bool) -> t.Any:
            found = super().fetch(mode, filename, value, read)
            return found if type(found) is int else json.loads(found)

    return JSONTextDisk


class Op(t.TypedDict, total=False):
    """One queued operation as stored (JSON). ``seq`` orders playback; ``op_id`` names it."""

    seq: int
    op_id: str
    schema_version: int
    created_at: str
    state: State
    message: str
    table: str | None
    secondary_table: str | None
    id: str | None
    data: dict[str, t.Any] | None
    parameters: dict[str, t.Any] | None
    binds: dict[str, dict[str, str]]  # nav property -> {"table", "id"} (resolved labels)
    relationship: str | None
    related: dict[str, str] | None  # {"table", "id"} for Associate / Disassociate
    label: str | None
    etag: str | None  # the record's @odata.etag when the user edited it (--etag mode)
    origin: dict[str, t.Any]  # {"path", "operation", "line"} where the user wrote it
    attempts: int
    uncertain: bool  # a request may have reached the server without us hearing the answer
    last_error: dict[str, t.Any] | None  # {"status", "code", "message", "at"}
    note: str | None  # how it completed when not plainly (e.g. "already applied")
    updated_at: str


class LocalRecord(t.TypedDict, total=False):
    table: str
    id: str
    data: dict[str, t.Any]
    deleted: bool
    partial: bool  # created by an offline Update: only the columns the user changed are known
    links: dict[str, list[dict[str, str]]]  # relationship -> related {"table", "id"}
    seq: int  # the last queued operation that changed it


class Journal:
    """The journal and local store of one org. Open with :meth:`open`; close when done."""

    def __init__(self, directory: str, cache: diskcache.Cache) -> None:
        self.directory = directory
        self._cache = cache
        self._lock_fd: int | None = None

    # -- life cycle --------------------------------------------------------------------------
    @classmethod
    def open(cls, directory: str | os.PathLike[str], *, timeout: float = 60.0) -> Journal:
        import diskcache

        path = os.fspath(directory)
        try:
            os.makedirs(path, exist_ok=True)
            cache = diskcache.Cache(path, disk=_json_disk(), timeout=timeout, **_SETTINGS)
        except (OSError, diskcache.Timeout) as exc:
            raise JournalError(f"cannot open the journal in {path}: {exc}") from exc
        except Exception as exc:  # sqlite3.DatabaseError: a file that is not a journal
            raise JournalError(f"cannot open the journal in {path}: {exc}") from exc
        return cls(path, cache)

    def close(self) -> None:
        self.release_playback_lock()
        self._cache.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> t.Iterator[None]:
        """All writes inside commit together or not at all (BEGIN IMMEDIATE .. COMMIT)."""
        import diskcache

        try:
            with self._cache.transact(retry=True):
                yield
        except diskcache.Timeout as exc:  # pragma: no cover - retry=True waits instead
            raise JournalError(f"the journal in {self.directory} is busy") from exc

    def check(self) -> list[str]:
        """SQLite integrity check and diskcache consistency; the problems found, if any."""
        import warnings

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found = self._cache.check(fix=False, retry=True)
        return [str(w.message) for w in [*found, *caught]]

    # -- single playback process -------------------------------------------------------------
    def acquire_playback_lock(self) -> None:
        """An OS file lock: held by one sync at a time, released by the OS if it dies."""
        if self._lock_fd is not None:
            return
        # Beside the cache directory, not in it (diskcache's check() flags unknown files).
        fd = os.open(self.directory.rstrip(os.sep) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock_file(fd)
        except OSError:
            os.close(fd)
            raise JournalLockedError(
                f"another `msgavail sync` is playing back the journal in {self.directory}"
            ) from None
        self._lock_fd = fd

    def release_playback_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the lock
            self._lock_fd = None

    # -- writing -----------------------------------------------------------------------------
    def append(self, op: Op) -> Op:
        """Give ``op`` the next sequence number and store it as pending (inside a transaction
        the caller holds, together with its local write)."""
        seq = int(self._cache.incr(_SEQ_KEY, 1, default=0, retry=True))
        now = _now()
        stored: Op = {
            "seq": seq,
            "schema_version": SCHEMA_VERSION,
            "created_at": now,
            "updated_at": now,
            "state": "pending",
            "attempts": 0,
            "uncertain": False,
            "last_error": None,
            "note": None,
            **op,
        }
        stored["seq"] = seq
        self._cache.set(op_key(seq), stored, retry=True)
        return stored

    def put(self, op: Op) -> None:
        """Rewrite a stored operation (its position in the journal does not change)."""
        op["updated_at"] = _now()
        self._cache.set(op_key(op["seq"]), op, retry=True)

    def set_state(self, ops: t.Iterable[Op], state: State, **changes: t.Any) -> None:
        with self.transaction():
            for op in ops:
                op["state"] = state
                op.update(changes)  # type: ignore[typeddict-item]
                self.put(op)

    def remember_org(self, org: str | None) -> None:
        """Record which org this journal plays back to (shown by ``queue``; checked by sync)."""
        if org and self._cache.get(_ORG_KEY, default=None, retry=True) is None:
            self._cache.set(_ORG_KEY, normalize_org(org), retry=True)

    def forget(self, ops: t.Iterable[Op]) -> int:
        """Remove finished entries (done or dropped) for good, in one transaction. Entries
        still to be played back are refused: they can only be dropped, never forgotten."""
        chosen = list(ops)
        for op in chosen:
            if op["state"] not in ("done", "dropped"):
                raise JournalError(f"operation #{op['seq']} is {op['state']}; it cannot be pruned")
        with self.transaction():
            for op in chosen:
                self._cache.delete(op_key(op["seq"]), retry=True)
        return len(chosen)

    # -- reading -----------------------------------------------------------------------------
    @property
    def org(self) -> str | None:
        value = self._cache.get(_ORG_KEY, default=None, retry=True)
        return value if isinstance(value, str) else None

    def last_seq(self) -> int:
        value = self._cache.get(_SEQ_KEY, default=0, retry=True)
        return int(value)

    def get(self, seq: int) -> Op | None:
        value = self._cache.get(op_key(seq), default=None, retry=True)
        return t.cast("Op | None", value)

    def ops(self, states: t.Container[str] | None = None) -> list[Op]:
        """Operations in sequence order, optionally only those in ``states``."""
        found: list[Op] = []
        for key in self._keys(_OP_PREFIX):
            op = self._cache.get(key, default=None, retry=True)
            if op is None:  # pragma: no cover - deleted between listing and reading
                continue
            if not isinstance(op, dict) or "seq" not in op:
                raise JournalError(f"journal entry {key} in {self.directory} is not an operation")
            if states is None or op.get("state") in states:
                found.append(t.cast(Op, op))
        return found

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(STATES, 0)
        for op in self.ops():
            counts[op["state"]] = counts.get(op["state"], 0) + 1
        return counts

    def _keys(self, prefix: str) -> t.Iterator[str]:
        # Keys iterate in sort order; zero-padded sequence numbers sort as numbers.
        for key in self._cache.iterkeys():
            if isinstance(key, str) and key.startswith(prefix):
                yield key

    # -- local store -------------------------------------------------------------------------
    def record(self, table: str, record_id: str) -> LocalRecord | None:
        value = self._cache.get(record_key(table, record_id), default=None, retry=True)
        return t.cast("LocalRecord | None", value)

    def put_record(self, rec: LocalRecord) -> None:
        self._cache.set(record_key(rec["table"], rec["id"]), rec, retry=True)

    def records(self, table: str) -> t.Iterator[LocalRecord]:
        for key in self._keys(f"{_REC_PREFIX}{table}:"):
            value = self._cache.get(key, default=None, retry=True)
            if value is not None:
                yield t.cast(LocalRecord, value)


def _lock_file(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def journal_name(org: str | None) -> str:
    """The directory name of an org's journal: readable host part plus a short hash of the URL.

    Operations queued against a snapshot or the published default, with no org to name, go
    to the journal called ``local``.
    """
    if not org:
        return "local"
    import hashlib
    import re
    from urllib.parse import urlsplit

    norm = normalize_org(org)
    host = urlsplit(norm).netloc or "org"
    readable = re.sub(r"[^A-Za-z0-9.-]+", "_", host)[:60]
    digest = hashlib.sha256(norm.encode()).hexdigest()[:10]
    return f"{readable}-{digest}"


def normalize_org(org: str) -> str:
    """The org URL as the harvest keys it (``HTTPS://Contoso.crm.dynamics.com/`` and
    ``https://contoso.crm.dynamics.com/api/data/v9.2`` are one org); bad URLs are refused."""
    from metadata.orgurl import normalize_org_url

    return normalize_org_url(org)


def journal_dir(name: str, data_dir: str | None = None) -> str:
    """``<data dir>/journals/<name>``; the data dir is the user's (never the current directory)."""
    if data_dir is None:
        from metadata import locations

        data_dir = locations.user_data_dir()
    return os.path.join(os.path.abspath(data_dir), "journals", name)
