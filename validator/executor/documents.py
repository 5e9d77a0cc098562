"""What `run` and `queue` report: which findings stop a plan from being queued, which
operations a queue listing shows, and the JSON documents (version 1) both commands print.

The CLI renders these (text or JSON) and maps them to exit statuses; nothing here prints.
"""

from __future__ import annotations

import os
import typing as t

from validator.executor.gate import UNAVAILABLE_CODES
from validator.executor.queue import OPEN_STATES

if t.TYPE_CHECKING:
    from validator.executor.enqueue import Skipped
    from validator.executor.journal import Journal, Op, Scan
    from validator.linter.diagnostics import Diagnostic


class Admission(t.NamedTuple):
    """The gate's findings, sorted into what stops the whole plan and what is skipped."""

    blocking: tuple[Diagnostic, ...]
    """Errors that stop every operation of the plan from being queued."""
    skip: dict[int, str]
    """Operation index -> "CODE message": skipped (with ``--skip-unavailable``), not queued."""


def admit(findings: t.Iterable[Diagnostic], *, skip_unavailable: bool) -> Admission:
    """Any error blocks the plan, except, with ``skip_unavailable``, an operation that only
    cannot run offline (UNAVAILABLE_CODES): that one is skipped and the rest queued."""
    errors = [f for f in findings if f.severity == "error"]
    blocking = tuple(f for f in errors if not (skip_unavailable and f.code in UNAVAILABLE_CODES))
    return Admission(blocking, {f.operation: f"{f.code} {f.message}" for f in errors})


def listed(ops: t.Iterable[Op], *, show_all: bool = False) -> list[Op]:
    """What `queue` lists: the operations still to be played back (pending, in flight,
    parked), or every one with ``show_all``."""
    return [op for op in ops if show_all or op["state"] in OPEN_STATES]


def journal_json(journal: Journal) -> dict[str, t.Any]:
    return {
        "name": os.path.basename(journal.directory),
        "org": journal.org,
        "path": journal.directory,
    }


def run_json(
    journal: Journal | None,
    queued: t.Sequence[Op],
    skipped: t.Sequence[Skipped],
    findings: t.Sequence[Diagnostic],
) -> dict[str, t.Any]:
    """`run --format json`: the journal (None when nothing could be queued), what was queued
    and skipped, and every finding of the gate."""
    return {
        "version": 1,
        "journal": journal_json(journal) if journal else None,
        "queued": [dict(op) for op in queued],
        "skipped": [s._asdict() for s in skipped],
        "diagnostics": [f._asdict() for f in findings],
    }


def queue_json(
    journal: Journal | None, found: Scan | None, shown: t.Sequence[Op]
) -> dict[str, t.Any]:
    """`queue --format json`: counts per state, the listed operations, and the entries that
    could not be read (``damaged``, only when there are any)."""
    doc: dict[str, t.Any] = {
        "version": 1,
        "journal": journal_json(journal) if journal else None,
        "counts": found.counts() if found else {},
        "operations": [dict(op) for op in shown],
    }
    if found and found.damaged:
        doc["damaged"] = [d._asdict() for d in found.damaged]
    return doc
