"""``msgavail run PLAN --offline``: lint a plan for offline use and queue it.

(Not ``cli/run.py``: that name would shadow ``validator.cli.run``, the boundary's entry point.)

The plan is gated by the offline lint (validator/executor/gate.py), sorted into what blocks and
what is skipped (validator/executor/documents.py) and queued with the local store in one
transaction (validator/executor/enqueue.py); this module renders the outcome.
"""

from __future__ import annotations

import json
import typing as t

import click

from validator.cli import EXIT_FINDINGS, EXIT_OK
from validator.cli.journals import label, open_journal, short
from validator.cli.options import (
    data_dir_option,
    data_source_options,
    format_option,
    offline_mode_option,
)


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
    from validator.executor.documents import admit, run_json
    from validator.executor.enqueue import queue_operations
    from validator.executor.gate import lint_offline
    from validator.executor.journal import journal_name

    engine = load_engine(snapshot=snapshot, org=org, cache_dir=cache_dir)
    outcome = lint_offline(plan, engine, mode=mode, profile=profile)
    admission = admit(outcome.findings, skip_unavailable=skip_unavailable)
    if admission.blocking:
        if fmt == "json":
            click.echo(json.dumps(run_json(None, [], [], outcome.findings), indent=2))
        else:
            for f in outcome.findings:
                click.echo(f.text())
            click.echo(
                f"nothing queued: {len(admission.blocking)} error(s) in {plan}"
                + ("" if skip_unavailable else " (--skip-unavailable queues the rest)"),
                err=True,
            )
        return EXIT_FINDINGS
    target_org = org or engine.source.org
    with open_journal(journal_name(target_org), data_dir, target_org) as journal:
        journal.verify()  # no appending to a journal with damaged entries (exit 2)
        result = queue_operations(journal, engine, outcome.operations, admission.skip)
        if fmt == "json":
            doc = run_json(journal, result.queued, result.skipped, outcome.findings)
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
                f"{label(journal)}"
            )
            for op in result.queued[:20]:
                click.echo(f"  {short(op)}")
            if len(result.queued) > 20:
                click.echo(f"  ... and {len(result.queued) - 20} more (`msgavail queue`)")
            if journal.org:
                click.echo(f"play them back with: msgavail sync --org {journal.org}")
        else:
            click.echo("nothing queued")
    return EXIT_OK
