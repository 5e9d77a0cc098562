"""The library calls a user makes before running an operation."""

from __future__ import annotations

import os
import typing as t

from metadata.model import Mode
from validator.engine import Engine, Verdict

_default: Engine | None = None


def load_engine(
    *,
    snapshot: str | os.PathLike[str] | None = None,
    org: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Engine:
    """An Engine over a snapshot file, an org's cached harvest, or the published default."""
    from metadata.sources import load_snapshot

    return Engine(load_snapshot(snapshot=snapshot, org=org, cache_dir=cache_dir))


def default_engine() -> Engine:
    """The Engine over the embedded published default, loaded once per process."""
    global _default
    if _default is None:
        _default = load_engine()
    return _default


def check(
    message: str,
    table: str | None = None,
    secondary: str | None = None,
    mode: Mode = "offline",
    *,
    ownership: str | None = None,
    profile: str | None = None,
    engine: Engine | None = None,
) -> Verdict:
    """Answer one question against ``engine`` (default: the published default).

    ``mode="mobile"`` answers for the Power Apps mobile client and the mobile offline
    ``profile`` (case-insensitive; the only one in the data when not given); the engine's data
    must carry profiles (an org harvest or a snapshot exported from one).

    >>> check("Create", "queue").available
    False
    """
    return (engine or default_engine()).check(
        message, table, secondary, mode, ownership=ownership, profile=profile
    )


__all__: t.Sequence[str] = ("check", "default_engine", "load_engine")
