"""The durable offline journal and the local store, in one diskcache directory per org.

The directory is a diskcache ``Cache`` (its database ``cache.db``, SQLite in WAL mode). One
database holds everything, so that a local write and its journal entry commit in one SQLite
transaction (the outbox rule)::

    Cache (diskcache's table)  meta:seq   the last sequence number handed out (never reused)
                               meta:org   the org this journal plays back to
    msgavail_ops               seq INTEGER PRIMARY KEY, value: one queued operation (JSON text),
                               state pending/in-flight/done/...
    msgavail_records           key "<table>:<id lowered>", value: the local copy of a record as
                               the user's offline writes left it (JSON text)

Settings follow the measurements in docs/reference/offline-sync.md §4: no eviction (a plain
Cache culls silently), ``synchronous=FULL`` (WAL+NORMAL may roll back a commit on power loss),
every value inline in SQLite (side files are written without fsync, and a missing one makes
reads spin), and JSON text instead of pickles (a renamed class would poison the journal).
Operations are never popped: playback reads, sends, then rewrites the state (peek/ack).

Why tables of our own beside diskcache's (format 2; docs/reference/offline-sync.md §4.7).
diskcache creates the directory and the database with the durable settings, applies them,
keeps the two meta entries and checks the whole file (``Cache.check``: SQLite's integrity check
covers every table). But its documented API reads and writes one key per call (``set`` 41,000
keys/s, ``iterkeys`` quadratic at 100,000 keys) and documents no bulk read or write, and its
``Cache`` table is built for a cache: two triggers per row keep a count and a size for culling
and an index serves expiry, none of which a journal uses. Writing a 100,000-op
plan's 150,000 rows (operations and local records) into that table took 2.0 s of CPU, into a
plain table 0.35 s: the difference alone was a third of the enqueue budget. So operations and
records live in two tables of ours in the same file, written with ``executemany`` and read with
one ordered range query on the integer key, on the journal's own connection (``synchronous=
FULL`` set on it as diskcache sets it on its own); the counter stays a diskcache entry, updated
in the same ``BEGIN IMMEDIATE`` transaction.

Format 1 (earlier releases, which stored ``op:<seq>`` and ``rec:<table>:<id>`` entries in
diskcache's table) is converted when the journal is opened: every entry is moved into the new
tables in one transaction, and :meth:`Journal.verify` says so once. An older msgavail does not
see the moved entries: after the conversion the journal is this version's.

Integrity (nothing is overwritten or forgotten silently):

* a new journal is built in a temporary directory and renamed into place, so a journal
  directory without its database, or with an empty one, was damaged: it is refused
  (``JournalDamagedError``), never re-created empty;
* operations are INSERTed, never replaced, and numbered after both the counter and the highest
  sequence present: a counter that went back (or vanished) cannot make an append overwrite;
* every entry read is validated (UTF-8, JSON, the shape of an operation, its sequence number);
  damaged ones are named, every readable one is kept, and SQLite's own errors (a garbled page)
  become the same error with the ways out: ``msgavail queue export`` and ``msgavail queue
  repair``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import gc
import json
import os
import sqlite3
import sys
import time
import typing as t

from metadata.errors import JournalDamagedError, JournalError, JournalLockedError

if t.TYPE_CHECKING:
    import diskcache

State = t.Literal["pending", "in-flight", "done", "parked", "dropped"]
STATES: tuple[State, ...] = ("pending", "in-flight", "done", "parked", "dropped")
SCHEMA_VERSION = 1
DBNAME = "cache.db"  # diskcache.core.DBNAME, the database in a Cache directory

_SEQ_KEY = "meta:seq"
_ORG_KEY = "meta:org"
_OP_PREFIX = "op:"  # format 1: operations as diskcache entries (moved into _OPS when opened)
_OP_END = "op;"  # the first key after every "op:..." key
_REC_PREFIX = "rec:"  # format 1: local records as diskcache entries
_REC_END = "rec;"
_OPS = "msgavail_ops"
_RECORDS = "msgavail_records"
_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {_OPS} (seq INTEGER PRIMARY KEY, value TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {_RECORDS} (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)
_SETTINGS: dict[str, t.Any] = {
    "eviction_policy": "none",
    "sqlite_synchronous": 2,  # FULL
    "disk_min_file_size": 2**30,  # keep every value inline in SQLite
    "cull_limit": 0,
    # diskcache's defaults map 64 MiB of the file and cache 32 MiB of pages per connection;
    # both count in a process's resident set, and a journal is read once, in order: a sync of
    # 100,000 operations (71 MiB on disk) peaked at 165 MiB with them, 75 MiB with these, at
    # the same speed (issue 10; bench/sync_memory_bench.py). Stored by diskcache in Settings.
    "sqlite_mmap_size": 0,
    "sqlite_cache_size": 2**11,  # pages: 8 MiB
}
_PRAGMAS = frozenset({"cache_size", "mmap_size", "synchronous"})
# The two meta entries, as diskcache.Cache.set writes them (raw key, value inline, no expiry).
_META_UPSERT = (
    "INSERT INTO Cache(key, raw, store_time, expire_time, access_time, access_count, tag, size,"
    " mode, filename, value) VALUES (?, 1, ?, NULL, ?, 0, NULL, 0, 1, NULL, ?)"
    " ON CONFLICT(key, raw) DO UPDATE SET value = excluded.value,"
    " store_time = excluded.store_time, access_time = excluded.access_time"
)
_INSERT = f"INSERT INTO {_OPS} (value, seq) VALUES (?, ?)"
_UPDATE = f"UPDATE {_OPS} SET value = ? WHERE seq = ?"
_RECORD_UPSERT = (
    f"INSERT INTO {_RECORDS} (key, value) VALUES (?, ?)"
    " ON CONFLICT(key) DO UPDATE SET value = excluded.value"
)
_HOW_OUT = (
    "`msgavail queue export{sel} -o FILE` saves every readable operation as a plan, "
    "`msgavail queue repair{sel}` moves the damaged journal aside and keeps every readable one"
)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


def op_key(seq: int) -> str:
    return f"{_OP_PREFIX}{seq:016d}"


def record_key(table: str, record_id: str) -> str:
    return f"{table}:{record_id.lower()}"


@contextlib.contextmanager
def paused_gc() -> t.Iterator[None]:
    """The cyclic garbage collector paused while a bulk read or write builds objects that
    form no cycles (decoded or encoded JSON): with 100,000 operations alive, each collection
    walks them all, and collections were a third of queuing a 100,000-op plan. Nested uses
    and a collector already off are left as they were."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


