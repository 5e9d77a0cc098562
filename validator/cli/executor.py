"""``msgavail run / get / sync / queue``: the offline executor's commands.

``run PLAN --offline`` lints the plan for offline use and queues it (local store + journal in
one transaction); ``get`` reads the local store; ``sync`` plays the journal back to the org;
``queue`` shows, retries and drops queued operations. Journals live in the user's data
directory (``--data-dir`` / ``MSGAVAIL_DATA_DIR`` override it), one per org.
"""

from __future__ import annotations

import json
import typing as t

import click

from validator.cli import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK
from validator.cli.options import (
    cache_dir_option,
    data_dir_option,
    data_source_options,
    format_option,
    journal_option,
    offline_mode_option,
    org_option,
    retries_option,
    snapshot_option,
)

if t.TYPE_CHECKING:
    from validator.executor.journal import Journal, Op

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def _path(name: str, data_dir: str | None) -> str:
    from validator.executor.journal import journal_dir

    return journal_dir(name, data_dir)


def _exists(name: str, data_dir: str | None) -> bool:
    import os

    return os.path.isdir(_path(name, data_dir))


def _open(
    name: str,
    data_dir: str | None,
    org: str | None = None,
    *,
    create: bool = True,
    selector: str | None = None,
) -> Journal:
    """The journal ``name``; a missing one is created only when ``create`` (a damaged one is
    refused by Journal.open, never re-created)."""
    import os

    from metadata.errors import DataUnavailableError
    from validator.executor.journal import Journal

    path = _path(name, data_dir)
    if not create and not os.path.isdir(path):
        raise DataUnavailableError(
            f"no journal {name} in {os.path.dirname(path)}: nothing was queued for it"
        )
    journal = Journal.open(path)
    try:
        journal.selector = f" --journal {name}" if selector is None else selector
        # Every command checks the pages (SQLite's quick check) and the counter first.
        for repaired in journal.verify(entries=False):
            click.echo(f"msgavail: warning: {repaired}", err=True)
        journal.remember_org(org)
    except BaseException:
        journal.close()
        raise
    return journal


def _name_for(org: str | None, snapshot: str | None, journal_name: str | None) -> str:
    from validator.executor.queue import name_for

    return name_for(org, snapshot, journal_name)


def _short(op: Op) -> str:
    target = op.get("table") or ""
    if op.get("id"):
        target += f"({op['id']})"
    rel = op.get("related")
    if rel:
        target += f" {op.get('relationship')} -> {rel['table']}({rel['id']})"
    label = f" [{op['label']}]" if op.get("label") else ""
    return f"#{op['seq']} {op['message']} {target}{label}".rstrip()


