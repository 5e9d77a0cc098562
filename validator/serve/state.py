"""What the service answers from: one immutable ``DataState`` at a time, swapped on refresh.

A ``DataState`` bundles the Engine over one snapshot with everything derived from it that the
handlers reuse (the snapshot file body and its ETag, a per-table index of filters, a bounded
memo of /v1/check answers). Requests read ``Holder.current`` once and keep that state to the
end, so swapping in a newer harvest never changes an answer half-way and drops no request.

``Holder.poll()`` notices a newer harvest cheaply: it stats the files the source lives in (the
diskcache database and its write-ahead log, or the snapshot file) and only when they changed
reads the entry again, off the event loop, and swaps when the harvest itself is new.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import threading
import time
import typing as t

from metadata.errors import MsgavailError
from metadata.model import MessageFilter, Snapshot
from validator.engine import Engine

CHECK_MEMO_SIZE = 8192
"""Distinct /v1/check questions remembered per state (a real org has ~25,000 pairs)."""


class Response(t.NamedTuple):
    """A rendered answer: status and JSON body bytes (memoized for /v1/check)."""

    status: int
    body: bytes


@dataclasses.dataclass(frozen=True)
class SourceSpec:
    """Which data source the service was started with (the contract's precedence)."""

    snapshot: str | None = None
    org: str | None = None
    cache_dir: str | None = None

    def watched_files(self, store_path: str | None) -> tuple[str, ...]:
        if self.snapshot is not None:
            return (os.path.abspath(self.snapshot),)
        if self.org is not None and store_path is not None:
            db = os.path.join(store_path, "cache.db")
            return (db, db + "-wal")
        return ()


class DataState:
    """One snapshot's engine and the answers derived from it. Never mutated after build,
    except the check memo (a cache of pure answers, bounded)."""

    def __init__(self, snapshot: Snapshot, *, stored_at: float | None = None) -> None:
        self.engine = Engine(snapshot)
        self.snapshot = snapshot
        self.loaded_at = time.time()
        self.stored_at = stored_at
        self.check_memo: dict[bytes, Response] = {}
        self._lock = threading.Lock()
        self._file: tuple[bytes, str] | None = None
        self._by_table: dict[str, tuple[MessageFilter, ...]] | None = None

    @property
    def identity(self) -> tuple[str | None, float | None]:
        """What tells one harvest from the next: its harvest time and when it was stored."""
        return (self.snapshot.source.harvested_at, self.stored_at)

    def remember(self, key: bytes, answer: Response) -> Response:
        memo = self.check_memo
        if len(memo) >= CHECK_MEMO_SIZE:
            memo.clear()  # crude but bounded; the hot set refills in one round of requests
        memo[key] = answer
        return answer

    def snapshot_file(self) -> tuple[bytes, str]:
        """The snapshot file's bytes (as ``msgavail snapshot export`` writes them) and a strong
        ETag over them."""
        if self._file is None:
            with self._lock:
                if self._file is None:
                    from metadata import snapshot as snapshot_file

                    body = snapshot_file.dumps(self.snapshot).encode("utf-8")
                    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
                    self._file = (body, etag)
        return self._file

    def filters_for_table(self, logical_name: str) -> tuple[MessageFilter, ...]:
        if self._by_table is None:
            with self._lock:
                if self._by_table is None:
                    index: dict[str, list[MessageFilter]] = {}
                    for f in self.snapshot.filters:
                        if f.primary:
                            index.setdefault(f.primary, []).append(f)
                    self._by_table = {k: tuple(v) for k, v in index.items()}
        return self._by_table.get(logical_name, ())

    def age_seconds(self, now: float | None = None) -> float | None:
        stamp = self.snapshot.source.harvested_at
        if not stamp:
            return None
        from validator.rules.base import parse_timestamp

        when = parse_timestamp(stamp)
        if when is None:
            return None
        current = dt.datetime.fromtimestamp(time.time() if now is None else now, dt.timezone.utc)
        return round((current - when).total_seconds(), 3)


def load_state(spec: SourceSpec, store: t.Any = None) -> DataState:
    """Build a DataState from the source; raises what the source raises (MsgavailError)."""
    if spec.snapshot is not None:
        from metadata import snapshot as snapshot_file

        path = spec.snapshot
        stamp = os.stat(path).st_mtime if os.path.exists(path) else None
        return DataState(snapshot_file.read(path), stored_at=stamp)
    if spec.org is not None:
        from metadata.errors import DataUnavailableError
        from metadata.orgurl import normalize_org_url

        assert store is not None
        cached = store.get(spec.org)
        if cached is None:
            norm = normalize_org_url(spec.org)
            raise DataUnavailableError(
                f"no cached harvest for {norm}: run `msgavail harvest --org {norm}` first"
            )
        return DataState(cached.snapshot, stored_at=cached.stored_at)
    from metadata import published

    return DataState(published.load())


class Holder:
    """Owns the current DataState and replaces it when the source changes."""

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec
        self.store: t.Any = None
        if spec.snapshot is None and spec.org is not None:
            from metadata.store import Store

            self.store = Store.open(spec.cache_dir)
        self.current = load_state(spec, self.store)
        self._signature = self._stat()
        self.last_poll: float | None = None
        self.refresh_error: str | None = None
        self.refreshes = 0

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def _stat(self) -> tuple[tuple[int, int] | None, ...]:
        path = getattr(self.store, "path", None)
        out: list[tuple[int, int] | None] = []
        for f in self.spec.watched_files(path):
            try:
                st = os.stat(f)
                out.append((st.st_mtime_ns, st.st_size))
            except OSError:
                out.append(None)
        return tuple(out)

    def changed(self) -> bool:
        """Cheap: did the files the source lives in change since the last load?"""
        self.last_poll = time.time()
        return self._stat() != self._signature

    def reload(self) -> bool:
        """Re-read the source (blocking: run it in a thread). True when a new state was
        swapped in. A source that cannot be read keeps the old state and records why."""
        signature = self._stat()
        try:
            fresh = load_state(self.spec, self.store)
        except MsgavailError as exc:
            self.refresh_error = str(exc)
            self._signature = signature  # retry when the files change again
            return False
        except OSError as exc:
            self.refresh_error = f"cannot read the data source: {exc}"
            self._signature = signature
            return False
        self._signature = signature
        self.refresh_error = None
        if fresh.identity == self.current.identity:
            return False
        self.current = fresh  # one reference assignment: atomic for readers
        self.refreshes += 1
        return True