# One encoder for every entry: json.dumps with separators builds a new one per call (2x slower).
# ASCII output (non-ASCII escaped): a stored byte >= 0x80 is damage, which the checks rely on.
_dumps: t.Callable[[t.Any], str] = json.JSONEncoder(
    separators=(",", ":"), check_circular=False, ensure_ascii=True
).encode


def _json_disk() -> type[diskcache.Disk]:
    import diskcache

    class JSONTextDisk(diskcache.Disk):  # type: ignore[misc]
        """Values as JSON text (stored inline as TEXT, readable with sqlite3), never pickles.

        Integers stay SQLite integers (the sequence counter).
        """

        def store(self, value: t.Any, read: bool, key: t.Any = diskcache.core.UNKNOWN) -> t.Any:
            if read:
                raise TypeError("the journal stores JSON values, not files")
            if type(value) is not int:
                value = _dumps(value)
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


class Damage(t.NamedTuple):
    """One journal entry that cannot be read: its key, its sequence number if known, and why."""

    key: str
    seq: int | None
    reason: str

    def text(self) -> str:
        return (
            f"#{self.seq} ({self.reason})"
            if self.seq is not None
            else f"{self.key} ({self.reason})"
        )


class Scan(t.NamedTuple):
    """What a lenient read of the journal found: the readable operations, the damaged ones."""

    ops: list[Op]
    damaged: list[Damage]

    def counts(self) -> dict[str, int]:
        return count_states(self.ops)


def count_states(ops: t.Iterable[Op]) -> dict[str, int]:
    """Operations per state, in the order of ``STATES`` (states with none left out)."""
    found: dict[str, int] = {}
    for op in ops:
        found[op["state"]] = found.get(op["state"], 0) + 1
    return {s: found[s] for s in STATES if s in found}


def _legacy_seq(key: str) -> int | None:
    """The sequence number in a format-1 key ``op:<seq, 16 digits>``."""
    digits = key[len(_OP_PREFIX) :]
    return int(digits) if digits.isdigit() else None


_STATE_SET = frozenset(STATES)