# -- run -----------------------------------------------------------------------------------
@click.command()
@click.argument("plan", type=click.Path(dir_okay=False))
@click.option("--offline", is_flag=True, help="Queue the operations for a later `sync`.")
@click.option(
    "--skip-unavailable",
    is_flag=True,
    help="Queue what works offline and report the operations that do not (exit 0).",
)
@offline_mode_option
@format_option()
@data_dir_option
@data_source_options
def run(
    plan: str,
    offline: bool,
    skip_unavailable: bool,
    mode: t.Literal["offline", "mobile"],
    profile: str | None,
    fmt: str,
    data_dir: str | None,
    snapshot: str | None,
    org: str | None,
    cache_dir: str | None,
) -> int:
    """Queue PLAN's operations while offline.

    The plan is linted for offline mode first (--mode mobile: for Power Apps mobile offline
    and the --profile's tables), against the data source's availability facts (--snapshot
    FILE, --org URL's cached harvest, or the published default); nothing touches the network.
    On any error nothing is queued and the diagnostics are shown (exit 1).
    Creates without an id get one; "$label" refers to an earlier operation's record.
    """
    if not offline:
        raise click.UsageError(
            "run only queues operations for later playback: pass --offline "
            "(and `msgavail sync --org URL` once connected)"
        )
    from validator.api import load_engine
    from validator.executor.enqueue import queue_operations
    from validator.executor.gate import UNAVAILABLE_CODES, lint_offline
    from validator.executor.journal import journal_name

    engine = load_engine(snapshot=snapshot, org=org, cache_dir=cache_dir)
    outcome = lint_offline(plan, engine, mode=mode, profile=profile)
    errors = [f for f in outcome.findings if f.severity == "error"]
    blocking = [f for f in errors if not (skip_unavailable and f.code in UNAVAILABLE_CODES)]
    if blocking:
        if fmt == "json":
            click.echo(json.dumps(_run_json(None, [], [], outcome.findings), indent=2))
        else:
            for f in outcome.findings:
                click.echo(f.text())
            click.echo(
                f"nothing queued: {len(blocking)} error(s) in {plan}"
                + ("" if skip_unavailable else " (--skip-unavailable queues the rest)"),
                err=True,
            )
        return EXIT_FINDINGS
    skip = {f.operation: f"{f.code} {f.message}" for f in errors}
    target_org = org or engine.source.org
    with _open(journal_name(target_org), data_dir, target_org) as journal:
        journal.verify()  # no appending to a journal with damaged entries (exit 2)
        result = queue_operations(journal, engine, outcome.operations, skip)
        if fmt == "json":
            doc = _run_json(journal, result.queued, result.skipped, outcome.findings)
            click.echo(json.dumps(doc, indent=2))
            return EXIT_OK
        for f in outcome.findings:
            if f.severity == "warning":
                click.echo(f.text())
        if result.skipped:
            click.echo(f"skipped {len(result.skipped)} operation(s):")
            for s in result.skipped:
                click.echo(f"  {plan}:{s.line}:{s.column}: operation {s.operation + 1}: {s.reason}")
        if result.queued:
            first, last = result.queued[0]["seq"], result.queued[-1]["seq"]
            click.echo(
                f"queued {len(result.queued)} operation(s) (#{first}-#{last}) in journal "
                f"{_journal_label(journal)}"
            )
            for op in result.queued[:20]:
                click.echo(f"  {_short(op)}")
            if len(result.queued) > 20:
                click.echo(f"  ... and {len(result.queued) - 20} more (`msgavail queue`)")
            if journal.org:
                click.echo(f"play them back with: msgavail sync --org {journal.org}")
        else:
            click.echo("nothing queued")
    return EXIT_OK


def _journal_label(journal: Journal) -> str:
    import os

    name = os.path.basename(journal.directory)
    return f"{name} ({journal.directory})"


def _run_json(
    journal: Journal | None,
    queued: t.Sequence[Op],
    skipped: t.Sequence[t.Any],
    findings: t.Sequence[t.Any],
) -> dict[str, t.Any]:
    return {
        "version": 1,
        "journal": _journal_json(journal) if journal else None,
        "queued": [dict(op) for op in queued],
        "skipped": [s._asdict() for s in skipped],
        "diagnostics": [f._asdict() for f in findings],
    }


def _journal_json(journal: Journal) -> dict[str, t.Any]:
    import os

    return {
        "name": os.path.basename(journal.directory),
        "org": journal.org,
        "path": journal.directory,
    }


