"""The store: harvested snapshots in a diskcache directory, one entry per normalized org URL.

Layout: ``<cache dir>/harvests/`` is a diskcache Cache (SQLite in WAL mode plus value files),
safe for several processes at once. Per org it holds:

* ``body:<org> <id>``: the snapshot (megabytes at 20,000 filters: a value file), written under
  a key no earlier harvest used;
* ``head:<org>``: a few hundred bytes naming the current body's ``<id>``, with the fingerprint
  and harvest time, so refresh decisions never read the body;
* ``checked:<org>``: when the harvest was last confirmed current (a probe updates it alone);
* ``lock:<org>``: serializes harvests of one org across processes.

A new harvest is complete at every instant, and so is the previous one until it is replaced:
the new body is written first (a new key: diskcache touches no old file), then ``head`` is
switched in one small transaction, and only after that commit are older bodies removed.
(diskcache deletes a replaced value file when its *own* write finishes, which inside an
enclosing ``transact()`` is before the enclosing commit: overwriting the one big entry in
place could lose both harvests to a kill at that moment.) A damaged cache raises CacheError;
``recover`` drops the org's entries, or moves a damaged directory aside, so the next harvest
starts clean.
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

ENTRY_FORMAT = 2  # 1: the whole entry under harvest:<org> (still read, replaced on next put)
LEGACY_FORMAT = 1
LOCK_EXPIRE_SECONDS = 600  # a harvest killed mid-way frees its lock after this


class CachedHarvest:
    """A cached harvest: its header, read at once, and its snapshot, read (once) on first use
    of ``snapshot``: deciding whether to refresh never pays for the body."""

    __slots__ = (
        "_snapshot",
        "_store",
        "checked_at",
        "entry_id",
        "fingerprint",
        "harvested_at",
        "org",
        "stored_at",
    )

    def __init__(
        self,
        store: Store,
        org: str,
        entry_id: str | None,
        fingerprint: dict[str, t.Any],
        harvested_at: str,
        stored_at: float,  # epoch seconds when the harvest was written
        checked_at: float,  # epoch seconds when last confirmed current (probe or harvest)
        snapshot: Snapshot | None = None,
    ) -> None:
        self._store = store
        self.org = org
        self.entry_id = entry_id  # None: a format-1 entry, read whole
        self.fingerprint = fingerprint
        self.harvested_at = harvested_at
        self.stored_at = stored_at
        self.checked_at = checked_at
        self._snapshot = snapshot

    @property
    def snapshot(self) -> Snapshot:
        """The harvested snapshot (read from the cache on first use; CacheError if damaged)."""
        if self._snapshot is None:
            self._snapshot = self._store._load_body(self)
        return self._snapshot

    def __repr__(self) -> str:
        return f"<CachedHarvest {self.org} harvested {self.harvested_at}>"


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
        """The org's cached harvest, or None. Reads only its small header; the snapshot is
        read on first use of ``.snapshot``. Raises CacheError if it cannot be read."""
        from metadata.orgurl import normalize_org_url

        org = normalize_org_url(org)
        cache = self._open()
        try:
            head = cache.get(_HEAD + org)
            checked = cache.get(_CHECKED + org)
            legacy = None if head is not None else cache.get(_LEGACY + org)
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise self._damaged(org, exc) from None
        if head is None and legacy is None:
            return None
        try:
            if head is None:
                return self._legacy(org, legacy, checked)
            entry = json.loads(head)
            if entry.get("format") != ENTRY_FORMAT:
                raise ValueError(f"unknown entry format {entry.get('format')!r}")
            stored = float(entry["stored_at"])
            return CachedHarvest(
                self,
                org,
                str(entry["id"]),
                dict(entry["fingerprint"]),
                str(entry["harvested_at"]),
                stored,
                _checked_at(checked, stored),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise self._damaged(org, exc) from None

    def _load_body(self, head: CachedHarvest) -> Snapshot:
        """Read and parse the snapshot ``head`` names. A concurrent harvest may replace it
        between the two reads; then the new head is followed (its fields update ``head``)."""
        from metadata.snapshot import from_dict

        cache = self._open()
        for _ in range(5):
            if head.entry_id is None:  # legacy entry, or its body vanished with it
                raise self._damaged(head.org, ValueError("its snapshot is missing"))
            try:
                raw = cache.get(_body_key(head.org, head.entry_id))
            except sqlite3.DatabaseError as exc:
                raise self._corrupt(exc) from None
            except (OSError, UnicodeDecodeError) as exc:
                raise self._damaged(head.org, exc) from None
            if raw is None:  # replaced since the head was read? follow the new head
                latest = self.get(head.org)
                if latest is None or latest.entry_id == head.entry_id:
                    raise self._damaged(head.org, ValueError("its snapshot is missing"))
                for name in ("entry_id", "fingerprint", "harvested_at", "stored_at", "checked_at"):
                    setattr(head, name, getattr(latest, name))
                continue
            try:
                source = Source(kind="org", org=head.org, harvested_at=head.harvested_at)
                return from_dict(json.loads(raw), source=source)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise self._damaged(head.org, exc) from None
        raise CacheError(f"the cached harvest of {head.org} keeps changing; try again")

    def _legacy(self, org: str, raw: t.Any, checked: t.Any) -> CachedHarvest:
        """A format-1 entry (the whole harvest under one key), from before format 2."""
        from metadata.snapshot import from_dict

        entry = json.loads(raw)
        if entry.get("format") != LEGACY_FORMAT:
            raise ValueError(f"unknown entry format {entry.get('format')!r}")
        source = Source(kind="org", org=org, harvested_at=entry["harvested_at"])
        stored = float(entry["stored_at"])
        return CachedHarvest(
            self,
            org,
            None,
            dict(entry["fingerprint"]),
            str(entry["harvested_at"]),
            stored,
            _checked_at(checked, stored),
            from_dict(entry["snapshot"], source=source),
        )

    def _damaged(self, org: str, exc: BaseException) -> CacheError:
        text = str(exc) or type(exc).__name__
        return CacheError(
            f"the cached harvest of {org} in {self.path} is damaged ({text}); "
            f"`msgavail harvest --org {org}` rebuilds it"
        )

    def cached_snapshot(self, org: str) -> Snapshot:
        """The org's cached snapshot; DataUnavailableError when it was never harvested."""
        opened_here = self._cache is None
        try:
            cached = self.get(org)
            snapshot = cached.snapshot if cached is not None else None
        finally:
            if opened_here:  # a one-shot read (check/lint --org): do not keep SQLite open
                self.close()
        if cached is None:
            from metadata.orgurl import normalize_org_url

            norm = normalize_org_url(org)
            raise DataUnavailableError(
                f"no cached harvest for {norm}: run `msgavail harvest --org {norm}` first"
            )
        assert snapshot is not None
        return snapshot

    # -- writing -----------------------------------------------------------------------------
    def put(
        self,
        org: str,
        snapshot: Snapshot,
        fingerprint: t.Mapping[str, t.Any],
        *,
        now: float | None = None,
    ) -> None:
        """Store a harvest so that, at every instant, the old harvest or the new one is
        complete (see the module docstring). Call it holding ``lock(org)``, as refresh does."""
        from metadata.orgurl import normalize_org_url
        from metadata.snapshot import to_dict

        org = normalize_org_url(org)
        when = time.time() if now is None else now
        entry_id = f"{time.time_ns():020d}-{os.urandom(4).hex()}"  # sortable, never reused
        body = json.dumps(to_dict(snapshot), separators=(",", ":"), ensure_ascii=False)
        head = json.dumps(
            {
                "format": ENTRY_FORMAT,
                "org": org,
                "id": entry_id,
                "harvested_at": snapshot.source.harvested_at,
                "stored_at": when,
                "fingerprint": dict(fingerprint),
            },
            separators=(",", ":"),
        )
        # Small enough for diskcache to keep inside SQLite: replacing it removes no file.
        assert len(head) < 16_384, "the head must stay an inline value"
        cache = self._open()
        try:
            cache.set(_body_key(org, entry_id), body)  # its own commit; no old file touched
            with cache.transact():  # the switch: old harvest until here, new one after
                cache.set(_HEAD + org, head)
                cache.set(_CHECKED + org, when)
            self._sweep(org)  # only now may older bodies go
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from None
        except OSError as exc:
            raise CacheError(f"cannot write to the cache {self.path}: {exc}") from None

    def _sweep(self, org: str, *, everything: bool = False) -> None:
        """Remove the org's bodies older than the one its head names (all with
        ``everything``), and a format-1 entry. A body newer than the head may belong to a
        harvest about to switch, so it stays."""
        cache = self._open()
        current = None
        if not everything:
            head = self.get(org)
            if head is None or head.entry_id is None:
                return
            current = head.entry_id
        prefix = _body_key(org, "")
        for key in list(cache.iterkeys()):
            old = isinstance(key, str) and key.startswith(prefix)
            if old and (current is None or key[len(prefix) :] < current):
                cache.delete(key)
        cache.delete(_LEGACY + org)

    def touch(self, org: str, *, now: float | None = None) -> None:
        """Record that the cached harvest was confirmed current (by a probe)."""
        from metadata.orgurl import normalize_org_url

        cache = self._open()
        try:
            cache.set(_CHECKED + normalize_org_url(org), time.time() if now is None else now)
        except sqlite3.DatabaseError as exc:
            raise self._corrupt(exc) from None

    def delete(self, org: str) -> None:
        """Forget the org's harvest (every entry of it, damaged ones included)."""
        from metadata.orgurl import normalize_org_url

        org = normalize_org_url(org)
        cache = self._open()
        with cache.transact():
            cache.delete(_HEAD + org)
            cache.delete(_CHECKED + org)
        self._sweep(org, everything=True)

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


_HEAD = "head:"
_CHECKED = "checked:"
_LEGACY = "harvest:"  # format 1


def _body_key(org: str, entry_id: str) -> str:
    return f"body:{org} {entry_id}"  # a space never occurs in a normalized org URL


def _checked_at(checked: t.Any, stored: float) -> float:
    if isinstance(checked, (int, float)) and not isinstance(checked, bool):
        return max(float(checked), stored)
    return stored


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
