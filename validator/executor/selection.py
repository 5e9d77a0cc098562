"""Which journal and which data source an executor command means, and opening the journal
the way every command opens it.

The CLI (validator/cli/run.py, get.py, queue.py, sync.py) turns options into these calls and
prints what they return; nothing here prints.
"""

from __future__ import annotations

import os
import typing as t

from metadata.errors import DataUnavailableError, MsgavailError
from validator.executor.journal import Journal, journal_dir, salvage

if t.TYPE_CHECKING:
    from validator.engine import Engine


def exists(name: str, data_dir: str | None) -> bool:
    """Whether journal ``name`` has been created (something was queued for it)."""
    return os.path.isdir(journal_dir(name, data_dir))


def require(name: str, data_dir: str | None) -> str:
    """The directory of journal ``name``; DataUnavailableError when nothing was queued."""
    path = journal_dir(name, data_dir)
    if not os.path.isdir(path):
        raise DataUnavailableError(
            f"no journal {name} in {os.path.dirname(path)}: nothing was queued for it"
        )
    return path


def open_journal(
    name: str,
    data_dir: str | None,
    org: str | None = None,
    *,
    create: bool = True,
) -> tuple[Journal, list[str]]:
    """Journal ``name`` (created when missing only if ``create``; a damaged one is refused by
    Journal.open, never re-created), checked (SQLite's quick check and the counter) and told
    its org. Returns it with the repairs the check made, for the caller to show as warnings."""
    path = require(name, data_dir) if not create else journal_dir(name, data_dir)
    journal = Journal.open(path)
    try:
        # Error messages name the option that selects this journal (`--journal NAME`).
        journal.selector = f" --journal {name}"
        repaired = journal.verify(entries=False)
        journal.remember_org(org)
    except BaseException:
        journal.close()
        raise
    return journal, repaired


def primary_key(engine: Engine, table: str) -> str:
    """The primary id column of ``table``: the harvest's, else Dataverse's ``<table>id``."""
    info = engine.snapshot.table(table)
    return (info.primary_id_attribute if info else None) or f"{table}id"


def export_engine(
    snapshot: str | None, org: str | None, cache_dir: str | os.PathLike[str] | None, path: str
) -> Engine:
    """The data source that names entity sets in an exported plan's binds: as given, else the
    cached harvest of the org the journal at ``path`` remembers, else the published default
    (an export must work from a damaged journal and without a harvest)."""
    from validator.api import load_engine

    if snapshot is None and org is None:
        try:
            org = salvage(path).org
        except Exception:  # an unreadable org entry: fall back to the default
            org = None
    try:
        return load_engine(snapshot=snapshot, org=org, cache_dir=cache_dir)
    except MsgavailError:
        return load_engine()