# -- get -----------------------------------------------------------------------------------
@click.command()
@click.argument("table")
@click.argument("record_id", metavar="[ID]", required=False)
@click.option("--where", multiple=True, metavar="COLUMN=VALUE", help="Equality filter (ANDed).")
@format_option(("json", "text"), default="json")
@journal_option
@data_dir_option
@data_source_options
def get(
    table: str,
    record_id: str | None,
    where: tuple[str, ...],
    fmt: str,
    journal_name: str | None,
    data_dir: str | None,
    snapshot: str | None,
    org: str | None,
    cache_dir: str | None,
) -> int:
    """Read records from the offline store: TABLE ID, or TABLE --where COLUMN=VALUE.

    Answers from what was queued offline (your own writes), never from the network.
    Exit 1 when nothing matches.
    """
    from validator.api import load_engine
    from validator.executor import local

    conditions = local.parse_where(where)
    engine = load_engine(snapshot=snapshot, org=org, cache_dir=cache_dir)
    logical = engine.names.table(table)
    info = engine.snapshot.table(logical)
    pk = (info.primary_id_attribute if info else None) or f"{logical}id"
    name = _name_for(org or engine.source.org, None, journal_name)
    rows: list[t.Any] = []
    if _exists(name, data_dir):
        with _open(name, data_dir) as journal:
            if record_id is not None:
                rec = local.retrieve(journal, logical, record_id)
                rows = [rec] if rec is not None and local.matches(rec, conditions) else []
            else:
                rows = local.retrieve_multiple(journal, logical, conditions)
    shaped = [local.shape(r, pk) for r in rows]
    if fmt == "json":
        if record_id is not None:
            click.echo(json.dumps(shaped[0] if shaped else None, indent=2))
        else:
            click.echo(json.dumps({"value": shaped}, indent=2))
    else:
        for row in shaped:
            click.echo(" ".join(f"{k}={v}" for k, v in row.items()))
    if not shaped:
        what = f"{logical}({record_id})" if record_id else f"{logical} matching {list(where)}"
        click.echo(f"no {what} in the local store", err=True)
        return EXIT_FINDINGS
    return EXIT_OK


# -- queue ---------------------------------------------------------------------------------
def _journal_for(
    journal_name: str | None, org: str | None, snapshot: str | None, data_dir: str | None
) -> Journal:
    return _open(_name_for(org, snapshot, journal_name), data_dir, org, create=False)


def queue_selection(func: F) -> F:
    func = journal_option(func)
    func = data_dir_option(func)
    func = org_option(help="The org's journal.")(func)
    func = snapshot_option(help="The journal of the org this snapshot came from.")(func)
    return func


@click.group(invoke_without_command=True)
@format_option()
@click.option("--all", "show_all", is_flag=True, help="Also list operations already applied.")
@queue_selection
@click.pass_context
def queue(
    ctx: click.Context,
    fmt: str,
    show_all: bool,
    journal_name: str | None,
    data_dir: str | None,
    org: str | None,
    snapshot: str | None,
) -> int:
    """Inspect, retry, drop, export or repair queued operations.

    Without a subcommand, lists the operations not yet applied: pending, in flight (a sync
    was interrupted) and parked (the server refused them; see the error, fix the cause, then
    `queue retry`). A damaged journal lists what it can still read and exits 2.
    """
    if ctx.invoked_subcommand is not None:
        return EXIT_OK
    name = _name_for(org, snapshot, journal_name)
    if not _exists(name, data_dir):
        if fmt == "json":
            doc: dict[str, t.Any] = {"version": 1, "journal": None, "counts": {}, "operations": []}
            click.echo(json.dumps(doc, indent=2))
        else:
            click.echo(f"nothing queued (no journal {name} yet)")
        return EXIT_OK
    with _journal_for(journal_name, org, snapshot, data_dir) as journal:
        found = journal.scan()
        counts = found.counts()
        shown = [op for op in found.ops if show_all or op["state"] not in ("done", "dropped")]
        if fmt == "json":
            doc = {
                "version": 1,
                "journal": _journal_json(journal),
                "counts": counts,
                "operations": [dict(op) for op in shown],
            }
            if found.damaged:
                doc["damaged"] = [d._asdict() for d in found.damaged]
            click.echo(json.dumps(doc, indent=2))
        else:
            summary = ", ".join(f"{n} {s}" for s, n in counts.items()) or "empty"
            click.echo(f"journal {_journal_label(journal)}: {summary}")
            if journal.org:
                click.echo(f"org: {journal.org}")
            for op in shown:
                click.echo(_queue_line(op))
        if found.damaged:
            raise journal.damaged_error(found.damaged)
    return EXIT_OK