def _decode_op(key: str, seq: int | None, raw: t.Any) -> Op | Damage:
    """An operation from its stored value, or why it is not one."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if not isinstance(raw, bytes):
        return Damage(key, seq, f"not JSON text but a stored {type(raw).__name__}")
    try:
        value = json.loads(raw)
    except UnicodeDecodeError:
        return Damage(key, seq, "not valid UTF-8")
    except ValueError as exc:
        return Damage(key, seq, f"not valid JSON: {exc}")
    if not isinstance(value, dict):
        return Damage(key, seq, "not an operation (a JSON object)")
    if value.get("seq") != seq:
        return Damage(key, seq, f"its stored sequence number is {value.get('seq')!r}")
    if value.get("state") not in STATES:
        return Damage(key, seq, f"unknown state {value.get('state')!r}")
    if not isinstance(value.get("message"), str):
        return Damage(key, seq, "no message")
    if not value["message"]:
        return Damage(key, seq, "an empty message")
    return t.cast(Op, value)


# What an intact entry is, for the check before an append (Journal._damaged_entries): the
# checks of _decode_op and _decode_rows in SQL, so that a journal of 100,000 operations is
# checked without building them in Python. A row this lets through is one they accept; a row
# it flags is decoded by _decode_op, which says why (or, where SQLite is stricter than Python's
# json, that it is intact). Keep the three in step: tests/unit/executor/test_journal.py checks
# that every kind of damage the readers name is flagged here. Each json_* call costs (they
# share one parse per row): ``+seq`` has no affinity, so a stored "7" is not 7 (as in Python),
# 7.0 is (as in Python); json_extract returns a JSON text only for a string, so the state
# needs no json_type; a missing key is NULL, which IFNULL makes damage (NOT NULL would pass).
_INTACT_SQL = (
    "CASE WHEN json_valid(value) THEN IFNULL(msgavail_ascii(CAST(value AS BLOB))"
    " AND json_extract(value, '$.seq') = +seq"
    f" AND json_extract(value, '$.state') IN ({', '.join(repr(s) for s in STATES)})"
    " AND json_type(value, '$.message') = 'text' AND json_extract(value, '$.message') <> ''"
    ", 0) ELSE 0 END"
)


def _decode_rows(
    rows: t.Iterable[tuple[t.Any, t.Any]],
    states: t.Container[str] | None,
    ops: list[Op],
    damaged: list[Damage],
) -> int:
    """Decode ``(seq, value)`` rows into ``ops`` (those in ``states``) and ``damaged``; the
    last sequence number seen. The common case costs an ASCII decode (the journal escapes
    every non-ASCII character, so any other byte is damage), one ``json.loads`` of text and
    the checks _INTACT_SQL makes in SQL; anything else takes :func:`_decode_op` to say why."""
    loads, append, last, known = json.loads, ops.append, 0, _STATE_SET
    for seq, raw in rows:
        last = seq
        try:
            value = loads(raw.decode("ascii"))
        except (ValueError, TypeError, AttributeError):  # UnicodeDecodeError included
            value = None
        if (
            type(value) is dict
            and value.get("seq") == seq
            and type(value.get("state")) is str  # hashable, for the set
            and value["state"] in known
            and type(value.get("message")) is str
            and value["message"]
        ):
            if states is None or value["state"] in states:
                append(t.cast(Op, value))
            continue
        found = _decode_op(op_key(seq), seq, raw)
        if isinstance(found, Damage):
            damaged.append(found)
        else:  # readable, but not as written: the journal escapes every non-ASCII character
            damaged.append(Damage(op_key(seq), seq, "not ASCII JSON as written"))
    return last


class Journal:
    """The journal and local store of one org. Open with :meth:`open`; close when done."""

    def __init__(self, directory: str, cache: diskcache.Cache, con: sqlite3.Connection) -> None:
        self.directory = directory
        self._cache = cache
        self._con = con
        self._depth = 0
        self._lock_fd: int | None = None
        self._notices: list[str] = []  # what opening changed, for verify() to tell
        self.selector = ""  # how commands name this journal in advice (" --journal NAME")

    # -- life cycle --------------------------------------------------------------------------
    @classmethod
    def open(
        cls, directory: str | os.PathLike[str], *, create: bool = True, timeout: float = 60.0
    ) -> Journal:
        """Open the journal in ``directory``; a new one only when ``create`` and there is no
        directory yet. A directory without its database is a damaged journal, never empty."""
        import diskcache

        path = os.path.abspath(os.fspath(directory))
        if not os.path.isdir(path):
            if not create:
                raise JournalError(f"no journal in {path}: nothing was queued for it")
            _create(path, timeout)
        db = os.path.join(path, DBNAME)
        name = os.path.basename(path)
        try:
            size = os.path.getsize(db)
        except OSError:
            size = -1
        if size <= 0:
            what = "its database is missing" if size < 0 else "its database is empty (0 bytes)"
            raise JournalDamagedError(
                f"the journal {name} ({path}) is damaged: {what}, so every operation it held "
                f"is gone from it; it is left as it is (restore {db} from a backup, or move "
                f"the directory aside to start a new journal)",
                path=path,
            )
        try:
            cache = diskcache.Cache(path, disk=_json_disk(), timeout=timeout, **_SETTINGS)
        except (OSError, diskcache.Timeout) as exc:
            raise JournalError(f"cannot open the journal in {path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            raise _damaged(path, str(exc)) from None
        try:
            con = sqlite3.connect(db, timeout=timeout, isolation_level=None)
            con.text_factory = bytes  # decoded per entry: invalid UTF-8 is one damaged entry
            # The pragmas diskcache applies to each of its connections (synchronous=FULL, its
            # page cache and mmap sizes), from the settings it stored.
            for key, value in con.execute(
                "SELECT key, value FROM Settings WHERE key LIKE 'sqlite_%'"
            ).fetchall():
                pragma = key.decode()[len("sqlite_") :]
                if pragma in _PRAGMAS and type(value) is int:
                    con.execute(f"PRAGMA {pragma} = {value}")
            con.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as exc:
            cache.close()
            raise _damaged(path, str(exc)) from None
        journal = cls(path, cache, con)
        try:
            journal._prepare()
        except BaseException:
            journal.close()
            raise
        return journal

    def _prepare(self) -> None:
        """Our two tables, and a format-1 journal's entries moved into them (one transaction,
        announced by the next :meth:`verify`)."""
        with self._sql_errors():
            tables = {
                row[0]
                for row in self._con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            legacy = any(
                self._con.execute(
                    "SELECT 1 FROM Cache WHERE key >= ? AND key < ? AND raw = 1 LIMIT 1", bounds
                ).fetchone()
                for bounds in ((_OP_PREFIX, _OP_END), (_REC_PREFIX, _REC_END))
            )
        if {_OPS.encode(), _RECORDS.encode()} <= tables and not legacy:
            return
        with self.transaction(), self._sql_errors():
            for statement in _SCHEMA:
                self._con.execute(statement)
            ops, records = _convert_format1(self._con)
        if ops or records:
            self._notices.append(
                f"the journal {self.name} was converted to this version's format: {ops} "
                f"operation(s) and {records} local record(s) moved into its own tables in the "
                "same database, in one transaction (an older msgavail no longer sees them)"
            )

    @property
    def name(self) -> str:
        return os.path.basename(self.directory)

    def close(self) -> None:
        self.release_playback_lock()
        self._con.close()
        self._cache.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> t.Iterator[None]:
        """All writes inside commit together or not at all (BEGIN IMMEDIATE .. COMMIT)."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        with self._sql_errors():
            self._begin()
        self._depth = 1
        try:
            yield
        except BaseException:
            self._depth = 0
            with contextlib.suppress(sqlite3.Error):
                self._con.execute("ROLLBACK")
            raise
        self._depth = 0
        with self._sql_errors():
            self._con.execute("COMMIT")

    def _begin(self) -> None:
        deadline = time.monotonic() + 120.0
        while True:
            try:
                self._con.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    @contextlib.contextmanager
    def _sql_errors(self) -> t.Iterator[None]:
        try:
            yield
        except sqlite3.IntegrityError as exc:
            raise JournalError(
                f"the journal {self.name} refused a write that would replace an existing "
                f"entry ({exc}); nothing was written"
            ) from None
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise JournalError(f"the journal in {self.directory} is busy") from None
            raise _damaged(self.directory, str(exc), self.selector) from None

    def check(self) -> list[str]:
        """SQLite integrity check and diskcache consistency; the problems found, if any."""
        import warnings

        with self._sql_errors(), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            found = self._cache.check(fix=False, retry=True)
        return [str(w.message) for w in [*found, *caught]]

    def verify(self, *, entries: bool = True) -> list[str]:
        """The checks before a write: SQLite's quick check, every entry readable (when
        ``entries``), and the sequence counter against the highest sequence present (a
        counter that went back is repaired: appends are numbered after both anyway).
        Raises JournalDamagedError; returns what it repaired or converted, for the user to
        hear of."""
        notices = list(self._notices)  # told once, by the first verify that passes
        with self._sql_errors():
            rows = self._con.execute("PRAGMA quick_check").fetchall()
        problems = [r[0].decode() if isinstance(r[0], bytes) else str(r[0]) for r in rows]
        if problems != ["ok"]:
            raise _damaged(self.directory, "; ".join(problems[:3]), self.selector)
        if entries:
            damaged = self._damaged_entries()
            if damaged:
                raise self.damaged_error(damaged)
        counter, highest = self.last_seq(), self._highest_seq()
        if highest > counter:
            with self.transaction():
                self._write_counter(highest)
            notices.append(
                f"the sequence counter of journal {self.name} was {counter}, below the highest "
                f"queued operation #{highest}; it was set to {highest} (nothing was overwritten)"
            )
        self._notices = []
        return notices

    def _damaged_entries(self) -> list[Damage]:
        """The operations the readers would refuse, found in SQL (``_INTACT_SQL``: JSON, an
        object, ASCII as written, its sequence number, a known state, a message) without
        building every operation in Python; each flagged row is then decoded to say why."""
        # bytes.isascii itself, no wrapper: a Python frame per row was a fifth of the check.
        self._con.create_function("msgavail_ascii", 1, bytes.isascii, deterministic=True)
        with self._sql_errors():
            rows = self._con.execute(
                f"SELECT seq, value FROM {_OPS} WHERE NOT {_INTACT_SQL}"
            ).fetchall()
        found: list[Damage] = []
        _decode_rows(rows, (), [], found)
        return found + self._left_behind()

    def _left_behind(self) -> list[Damage]:
        """Format-1 operations the conversion could not move (see :func:`_convert_format1`)."""
        with self._sql_errors():
            rows = self._con.execute(
                f"SELECT key FROM Cache WHERE {_FORMAT1_OPS} ORDER BY key"
            ).fetchall()
        out = []
        for (raw_key,) in rows:
            key = raw_key.decode("utf-8", "replace") if isinstance(raw_key, bytes) else raw_key
            out.append(Damage(key, _legacy_seq(key), "an entry of the old format not converted"))
        return out

    # -- single playback process -------------------------------------------------------------
    def acquire_playback_lock(self) -> None:
        """An OS file lock: held by one sync at a time, released by the OS if it dies."""
        if self._lock_fd is None:
            self._lock_fd = lock_playback(self.directory)

    def release_playback_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the lock
            self._lock_fd = None

    # -- writing -----------------------------------------------------------------------------
    def append(self, op: Op) -> Op:
        """Number ``op`` and store it as pending (see :meth:`append_many`)."""
        return self.append_many([op])[0]

    def append_many(self, ops: t.Sequence[Op]) -> list[Op]:
        """Give each operation the next sequence number and store it as pending, in one
        transaction (joined with the caller's, which holds the local writes). Numbers follow
        both the counter and the highest sequence present; an existing entry is never
        replaced."""
        if not ops:
            return []
        with self.transaction(), paused_gc():
            seq = max(self.last_seq(), self._highest_seq())
            now = _now()
            first = seq + 1
            stored: list[Op] = []
            for op in ops:
                seq += 1
                entry: Op = {
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
                entry["seq"] = seq
                stored.append(entry)
            with self._sql_errors():
                self._con.executemany(
                    _INSERT, zip(map(_dumps, stored), range(first, seq + 1), strict=True)
                )
            self._write_counter(seq)
        return stored

    def restore(self, ops: t.Sequence[Op], counter: int) -> None:
        """Store operations as they were (their own sequence numbers and states), e.g. those
        saved from a damaged journal; the counter is set to ``counter`` or beyond."""
        rows = [(_dumps(op), op["seq"]) for op in ops]
        with self.transaction():
            with self._sql_errors():
                self._con.executemany(_INSERT, rows)
            self._write_counter(max(counter, self.last_seq(), self._highest_seq()))

    def _write_counter(self, seq: int) -> None:
        stamp = time.time()
        with self._sql_errors():
            self._con.execute(_META_UPSERT, (_SEQ_KEY, stamp, stamp, seq))

    def put(self, op: Op) -> None:
        """Rewrite a stored operation (its position in the journal does not change)."""
        self.put_many([op])

    def put_many(self, ops: t.Iterable[Op]) -> None:
        """Rewrite stored operations, all in one transaction."""
        now = _now()
        rows = []
        for op in ops:
            op["updated_at"] = now
            rows.append((_dumps(op), op["seq"]))
        if not rows:
            return
        with self.transaction(), self._sql_errors():
            cursor = self._con.executemany(_UPDATE, rows)
            if cursor.rowcount != len(rows):
                raise JournalError(
                    f"the journal {self.name} lost an operation while it was being rewritten "
                    f"({len(rows) - cursor.rowcount} of {len(rows)} not found); nothing written"
                )

    def set_state(self, ops: t.Iterable[Op], state: State, **changes: t.Any) -> None:
        chosen = list(ops)
        for op in chosen:
            op["state"] = state
            op.update(changes)  # type: ignore[typeddict-item]
        self.put_many(chosen)

    def remember_org(self, org: str | None) -> None:
        """Record which org this journal plays back to (shown by ``queue``; checked by sync)."""
        if org and self.org is None:
            stamp = time.time()
            with self.transaction(), self._sql_errors():
                self._con.execute(
                    _META_UPSERT, (_ORG_KEY, stamp, stamp, _dumps(normalize_org(org)))
                )

    def forget(self, ops: t.Iterable[Op]) -> int:
        """Remove finished entries (done or dropped) for good, in one transaction. Entries
        still to be played back are refused: they can only be dropped, never forgotten."""
        chosen = list(ops)
        for op in chosen:
            if op["state"] not in ("done", "dropped"):
                raise JournalError(f"operation #{op['seq']} is {op['state']}; it cannot be pruned")
        with self.transaction(), self._sql_errors():
            self._con.executemany(
                f"DELETE FROM {_OPS} WHERE seq = ?", [(op["seq"],) for op in chosen]
            )
        return len(chosen)

    # -- reading -----------------------------------------------------------------------------
    def _value(self, key: str) -> t.Any:
        with self._sql_errors():
            row = self._con.execute(
                "SELECT value FROM Cache WHERE key = ? AND raw = 1", (key,)
            ).fetchone()
        return None if row is None else row[0]

    def _json(self, key: str) -> t.Any:
        raw = self._value(key)
        return None if raw is None else self._loads(f"entry {key}", raw)

    def _loads(self, what: str, raw: t.Any) -> t.Any:
        try:
            return json.loads(raw)
        except (ValueError, TypeError) as exc:  # UnicodeDecodeError included
            detail = f"{what} is unreadable ({exc})"
            raise _damaged(self.directory, detail, self.selector) from None

    @property
    def org(self) -> str | None:
        value = self._json(_ORG_KEY)
        return value if isinstance(value, str) else None

    def last_seq(self) -> int:
        value = self._value(_SEQ_KEY)
        return value if type(value) is int else 0

    def _highest_seq(self) -> int:
        with self._sql_errors():
            row = self._con.execute(f"SELECT MAX(seq) FROM {_OPS}").fetchone()
        return int(row[0] or 0)

    def get(self, seq: int) -> Op | None:
        with self._sql_errors():
            row = self._con.execute(f"SELECT value FROM {_OPS} WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            return None
        ops: list[Op] = []
        damaged: list[Damage] = []
        _decode_rows([(seq, row[0])], None, ops, damaged)  # the checks every reader makes
        if damaged:
            raise self.damaged_error(damaged)
        return ops[0]

    def scan(self, states: t.Container[str] | None = None) -> Scan:
        """Every readable operation in sequence order (optionally only those in ``states``)
        and the entries that cannot be read. Raises JournalDamagedError only when SQLite
        cannot read the database itself (see :func:`salvage` for that case)."""
        ops: list[Op] = []
        damaged: list[Damage] = []
        with self._sql_errors(), paused_gc():
            rows = self._con.execute(f"SELECT seq, value FROM {_OPS} ORDER BY seq")
            _decode_rows(rows, states, ops, damaged)
        damaged.extend(self._left_behind())
        return Scan(ops, damaged)

    def ops(self, states: t.Container[str] | None = None) -> list[Op]:
        """Operations in sequence order, optionally only those in ``states``; a damaged entry
        anywhere raises JournalDamagedError (playback and appends never skip one silently)."""
        found = self.scan(states)
        if found.damaged:
            raise self.damaged_error(found.damaged)
        return found.ops

    def iter_ops(
        self, states: t.Container[str] | None = None, *, chunk: int = 2000, after: int = 0
    ) -> t.Iterator[list[Op]]:
        """:meth:`ops` in chunks of up to ``chunk`` operations (those after ``after``), read
        one range query each, so that a caller holds one chunk at a time, not the journal.
        Each chunk reflects the journal when it is read: writes made between chunks are seen.
        A damaged entry raises JournalDamagedError when its chunk is reached; check first
        with :meth:`verify` when nothing may be done before that is known."""
        last = after
        while True:
            ops: list[Op] = []
            damaged: list[Damage] = []
            with self._sql_errors(), paused_gc():
                rows = self._con.execute(
                    f"SELECT seq, value FROM {_OPS} WHERE seq > ? ORDER BY seq LIMIT ?",
                    (last, chunk),
                ).fetchall()
                if not rows:
                    return
                last = _decode_rows(rows, states, ops, damaged)
            if damaged:
                raise self.damaged_error(damaged)
            if ops:
                yield ops

    def counts(self) -> dict[str, int]:
        return self.scan().counts()

    def damaged_error(self, damaged: t.Sequence[Damage]) -> JournalDamagedError:
        shown = ", ".join(d.text() for d in damaged[:5])
        more = f" and {len(damaged) - 5} more" if len(damaged) > 5 else ""
        return JournalDamagedError(
            f"the journal {self.name} ({self.directory}) is damaged: {len(damaged)} "
            f"operation(s) cannot be read: {shown}{more}; the readable ones are kept. "
            + _HOW_OUT.format(sel=self.selector),
            path=self.directory,
            damaged=tuple(d.seq for d in damaged if d.seq is not None),
        )

    # -- local store -------------------------------------------------------------------------
    def record(self, table: str, record_id: str) -> LocalRecord | None:
        key = record_key(table, record_id)
        with self._sql_errors():
            row = self._con.execute(
                f"SELECT value FROM {_RECORDS} WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        return t.cast(LocalRecord, self._loads(f"local record {key}", row[0]))

    def records_by_id(
        self, wanted: t.Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], LocalRecord]:
        """The local records of these (table, id) pairs that exist, keyed (table, id lowered),
        read 500 keys per statement."""
        keys = [record_key(table, record_id) for table, record_id in wanted]
        found: dict[tuple[str, str], LocalRecord] = {}
        with paused_gc():
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                marks = ",".join("?" * len(chunk))
                with self._sql_errors():
                    rows = self._con.execute(
                        f"SELECT key, value FROM {_RECORDS} WHERE key IN ({marks})", chunk
                    ).fetchall()
                for key, value in rows:
                    name = key.decode("utf-8", "replace")
                    rec = t.cast(LocalRecord, self._loads(f"local record {name}", value))
                    found[(rec["table"], rec["id"].lower())] = rec
        return found

    def put_record(self, rec: LocalRecord) -> None:
        self.put_records([rec])

    def put_records(self, recs: t.Iterable[LocalRecord]) -> None:
        with paused_gc():
            rows = [(record_key(r["table"], r["id"]), _dumps(r)) for r in recs]
        if rows:
            with self.transaction(), self._sql_errors():
                self._con.executemany(_RECORD_UPSERT, rows)

    def records(self, table: str) -> t.Iterator[LocalRecord]:
        prefix = f"{table}:"
        with self._sql_errors():
            rows = self._con.execute(
                f"SELECT key, value FROM {_RECORDS} WHERE key >= ? AND key < ? ORDER BY key",
                (prefix, prefix[:-1] + ";"),
            ).fetchall()
        for key, value in rows:
            what = f"local record {key.decode('utf-8', 'replace')}"
            yield t.cast(LocalRecord, self._loads(what, value))


_FORMAT1_OPS = "key >= 'op:' AND key < 'op;' AND raw = 1"
_FORMAT1_RECORDS = "key >= 'rec:' AND key < 'rec;' AND raw = 1"


def _convert_format1(con: sqlite3.Connection) -> tuple[int, int]:
    """Move format-1 entries (diskcache entries ``op:<seq>`` and ``rec:<table>:<id>``) into
    our tables, inside the caller's transaction: (operations, records) moved. An operation
    whose key is not a sequence number, or whose number is taken, stays where it is, and
    :meth:`Journal.scan` reports it as damaged (``queue export`` and ``repair`` read it)."""
    moved_ops = con.execute(
        f"INSERT INTO {_OPS} (seq, value) SELECT CAST(substr(key, 4) AS INTEGER), value"
        f" FROM Cache WHERE {_FORMAT1_OPS} AND value IS NOT NULL AND length(key) = 19"
        " AND substr(key, 4) NOT GLOB '*[^0-9]*'"
        f" AND CAST(substr(key, 4) AS INTEGER) NOT IN (SELECT seq FROM {_OPS})"
    ).rowcount
    con.execute(
        f"DELETE FROM Cache WHERE {_FORMAT1_OPS} AND EXISTS (SELECT 1 FROM {_OPS} o"
        " WHERE o.seq = CAST(substr(Cache.key, 4) AS INTEGER) AND o.value IS Cache.value)"
    )
    # A record entry still in diskcache's table was written last (by an older msgavail).
    moved_records = con.execute(
        f"INSERT INTO {_RECORDS} (key, value) SELECT substr(key, 5), value FROM Cache"
        f" WHERE {_FORMAT1_RECORDS} AND value IS NOT NULL"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value"
    ).rowcount
    con.execute(f"DELETE FROM Cache WHERE {_FORMAT1_RECORDS} AND value IS NOT NULL")
    return moved_ops, moved_records


def _damaged(path: str, detail: str, selector: str = "") -> JournalDamagedError:
    name = os.path.basename(path)
    return JournalDamagedError(
        f"the journal {name} ({path}) is damaged: {detail}. " + _HOW_OUT.format(sel=selector),
        path=path,
    )


def _create(path: str, timeout: float) -> None:
    """A new, empty journal: built beside its place and renamed into it, so that a journal
    directory always has its database and tables (a kill before the rename leaves only the
    temp dir)."""
    import tempfile

    import diskcache

    parent = os.path.dirname(path)
    try:
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.new-", dir=parent)
        diskcache.Cache(tmp, disk=_json_disk(), timeout=timeout, **_SETTINGS).close()
        con = sqlite3.connect(os.path.join(tmp, DBNAME), timeout=timeout, isolation_level=None)
        try:
            con.execute("PRAGMA synchronous = FULL")
            con.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA:
                con.execute(statement)
            con.execute("COMMIT")
        finally:
            con.close()
        try:
            os.rename(tmp, path)
        except OSError:
            if not os.path.isdir(path):  # another process won the race: use theirs
                raise
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    except (OSError, sqlite3.Error, diskcache.Timeout) as exc:
        raise JournalError(f"cannot create the journal in {path}: {exc}") from exc


class Salvage(t.NamedTuple):
    ops: list[Op]
    records: list[LocalRecord]
    damaged: list[Damage]
    counter: int
    org: str | None


def salvage(path: str) -> Salvage:
    """Everything readable in a journal database (either format), row by row where a table
    cannot be read whole, whatever else is damaged."""
    db = os.path.join(path, DBNAME)
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, isolation_level=None)
    con.text_factory = bytes
    ops: dict[int, Op] = {}
    records: list[LocalRecord] = []
    damaged: list[Damage] = []
    legacy: list[tuple[str, t.Any]] = []
    counter, org = 0, None

    def record(key: str, value: t.Any) -> None:
        try:
            rec = json.loads(value)
        except (ValueError, TypeError):
            rec = None
        if isinstance(rec, dict):
            records.append(t.cast(LocalRecord, rec))
        else:
            damaged.append(Damage(key, None, "unreadable local record"))

    try:
        for seq, value in _readable_rows(con, _OPS, "seq"):
            found = _decode_op(op_key(seq), seq, value)
            if isinstance(found, Damage):
                damaged.append(found)
            else:
                ops[seq] = found
        for raw_key, value in _readable_rows(con, _RECORDS, "key"):
            record(f"{_REC_PREFIX}{raw_key.decode('utf-8', 'replace')}", value)
        for raw_key, value in _readable_rows(con, "Cache", "key"):
            key = raw_key.decode("utf-8", "replace") if isinstance(raw_key, bytes) else str(raw_key)
            if key.startswith(_OP_PREFIX):
                legacy.append((key, value))
            elif key.startswith(_REC_PREFIX):
                record(key, value)
            elif key == _SEQ_KEY and type(value) is int:
                counter = value
            elif key == _ORG_KEY:
                with contextlib.suppress(ValueError, TypeError):
                    org = json.loads(value)
    finally:
        con.close()
    for key, value in legacy:  # format 1, or entries its conversion could not move
        seq = _legacy_seq(key)
        found = _decode_op(key, seq, value)
        if isinstance(found, Damage):
            damaged.append(found)
        elif found["seq"] in ops:
            damaged.append(Damage(key, seq, "a second, old-format entry of this number"))
        else:
            ops[found["seq"]] = found
    ordered = [ops[seq] for seq in sorted(ops)]
    return Salvage(ordered, records, damaged, counter, org if isinstance(org, str) else None)


def _readable_rows(
    con: sqlite3.Connection, table: str, key: str
) -> t.Iterator[tuple[t.Any, t.Any]]:
    """``(key, value)`` of every row of ``table`` that can be read: in one query, or, when
    SQLite reports damage, by rowid one at a time, skipping rows on unreadable pages. A
    table that does not exist (a journal of the other format) has no rows."""
    try:
        rows = con.execute(f"SELECT {key}, value FROM {table}").fetchall()
    except sqlite3.DatabaseError as exc:
        if "no such table" in str(exc):
            return
        rows = None
    if rows is not None:
        yield from rows
        return
    try:
        top = int(con.execute(f"SELECT MAX(rowid) FROM {table}").fetchone()[0] or 0)
    except sqlite3.DatabaseError:
        top = 0
    rowid, misses = 0, 0
    while rowid < top or misses < 100_000:
        rowid += 1
        try:
            row = con.execute(
                f"SELECT {key}, value FROM {table} WHERE rowid = ?", (rowid,)
            ).fetchone()
        except sqlite3.DatabaseError:
            misses += 1
            continue
        if row is None:
            misses += 1
            continue
        misses = 0
        yield row[0], row[1]


def lock_playback(directory: str) -> int:
    """Take the playback lock of the journal in ``directory``: a descriptor to close to
    release it (the OS releases it if the process dies). The lock file is beside the journal
    directory, not in it (diskcache's check() flags unknown files), so it outlives a repair."""
    fd = os.open(directory.rstrip(os.sep) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _lock_file(fd)
    except OSError:
        os.close(fd)
        raise JournalLockedError(
            f"another `msgavail sync` is playing back the journal in {directory}"
        ) from None
    return fd


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
