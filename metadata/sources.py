"""Choosing the data source: a snapshot file, an org's cached harvest, or the published default.

The order is fixed by the CLI contract: ``--snapshot FILE`` (``MSGAVAIL_SNAPSHOT``), then
``--org URL`` (``MSGAVAIL_ORG``), then the embedded published default.
"""

from __future__ import annotations

import os

from metadata.model import Snapshot


def load_snapshot(
    *,
    snapshot: str | os.PathLike[str] | None = None,
    org: str | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Snapshot:
    """Load the facts a command should use, from the first source given."""
    if snapshot is not None:
        from metadata import snapshot as snapshot_file

        return snapshot_file.read(snapshot)
    if org is not None:
        from metadata.store import Store

        with Store.open(cache_dir) as store:
            return store.cached_snapshot(org)
    from metadata import published

    return published.load()
