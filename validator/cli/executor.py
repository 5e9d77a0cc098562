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
    org_option,
    retries_option,
    snapshot_option,
)

if t.TYPE_CHECKING:
    from validator.executor.journal import Journal, Op

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def _open(
    name: str, data_dir: str | None, org: str | None = None, *, create: bool = True
) -> Journal:
    import os

    from metadata.errors import DataUnavailableError
    from validator.executor.journal import Journal, journal_dir

    path = journal_dir(name, data_dir)
    if not create and not os.path.isdir(path):
        raise DataUnavailableError(
            f"no journal {name} in {os.path.dirname(path)}: nothing was queued for it"
        )
    journal = Journal.open(path)
    journal.remember_org(org)
    return journal


def _exists(name: str, data_dir: str | None) -> bool:
    import os

    from validator.executor.journal import journal_dir

    return os.path.isdir(journal_dir(name, data_dir))


def _name_for(org: str | None, snapshot: str | None, journal_name: str | None) -> str:
    from validator.executor.journal import journal_name as name_of

    if journal_name:
        return journal_name
    if org is None and snapshot is not None:
        from metadata import snapshot as snapshot_file

        org = snapshot_file.read(snapshot).source.org
    return name_of(org)


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
@format_option()
@data_dir_option
@data_source_options
def run(
    plan: str,
    offline: bool,
    skip_unavailable: bool,
    fmt: str,
    data_dir: str | None,
    snapshot: str | None,
    org: str | None,
    cache_dir: str | None,
) -> int:
    """Queue PLAN's operations while offline.

    The plan is linted for offline mode first, against the data source's availability facts
    (--snapshot FILE, --org URL's cached harvest, or the published default); nothing touches
    the network. On any error nothing is queued and the diagnostics are shown (exit 1).
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
    outcome = lint_offline(plan, engine)
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
                click.echo(f"  {plan}:{s.line}:{s.column}: operation {s.operation}: {s.reason}")
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
    """Inspect, retry or drop queued operations.

    Without a subcommand, lists the operations not yet applied: pending, in flight (a sync
    was interrupted) and parked (the server refused them; see the error, fix the cause, then
    `queue retry`).
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
        ops = journal.ops()
        counts: dict[str, int] = {}
        for op in ops:
            counts[op["state"]] = counts.get(op["state"], 0) + 1
        shown = [op for op in ops if show_all or op["state"] not in ("done", "dropped")]
        if fmt == "json":
            doc = {
                "version": 1,
                "journal": _journal_json(journal),
                "counts": counts,
                "operations": [dict(op) for op in shown],
            }
            click.echo(json.dumps(doc, indent=2))
            return EXIT_OK
        summary = ", ".join(f"{n} {s}" for s, n in counts.items()) or "empty"
        click.echo(f"journal {_journal_label(journal)}: {summary}")
        if journal.org:
            click.echo(f"org: {journal.org}")
        for op in shown:
            click.echo(_queue_line(op))
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


def _select(journal: Journal, seqs: tuple[int, ...], states: set[str]) -> list[Op]:
    from metadata.errors import ConfigError

    if not seqs:
        return [op for op in journal.ops(states)]
    chosen: list[Op] = []
    for seq in seqs:
        op = journal.get(seq)
        if op is None:
            raise ConfigError(f"no operation #{seq} in the journal")
        if op["state"] not in states:
            raise ConfigError(
                f"operation #{seq} is {op['state']}; only {'/'.join(sorted(states))} ones can be"
                " chosen here"
            )
        chosen.append(op)
    return chosen


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
    with _journal_for(journal_name, org, snapshot, data_dir) as journal:
        journal.acquire_playback_lock()  # not while a sync is playing these operations
        chosen = _select(journal, seqs, {"parked"})
        if not chosen:
            click.echo("no parked operations")
            return EXIT_OK
        journal.set_state(chosen, "pending")
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
    with _journal_for(journal_name, org, snapshot, data_dir) as journal:
        journal.acquire_playback_lock()  # not while a sync is playing these operations
        chosen = _select(journal, seqs, {"parked", "pending"} if seqs else {"parked"})
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
        journal.set_state(chosen, "dropped")
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
    with _journal_for(journal_name, org, snapshot, data_dir) as journal:
        journal.acquire_playback_lock()
        finished = journal.ops({"done", "dropped"})
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
        batch_size=batch_size, use_etag=etag, cache_dir=cache_dir, retries=retries
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
    """``syncing [####------] 40/100`` redrawn in place on stderr (a terminal only)."""

    width = 30

    def __init__(self) -> None:
        self.last = -1
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        filled = int(self.width * done / total) if total else self.width
        if filled == self.last:
            return
        self.last = filled
        bar = "#" * filled + "-" * (self.width - filled)
        click.echo(f"\rsyncing [{bar}] {done}/{total}", nl=False, err=True)
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            click.echo("", err=True)


def _progress(fmt: str) -> _Bar | None:
    import sys

    if fmt != "text" or not sys.stderr.isatty():
        return None
    return _Bar()