def _queue_line(op: Op) -> str:
    line = f"{op['state']:<9} {_short(op)}"
    if op.get("attempts"):
        line += f"  attempts={op['attempts']}"
    err = op.get("last_error")
    if err and op["state"] in ("parked", "pending", "in-flight"):
        status = err.get("status")
        code = f" {err['code']}" if err.get("code") else ""
        what = f"HTTP {status}" if status else "error"
        line += f"\n          {what}{code}: {err.get('message')}"
    if op.get("note") and op["state"] == "done":
        line += f"  ({op['note']})"
    return line


@queue.command()
@click.argument("seqs", nargs=-1, type=int, metavar="[SEQ]...")
@queue_selection
def retry(
    seqs: tuple[int, ...],
    journal_name: str | None,
    data_dir: str | None,
    org: str | None,
    snapshot: str | None,
) -> int:
    """Put parked operations (all of them, or SEQ...) back in line for the next sync."""
    from validator.executor import queue as q

    with _journal_for(journal_name, org, snapshot, data_dir) as journal:
        journal.acquire_playback_lock()  # not while a sync is playing these operations
        chosen = q.choose(journal, "retry", seqs)
        if not chosen:
            click.echo("no parked operations")
            return EXIT_OK
        q.retry(journal, chosen)
        for op in chosen:
            click.echo(f"pending   {_short(op)}")
        click.echo(f"{len(chosen)} operation(s) will be retried by the next `msgavail sync`")
    return EXIT_OK


@queue.command()
@click.argument("seqs", nargs=-1, type=int, metavar="[SEQ]...")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@queue_selection
def drop(
    seqs: tuple[int, ...],
    yes: bool,
    journal_name: str | None,
    data_dir: str | None,
    org: str | None,
    snapshot: str | None,
) -> int:
    """Give up on operations (SEQ..., or every parked one): they will never be sent.

    Dropped operations stay in the journal, marked dropped (see `queue --all`).
    """
    from validator.executor import queue as q

    with _journal_for(journal_name, org, snapshot, data_dir) as journal:
        journal.acquire_playback_lock()  # not while a sync is playing these operations
        chosen = q.choose(journal, "drop", seqs)
        if not chosen:
            click.echo("nothing to drop")
            return EXIT_OK
        for op in chosen:
            click.echo(f"will drop {_short(op)}")
        if not yes and not click.confirm(
            f"Drop {len(chosen)} operation(s)? They will never reach the server", default=False
        ):
            click.echo("nothing dropped")
            return EXIT_FINDINGS
        q.drop(journal, chosen)
        click.echo(f"dropped {len(chosen)} operation(s)")
    return EXIT_OK


@queue.command()
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@queue_selection
def prune(
    yes: bool,
    journal_name: str | None,
    data_dir: str | None,
    org: str | None,
    snapshot: str | None,
) -> int:
    """Forget operations that are done or dropped (the journal keeps them until then).

    Pending, in-flight and parked operations are never pruned; sequence numbers are not reused.
    """
    from validator.executor import queue as q

    with _journal_for(journal_name, org, snapshot, data_dir) as journal:
        journal.acquire_playback_lock()
        finished = q.choose(journal, "prune")
        if not finished:
            click.echo("nothing to prune")
            return EXIT_OK
        if not yes and not click.confirm(
            f"Forget {len(finished)} finished operation(s)?", default=False
        ):
            click.echo("nothing pruned")
            return EXIT_FINDINGS
        click.echo(f"pruned {journal.forget(finished)} finished operation(s)")
    return EXIT_OK


