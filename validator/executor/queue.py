"""What the queue commands decide: which journal a data source names, which operations can be
retried, dropped or pruned, and the ways out of a damaged journal (export, repair).

The CLI renders these results and maps them to exit statuses; nothing here prints.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import typing as t

from metadata.errors import ConfigError, JournalError
from validator.executor.journal import (
    Damage,
    Journal,
    LocalRecord,
    Op,
    journal_name,
    lock_playback,
    salvage,
)

if t.TYPE_CHECKING:
    from validator.engine import Engine

Action = t.Literal["retry", "drop", "prune"]
# Which states each action may choose: given no SEQ, and given SEQ numbers explicitly.
CHOOSABLE: dict[Action, tuple[frozenset[str], frozenset[str]]] = {
    "retry": (frozenset({"parked"}), frozenset({"parked"})),
    "drop": (frozenset({"parked"}), frozenset({"parked", "pending"})),
    "prune": (frozenset({"done", "dropped"}), frozenset({"done", "dropped"})),
}
OPEN_STATES = frozenset({"pending", "in-flight", "parked"})  # still to be played back
UNFINISHED = ("done", "dropped")


def name_for(org: str | None = None, snapshot: str | None = None, name: str | None = None) -> str:
    """The journal a command means: ``name`` as given, else the org's (``org``, or the org a
    snapshot file was exported from), else ``local``."""
    if name:
        return name
    if org is None and snapshot is not None:
        from metadata import snapshot as snapshot_file

        org = snapshot_file.read(snapshot).source.org
    return journal_name(org)


def choose(journal: Journal, action: Action, seqs: t.Sequence[int] = ()) -> list[Op]:
    """The operations ``action`` applies to: every one in a state it takes, or ``seqs``
    (each must exist and be in a state it takes when named)."""
    every, named = CHOOSABLE[action]
    if not seqs:
        return journal.ops(every)
    chosen: list[Op] = []
    for seq in seqs:
        op = journal.get(seq)
        if op is None:
            raise ConfigError(f"no operation #{seq} in the journal")
        if op["state"] not in named:
            raise ConfigError(
                f"operation #{seq} is {op['state']}; only {'/'.join(sorted(named))} ones can be"
                " chosen here"
            )
        chosen.append(op)
    return chosen


def retry(journal: Journal, ops: t.Sequence[Op]) -> None:
    """Back in line for the next sync."""
    journal.set_state(ops, "pending")


def drop(journal: Journal, ops: t.Sequence[Op]) -> None:
    """Never to be sent (kept in the journal, marked dropped)."""
    journal.set_state(ops, "dropped")


# -- ways out of a damaged journal -------------------------------------------------------------
class Export(t.NamedTuple):
    plan: dict[str, t.Any]  # a native plan: `msgavail run FILE --offline` queues it again
    exported: int
    damaged: tuple[Damage, ...]
    skipped: int  # done or dropped: nothing left to play back


def export_plan(
    directory: str, engine: Engine | None = None, *, include_finished: bool = False
) -> Export:
    """Every readable operation still to be played back, as a plan that re-queues it.

    Read row by row (``salvage``), so a journal SQLite itself reports as damaged still gives
    up what can be read. Creates keep their ids (a replay of one the server already has is
    recognised), labels are already resolved into ids, binds become ``/set(id)`` paths.
    """
    found = salvage(directory)
    out: list[dict[str, t.Any]] = []
    skipped = 0
    for op in found.ops:
        if op["state"] not in OPEN_STATES and not include_finished:
            skipped += 1
            continue
        out.append(plan_operation(op, engine))
    plan = {
        "x-msgavail-export": {
            "journal": os.path.basename(directory),
            "org": found.org,
            "exported_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "unreadable": [d.text() for d in found.damaged],
        },
        "operations": out,
    }
    return Export(plan, len(out), tuple(found.damaged), skipped)


def plan_operation(op: Op, engine: Engine | None) -> dict[str, t.Any]:
    """One journal entry as the plan operation that queues it again."""
    entry: dict[str, t.Any] = {"message": op["message"]}
    for key in ("table", "secondary_table", "id"):
        if op.get(key):
            entry[key] = op[key]
    data = dict(op.get("data") or {})
    for nav, target in (op.get("binds") or {}).items():
        entity_set = target.get("entity_set") or _entity_set(engine, target.get("table"))
        data[f"{nav}@odata.bind"] = f"/{entity_set}({target['id']})"
    if op.get("etag"):
        data["@odata.etag"] = op["etag"]
    if data:
        entry["data"] = data
    if op.get("parameters") and op["message"].lower() != "setstate":
        entry["parameters"] = op["parameters"]
    if op.get("relationship"):
        entry["relationship"] = op["relationship"]
    if op.get("related"):
        entry["related"] = [dict(op["related"])]  # type: ignore[arg-type]
    entry["x-msgavail-seq"] = op["seq"]
    entry["x-msgavail-state"] = op["state"]
    return entry


def _entity_set(engine: Engine | None, table: str | None) -> str:
    info = engine.snapshot.table(table) if engine is not None and table else None
    if info is None or not info.entity_set_name:
        raise JournalError(
            f"cannot export a reference to a {table} record: the data source has no entity set "
            "for that table (pass the org's --org or --snapshot)"
        )
    return info.entity_set_name


class Repair(t.NamedTuple):
    moved_to: str
    readable: bool  # False: there was no database to read anything from
    kept: int
    records: int
    damaged: tuple[Damage, ...]
    counter: int
    missing: tuple[tuple[int, int], ...]  # seq ranges absent: pruned before, or lost to damage


def repair(directory: str) -> Repair:
    """Move a damaged journal aside (kept, for a closer look) and put in its place a new one
    with every readable operation (same sequence numbers and states) and local record."""
    found = salvage(directory) if _has_db(directory) else None
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    aside = f"{directory}.damaged-{stamp}"
    os.rename(directory, aside)
    if found is None:
        return Repair(aside, False, 0, 0, (), 0, ())
    highest = max((op["seq"] for op in found.ops), default=0)
    counter = max(found.counter, highest, *(d.seq or 0 for d in found.damaged))
    with Journal.open(directory) as fresh:
        with fresh.transaction():
            fresh.restore(found.ops, counter)
            fresh.put_records(_valid_records(found.records))
        fresh.remember_org(found.org)
    present = {op["seq"] for op in found.ops} | {d.seq for d in found.damaged if d.seq}
    missing = _ranges(seq for seq in range(1, counter + 1) if seq not in present)
    return Repair(
        aside, True, len(found.ops), len(found.records), tuple(found.damaged), counter, missing
    )


def _ranges(seqs: t.Iterable[int]) -> tuple[tuple[int, int], ...]:
    out: list[list[int]] = []
    for seq in seqs:
        if out and out[-1][1] == seq - 1:
            out[-1][1] = seq
        else:
            out.append([seq, seq])
    return tuple((a, b) for a, b in out)


@contextlib.contextmanager
def playback_lock(directory: str) -> t.Iterator[None]:
    """The journal's playback lock, without opening it (it may be too damaged to open)."""
    fd = lock_playback(directory)
    try:
        yield
    finally:
        os.close(fd)


def _has_db(directory: str) -> bool:
    from validator.executor.journal import DBNAME

    path = os.path.join(directory, DBNAME)
    return os.path.isfile(path) and os.path.getsize(path) > 0


def _valid_records(recs: t.Iterable[LocalRecord]) -> list[LocalRecord]:
    return [r for r in recs if isinstance(r, dict) and "table" in r and "id" in r]
