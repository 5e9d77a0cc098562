"""The offline executor: a durable journal with a local store, and playback to the Web API.

``run --offline`` lints a plan for offline use and queues it (journal + local store in one
transaction); ``sync`` plays it back idempotently; ``queue`` shows, retries and drops. The same
steps as a library::

    from validator.api import load_engine
    from validator.executor import Journal, SyncOptions, journal_dir, journal_name
    from validator.executor import lint_offline, queue_operations, sync_journal

    engine = load_engine(org=ORG)                       # the org's cached harvest
    outcome = lint_offline("visit.json", engine)
    if any(d.severity == "error" for d in outcome.findings):
        raise SystemExit("\n".join(d.text() for d in outcome.findings))
    with Journal.open(journal_dir(journal_name(ORG))) as journal:
        queue_operations(journal, engine, outcome.operations)
        ...                                             # later, back online:
        report = sync_journal(journal, ORG, SyncOptions())
"""

from validator.executor.enqueue import QueueResult, queue_operations
from validator.executor.gate import LintOutcome, lint_offline
from validator.executor.journal import Journal, Op, journal_dir, journal_name
from validator.executor.playback import SyncOptions, SyncReport, sync_journal

__all__ = [
    "Journal",
    "LintOutcome",
    "Op",
    "QueueResult",
    "SyncOptions",
    "SyncReport",
    "journal_dir",
    "journal_name",
    "lint_offline",
    "queue_operations",
    "sync_journal",
]
