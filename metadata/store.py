"""The store: harvested snapshots in a diskcache directory, one entry per normalized org URL.

Layout: ``<cache dir>/harvests/`` is a diskcache Cache (SQLite in WAL mode plus value files),
safe for several processes at once. Per org it holds ``harvest:<org>`` (the snapshot, its
fingerprint and harvest time, written in one transaction, so a reader sees the old harvest or
the new one, never half) and ``checked:<org>`` (when the harvest was last confirmed current,
updated alone so a no-change refresh does not rewrite the snapshot). ``lock:<org>`` serializes
harvests of one org across processes. A damaged cache raises CacheError; ``recover`` moves a
damaged directory aside so the next harvest starts clean.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
import typing as t

from metadata.errors import CacheError, CacheLocationError, DataUnavailableError
from metadata.model import Snapshot, Source

if t.TYPE_CHECKING:
    import diskcache

ENTRY_FORMAT = 1
LOCK_EXPIRE_SECONDS = 600  # a harvest killed mid-way frees its lock after this


class CachedHarvest(t.NamedTuple):
    snapshot: Snapshot
    fingerprint: dict[str, t.Any]
    harvested_at: str
    stored_at: float  # epoch seconds when the harvest was written
    checked_at: float  # epoch seconds when it was last confirmed current (probe or harvest)


class Store:
    """Owns the cache directory."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        from metadata.locations import cache_location

        self.location = cache_location(directory)
        self.directory = self.location.path
        self.path = os.path.join(self.directory, "harvests")
        self._cache: diskcache.Cache | None = None

    @classmethod
    def open(cls, directory: str | os.PathLike[str] | None = None) -> Store:
        """The store in ``directory`` (a path, or a Location naming where it came from), else
        in ``MSGAVAIL_CACHE_DIR``, else in the platform user cache. Nothing is touched on disk
        until the store is first read or written."""
        from metadata.locations import cache_location

        return cls(cache_location(directory))

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _corrupt(self, exc: BaseException) -> CacheError:
        with contextlib.suppress(sqlite3.Error):
            self.close()
        return CacheError(
            f"the cache at {self.path} is damaged ({type(exc).__name__}: {exc}); "
            "`msgavail harvest --org URL` rebuilds it"
        )

    def _open(self) -> diskcache.Cache:
        if self._cache is None:
            import diskcache

            try:
                os.makedirs(self.directory, exist_ok=True)
                self._probe_database()
                self._cache = diskcache.Cache(
                    self.path, timeout=60, size_limit=2**40, eviction_policy="none"
                )
            except sqlite3.DatabaseError as exc:
                raise self._corrupt(exc) from None
            except OSError as exc:
                raise self._unusable(exc) from None
        return self._cache

    def _unusable(self, exc: OSError) -> CacheLocationError:
        from metadata.fsutil import blocking_file

        reason = exc.strerror or str(exc)
        blocker = blocking_file(self.path)
        if blocker is not None:
            reason = f"{blocker} is a file, not a directory"
        where = self.location.describe()
        fix = (
            f"set {self.location.origin} to a directory msgavail can create"
            if self.location.origin and self.location.origin.isupper()
            else "choose a directory msgavail can create"
        )
        return CacheLocationError(f"cannot use {where} as the cache directory: {reason}; {fix}")

    def _probe_database(self) -> None:
        """Refuse a damaged database file before diskcache opens it: diskcache would fail
        half-way through its constructor and leave its SQLite connection open."""
        db = os.path.join(self.path, "cache.db")
        if not os.path.exists(db):
            return
        with contextlib.closing(sqlite3.connect(db)) as con:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()

    # -- reading -----------------------------------------------------------------------------
    def get(self, org: str) -> CachedHarvest | None:
        """The org's cached harvest, or None. Raises CacheError if it cannot be read."""
        from metadata.orgurl import normalize_org_url
        from metadata.snapshot import from_dict

        org = normalize_org_url(org)
        cache = self._open()
        try:
            raw = cache.get("harvest:" + org)
            checked = cache.get("checked:" + org)
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from None
        if raw is None:
            return None
        try:
            entry = json.loads(raw)
            if entry.get("format") != ENTRY_FORMAT:
                raise ValueError(f"unknown entry format {entry.get('format')!r}")
            source = Source(kind="org", org=org, harvested_at=entry["harvested_at"])
            snapshot = from_dict(entry["snapshot"], source=source)
            stored = float(entry["stored_at"])
            return CachedHarvest(
                snapshot,
                dict(entry["fingerprint"]),
                str(entry["harvested_at"]),
                stored,
                float(checked) if isinstance(checked, (int, float)) else stored,
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise CacheError(
                f"the cached harvest of {org} in {self.path} is damaged ({exc}); "
                f"`msgavail harvest --org {org}` rebuilds it"
            ) from None

    def cached_snapshot(self, org: str) -> Snapshot:
        """The org's cached snapshot; DataUnavailableError when it was never harvested."""
        opened_here = self._cache is None
        try:
            cached = self.get(org)
        finally:
            if opened_here:  # a one-shot read (check/lint --org): do not keep SQLite open
                self.close()
        if cached is None:
            from metadata.orgurl import normalize_org_url

            norm = normalize_org_url(org)
            raise DataUnavailableError(
                f"no cached harvest for {norm}: run `msgavail harvest --org {norm}` first"
            )
        return cached.snapshot

    # -- writing -----------------------------------------------------------------------------
    def put(
        self,
        org: str,
        snapshot: Snapshot,
        fingerprint: t.Mapping[str, t.Any],
        *,
        now: float | None = None,
    ) -> None:
        """Store a harvest (one transaction: readers see the old entry or the new one)."""
        from metadata.orgurl import normalize_org_url
        from metadata.snapshot import to_dict

        org = normalize_org_url(org)
        when = time.time() if now is None else now
        entry = {
            "format": ENTRY_FORMAT,
            "org": org,
            "harvested_at": snapshot.source.harvested_at,
            "stored_at": when,
            "fingerprint": dict(fingerprint),
            "snapshot": to_dict(snapshot),
        }
        text = json.dumps(entry, separators=(",", ":"), ensure_ascii=False)
        cache = self._open()
        try:
            with cache.transact():
                cache.set("harvest:" + org, text)
                cache.set("checked:" + org, when)
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from None
        except OSError as exc:
            raise CacheError(f"cannot write to the cache {self.path}: {exc}") from None

    def touch(self, org: str, *, now: float | None = None) -> None:
        """Record that the cached harvest was confirmed current (by a probe)."""
        from metadata.orgurl import normalize_org_url

        cache = self._open()
        try:
            cache.set("checked:" + normalize_org_url(org), time.time() if now is None else now)
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from None

    def delete(self, org: str) -> None:
        from metadata.orgurl import normalize_org_url

        org = normalize_org_url(org)
        cache = self._open()
        with cache.transact():
            cache.delete("harvest:" + org)
            cache.delete("checked:" + org)

    def lock(self, org: str, *, poll: float = 0.05) -> t.ContextManager[None]:
        """Serializes harvests of one org across processes.

        The lock records its holder (host, pid); a lock left by a process that died on this
        host is broken at once, and any lock expires after LOCK_EXPIRE_SECONDS.
        """
        from metadata.orgurl import normalize_org_url

        return _HarvestLock(self._open(), "lock:" + normalize_org_url(org), poll)

    def recover(self, org: str) -> None:
        """Make the store usable again after a CacheError: drop the org's entry, or move a
        damaged cache directory aside (kept for inspection) and start a new one."""
        try:
            self.delete(org)
            return
        except (CacheError, sqlite3.DatabaseError, OSError):
            pass
        self.close()
        aside = f"{self.path}.damaged-{int(time.time())}-{os.getpid()}"
        try:
            os.replace(self.path, aside)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise self._unusable(exc) from None


class _HarvestLock:
    def __init__(self, cache: diskcache.Cache, key: str, poll: float) -> None:
        import socket

        self.cache = cache
        self.key = key
        self.poll = poll
        self.me = {"host": socket.gethostname(), "pid": os.getpid(), "token": os.urandom(8).hex()}

    def __enter__(self) -> None:
        while not self.cache.add(self.key, self.me, expire=LOCK_EXPIRE_SECONDS, retry=True):
            holder = self.cache.get(self.key, retry=True)
            if isinstance(holder, dict) and _dead_here(holder):
                # compare-and-delete: only remove the dead holder's own lock
                with self.cache.transact(retry=True):
                    if self.cache.get(self.key) == holder:
                        self.cache.delete(self.key)
                continue
            time.sleep(self.poll)

    def __exit__(self, *exc: object) -> None:
        with self.cache.transact(retry=True):
            if self.cache.get(self.key) == self.me:
                self.cache.delete(self.key)


def _dead_here(holder: dict[str, t.Any]) -> bool:
    import socket

    if holder.get("host") != socket.gethostname():
        return False
    try:
        os.kill(int(holder["pid"]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, KeyError, TypeError, ValueError):
        return False
    return False