@queue.command(name="export")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    required=True,
    help="The plan file to write (refused if it exists).",
)
@click.option("--all", "include_finished", is_flag=True, help="Also operations already applied.")
@queue_selection
@cache_dir_option()
def export(
    output: str,
    include_finished: bool,
    journal_name: str | None,
    data_dir: str | None,
    org: str | None,
    snapshot: str | None,
    cache_dir: str | None,
) -> int:
    """Save every readable operation still to be played back as a plan file.

    Works on a damaged journal too: what can be read is saved, what cannot is named (exit 1).
    `msgavail run FILE --offline` queues the plan again (creates keep their ids, so one the
    server already has is recognised, not duplicated).
    """
    import os

    from metadata.errors import ConfigError, DataUnavailableError
    from metadata.fsutil import atomic_write_text
    from validator.executor import queue as q

    name = _name_for(org, snapshot, journal_name)
    path = _path(name, data_dir)
    if not os.path.isdir(path):
        raise DataUnavailableError(f"no journal {name} in {os.path.dirname(path)}")
    if os.path.exists(output):
        raise ConfigError(f"{output} exists; export writes a new file (choose another name)")
    result = q.export_plan(path, _export_engine(snapshot, org, cache_dir, path))
    atomic_write_text(output, json.dumps(result.plan, indent=2) + "\n")
    click.echo(
        f"exported {result.exported} operation(s) from journal {name} to {output}"
        + (f" ({result.skipped} done or dropped left out)" if result.skipped else "")
    )
    if result.damaged:
        click.echo(
            f"msgavail: warning: {len(result.damaged)} entr(y/ies) could not be read and are "
            "not in the export: " + ", ".join(d.text() for d in result.damaged[:10]),
            err=True,
        )
        return EXIT_FINDINGS
    return EXIT_OK


def _export_engine(
    snapshot: str | None, org: str | None, cache_dir: str | None, path: str
) -> t.Any:
    """The data source that names entity sets for binds: as given, else the journal's org's
    cached harvest, else the published default."""
    from metadata.errors import MsgavailError
    from validator.api import load_engine
    from validator.executor.journal import salvage

    if snapshot is None and org is None:
        try:
            org = salvage(path).org
        except Exception:  # an unreadable org entry: fall back to the default
            org = None
    try:
        return load_engine(snapshot=snapshot, org=org, cache_dir=cache_dir)
    except MsgavailError:
        return load_engine()


@queue.command()
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@queue_selection
def repair(
    yes: bool,
    journal_name: str | None,
    data_dir: str | None,
    org: str | None,
    snapshot: str | None,
) -> int:
    """Move a damaged journal aside and keep every readable operation in a new one.

    Operations keep their sequence numbers and states, and local records are kept; the
    damaged copy stays beside it (NAME.damaged-TIME) and the operations that could not be
    read are named (exit 1 when there are any).
    """
    import os

    from metadata.errors import DataUnavailableError
    from validator.executor import queue as q

    name = _name_for(org, snapshot, journal_name)
    path = _path(name, data_dir)
    if not os.path.isdir(path):
        raise DataUnavailableError(f"no journal {name} in {os.path.dirname(path)}")
    if not yes and not click.confirm(
        f"Move journal {name} aside and rebuild it from what is readable?", default=False
    ):
        click.echo("nothing changed")
        return EXIT_FINDINGS
    with q.playback_lock(path):
        result = q.repair(path)
    click.echo(f"moved the damaged journal to {result.moved_to}")
    if not result.readable:
        click.echo(
            f"msgavail: warning: journal {name} had no readable database: nothing could be "
            "kept (restore its cache.db from a backup into a journal directory to recover)",
            err=True,
        )
        return EXIT_FINDINGS
    click.echo(
        f"journal {name} now holds {result.kept} operation(s) and {result.records} local "
        f"record(s); the next operation is #{result.counter + 1}"
    )
    status = EXIT_OK
    if result.damaged:
        click.echo(
            f"msgavail: warning: {len(result.damaged)} entr(y/ies) could not be read: "
            + ", ".join(d.text() for d in result.damaged[:10])
            + f" (still in {result.moved_to})",
            err=True,
        )
        status = EXIT_FINDINGS
    if result.missing:
        spans = ", ".join(f"#{a}" if a == b else f"#{a}-#{b}" for a, b in result.missing[:10])
        click.echo(
            f"msgavail: warning: operations {spans} are not in the journal: pruned earlier, "
            f"or lost with the damaged pages (see {result.moved_to})",
            err=True,
        )
        status = EXIT_FINDINGS
    return status


