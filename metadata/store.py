"""The diskcache-backed store of harvested snapshots (filled in by the harvester)."""

from __future__ import annotations

import os

from metadata.errors import DataUnavailableError
from metadata.model import Snapshot


class Store:
    """Owns the cache directory. Only a placeholder until the harvester lands."""

    def __init__(self, directory: str | None) -> None:
        self.directory = directory

    @classmethod
    def open(cls, directory: str | os.PathLike[str] | None = None) -> Store:
        return cls(os.fspath(directory) if directory is not None else None)

    def cached_snapshot(self, org: str) -> Snapshot:
        raise DataUnavailableError(
            f"no cached harvest for {org}: run `msgavail harvest --org {org}` first"
        )
