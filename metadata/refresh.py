"""Deciding between the cache, a probe and a full harvest (what ``msgavail harvest`` does).

* ``offline``: never touch the network; answer from the cache or fail.
* Within the TTL of the last confirmation: answer from the cache, no request.
* After the TTL: probe (five small requests); unchanged -> confirm the cache; else harvest.
* ``force``: harvest.
* The network fails and a harvest is cached: use it, with a warning giving its age.
* A damaged cache: say so (warning) and rebuild it by harvesting.
Warnings are returned as data; the CLI prints them.
"""

from __future__ import annotations

import datetime as _dt
import time
import typing as t

from metadata.errors import (
    CacheError,
    CacheLocationError,
    DataUnavailableError,
    ServerError,
    ThrottledError,
    TransportError,
)
from metadata.model import Snapshot
from metadata.orgurl import normalize_org_url

if t.TYPE_CHECKING:
    from metadata.harvest import Progress
    from metadata.store import CachedHarvest, Store
    from metadata.webapi import WebAPIClient

DEFAULT_TTL_SECONDS = 24 * 3600.0

Action = t.Literal["cached", "unchanged", "harvested", "fallback"]


class RefreshOutcome(t.NamedTuple):
    org: str
    snapshot: Snapshot
    action: Action
    requests: int
    warnings: tuple[str, ...] = ()
    skipped_filters: int = 0
    checked_at: float | None = None  # when the answer was last confirmed current (epoch s)


def describe_age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{int(seconds)} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600, 1):g} h"
    return f"{round(seconds / 86400, 1):g} days"


def harvest_age(harvested_at: str | None, now: float) -> float | None:
    if not harvested_at:
        return None
    try:
        when = _dt.datetime.fromisoformat(harvested_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return now - when.timestamp()


def refresh(
    org: str,
    *,
    store: Store,
    client_factory: t.Callable[[], WebAPIClient],
    ttl: float = DEFAULT_TTL_SECONDS,
    force: bool = False,
    offline: bool = False,
    progress: Progress | None = None,
    clock: t.Callable[[], float] = time.time,
) -> RefreshOutcome:
    org = normalize_org_url(org)
    warnings: list[str] = []
    # Only the small header is read to decide; the snapshot body (megabytes) is read at most
    # once, and only on the paths that answer from the cache.
    cached = _read(store, org, warnings, offline=offline)
    snapshot: Snapshot | None

    if offline:
        if cached is None:
            raise DataUnavailableError(
                f"no cached harvest for {org} and --offline forbids the network: "
                f"run `msgavail harvest --org {org}` while online"
            )
        age = harvest_age(cached.harvested_at, clock())
        if age is not None and age > ttl:
            warnings.append(
                f"the cached harvest of {org} is {describe_age(age)} old "
                f"(harvested {cached.harvested_at}); --offline did not refresh it"
            )
        # Damage is an error here: --offline cannot rebuild.
        return RefreshOutcome(
            org, cached.snapshot, "cached", 0, tuple(warnings), checked_at=cached.checked_at
        )

    if not force and cached is not None and clock() - cached.checked_at < ttl:
        snapshot = _body(store, cached, warnings)
        if snapshot is not None:
            return RefreshOutcome(
                org, snapshot, "cached", 0, tuple(warnings), checked_at=cached.checked_at
            )

    from metadata.harvest import harvest, probe

    with store.lock(org):
        # Another process may have harvested while this one waited for the lock.
        latest = _read(store, org, warnings, offline=False)
        newer = latest is not None and (cached is None or latest.stored_at > cached.stored_at)
        if newer and latest is not None and clock() - latest.checked_at < ttl:
            snapshot = _body(store, latest, warnings)
            if snapshot is not None:
                return RefreshOutcome(
                    org, snapshot, "cached", 0, tuple(warnings), checked_at=latest.checked_at
                )
            latest = None
        cached = latest
        client = client_factory()
        try:
            if cached is not None and not force:
                fingerprint = probe(client)
                if fingerprint == cached.fingerprint:
                    snapshot = _body(store, cached, warnings)
                    if snapshot is not None:
                        now = clock()
                        store.touch(org, now=now)
                        return RefreshOutcome(
                            org,
                            snapshot,
                            "unchanged",
                            client.requests_sent,
                            tuple(warnings),
                            checked_at=now,
                        )
                    cached = None
            result = harvest(client, progress=progress)
            now = clock()
            store.put(org, result.snapshot, result.fingerprint, now=now)
            return RefreshOutcome(
                org,
                result.snapshot,
                "harvested",
                client.requests_sent,
                tuple(warnings),
                result.skipped_filters,
                checked_at=now,
            )
        except (TransportError, ServerError, ThrottledError) as exc:
            if cached is None:
                raise
            snapshot = _body(store, cached, warnings)
            if snapshot is None:
                raise
            age = harvest_age(cached.harvested_at, clock())
            warnings.append(
                f"could not refresh {org} ({exc}); using the cached harvest from "
                f"{cached.harvested_at}"
                + (f" ({describe_age(age)} old)" if age is not None else "")
            )
            return RefreshOutcome(
                org,
                snapshot,
                "fallback",
                client.requests_sent,
                tuple(warnings),
                checked_at=cached.checked_at,
            )
        finally:
            client.close()


def _body(store: Store, cached: CachedHarvest, warnings: list[str]) -> Snapshot | None:
    """The cached snapshot, or None when its body is damaged (then recovered: the caller
    harvests anew)."""
    try:
        return cached.snapshot
    except CacheLocationError:
        raise
    except CacheError as exc:
        warnings.append(f"{exc}; re-harvesting")
        store.recover(cached.org)
        return None


def _read(store: Store, org: str, warnings: list[str], *, offline: bool) -> CachedHarvest | None:
    try:
        return store.get(org)
    except CacheLocationError:
        raise  # a path to fix, not damage a new harvest repairs
    except CacheError as exc:
        if offline:
            raise
        warnings.append(f"{exc}; re-harvesting")
        store.recover(org)
        return store.get(org)
