"""``msgavail queue``: list, retry, drop, prune, export and repair queued operations.

Which operations each action may take, exporting and repairing are decided in
validator/executor/queue.py; which are listed and the JSON document in
validator/executor/documents.py. This module renders them and asks for confirmation.
"""

from __future__ import annotations

import json
import typing as t

import click

from validator.cli import EXIT_FINDINGS, EXIT_OK
from validator.cli.journals import label, open_journal, short
from validator.cli.options import (
    cache_dir_option,
    data_dir_option,
    format_option,
    journal_option,
    org_option,
    snapshot_option,
)

if t.TYPE_CHECKING:
    from validator.executor.journal import Journal, Op

F = t.TypeVar("F", bound=t.Callable[..., t.Any])


def queue_selection(func: F) -> F:
    """--journal / --data-dir / --org / --snapshot: which journal a queue command works on."""
    func = journal_option(func)
    func = data_dir_option(func)
    func = org_option(help="The org's journal.")(func)
    func = snapshot_option(help="The journal of the org this snapshot came from.")(func)
    return func


def _name(journal_name: str | None, org: str | None, snapshot: str | None) -> str:
    from validator.executor.queue import name_for

    return name_for(org, snapshot, journal_name)


def _existing(
    journal_name: str | None, org: str | None, snapshot: str | None, data_dir: str | None
) -> Journal:
    return open_journal(_name(journal_name, org, snapshot), data_dir, org, create=False)


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
    from validator.executor.documents import listed, queue_json
    from validator.executor.selection import exists

    name = _name(journal_name, org, snapshot)
    if not exists(name, data_dir):
        if fmt == "json":
            click.echo(json.dumps(queue_json(None, None, []), indent=2))
        else:
            click.echo(f"nothing queued (no journal {name} yet)")
        return EXIT_OK
    with _existing(journal_name, org, snapshot, data_dir) as journal:
        found = journal.scan()
        shown = listed(found.ops, show_all=show_all)
        if fmt == "json":
            click.echo(json.dumps(queue_json(journal, found, shown), indent=2))
        else:
            summary = ", ".join(f"{n} {s}" for s, n in found.counts().items()) or "empty"
            click.echo(f"journal {label(journal)}: {summary}")
            if journal.org:
                click.echo(f"org: {journal.org}")
            for op in shown:
                click.echo(_queue_line(op))
        if found.damaged:
            raise journal.damaged_error(found.damaged)
    return EXIT_OK


def _queue_line(op: Op) -> str:
    line = f"{op['state']:<9} {short(op)}"
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

    with _existing(journal_name, org, snapshot, data_dir) as journal:
        journal.acquire_playback_lock()  # not while a sync is playing these operations
        chosen = q.choose(journal, "retry", seqs)
        if not chosen:
            click.echo("no parked operations")
            return EXIT_OK
        q.retry(journal, chosen)
        for op in chosen:
            click.echo(f"pending   {short(op)}")
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

    with _existing(journal_name, org, snapshot, data_dir) as journal:
        journal.acquire_playback_lock()  # not while a sync is playing these operations
        chosen = q.choose(journal, "drop", seqs)
        if not chosen:
            click.echo("nothing to drop")
            return EXIT_OK
        for op in chosen:
            click.echo(f"will drop {short(op)}")
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

    with _existing(journal_name, org, snapshot, data_dir) as journal:
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

    from metadata.errors import ConfigError
    from metadata.fsutil import atomic_write_text
    from validator.executor import queue as q
    from validator.executor.selection import export_engine, require

    name = _name(journal_name, org, snapshot)
    path = require(name, data_dir)
    if os.path.exists(output):
        raise ConfigError(f"{output} exists; export writes a new file (choose another name)")
    result = q.export_plan(
        path, export_engine(snapshot, org, cache_dir, path), include_finished=include_finished
    )
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
    from validator.executor import queue as q
    from validator.executor.selection import require

    name = _name(journal_name, org, snapshot)
    path = require(name, data_dir)
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