# -- sync ----------------------------------------------------------------------------------
@click.command()
@org_option(required=True, help="The org.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help="Operations per $batch request (1 sends one request per operation).",
)
@click.option(
    "--bulk/--no-bulk",
    default=True,
    show_default=True,
    help="Send consecutive creates (updates) on a table as one CreateMultiple "
    "(UpdateMultiple) where the org's harvest has the message.",
)
@click.option(
    "--bulk-size",
    type=click.IntRange(2, 1000),
    default=250,
    show_default=True,
    help="Records per CreateMultiple / UpdateMultiple request.",
)
@click.option(
    "--parallel",
    type=click.IntRange(1, 52),
    default=None,
    help="Requests at once (default: the server's x-ms-dop-hint, reached gradually; "
    "halved after a 429).",
)
@retries_option()
@click.option(
    "--etag/--no-etag",
    default=False,
    help="Update with If-Match: <ETag seen when queued> when known (default If-Match: *).",
)
@format_option()
@cache_dir_option()
@journal_option
@data_dir_option
def sync(
    org: str,
    batch_size: int,
    bulk: bool,
    bulk_size: int,
    parallel: int | None,
    retries: int,
    etag: bool,
    fmt: str,
    cache_dir: str | None,
    journal_name: str | None,
    data_dir: str | None,
) -> int:
    """Play queued operations back to the org, in journal order.

    Needs the org's harvest in the cache (`msgavail harvest --org URL`) for entity sets and
    primary keys. Exit 0 all applied, 1 some parked, 2 no connection or authentication failed.
    """
    from validator.executor.playback import SyncOptions, sync_journal

    name = _name_for(org, None, journal_name)
    if not _exists(name, data_dir):
        if journal_name:
            from metadata.errors import DataUnavailableError

            raise DataUnavailableError(f"no journal {journal_name}: see `msgavail queue`")
        click.echo(f"nothing queued for {org}")
        return EXIT_OK
    options = SyncOptions(
        batch_size=batch_size,
        use_etag=etag,
        cache_dir=cache_dir,
        retries=retries,
        bulk=bulk,
        bulk_size=bulk_size,
        parallel=parallel,
    )
    bar = _progress(fmt)
    try:
        with _open(name, data_dir, org) as journal:
            report = sync_journal(journal, org, options, progress=bar)
    finally:
        if bar is not None:
            bar.close()  # the summary starts on a fresh line
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        for line in report.lines():
            click.echo(line)
    if report.aborted:
        click.echo(f"msgavail: error: {report.aborted}", err=True)
        return EXIT_ERROR
    return EXIT_FINDINGS if report.parked else EXIT_OK


class _Bar:
    """click's progress bar on stderr, started when playback knows how many operations
    there are (click draws it only on a terminal)."""

    def __init__(self) -> None:
        self._bar: t.Any = None
        self._done = 0

    def __call__(self, done: int, total: int) -> None:
        import sys

        if self._bar is None:
            self._bar = click.progressbar(
                length=total, label="syncing", file=sys.stderr, show_eta=True
            )
            self._bar.__enter__()
        self._bar.update(done - self._done)
        self._done = done

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)


def _progress(fmt: str) -> _Bar | None:
    import sys

    if fmt != "text" or not sys.stderr.isatty():
        return None
    return _Bar()
