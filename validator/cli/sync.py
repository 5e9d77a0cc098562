"""``msgavail sync --org URL``: play the org's queued operations back (validator/executor/
playback.py), with a progress bar on a terminal and the summary as text or JSON."""

from __future__ import annotations

import json
import sys
import typing as t

import click

from validator.cli import EXIT_FINDINGS, EXIT_OK
from validator.cli.journals import open_journal
from validator.cli.options import (
    cache_dir_option,
    data_dir_option,
    format_option,
    journal_option,
    org_option,
    retries_option,
)


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
    from metadata.errors import DataUnavailableError, ErrorsAfterOutput
    from validator.executor.playback import SyncOptions, sync_journal
    from validator.executor.queue import name_for
    from validator.executor.selection import exists

    name = name_for(org, None, journal_name)
    if not exists(name, data_dir):
        if journal_name:
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
    bar = _Bar() if fmt == "text" and sys.stderr.isatty() else None
    try:
        with open_journal(name, data_dir, org) as journal:
            report = sync_journal(journal, org, options, progress=bar)
    finally:
        if bar is not None:
            bar.close()  # the summary starts on a fresh line
    if fmt == "json":
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        for line in report.lines():
            click.echo(line)
    if report.aborted:  # no connection, or authentication failed: after the summary
        raise ErrorsAfterOutput([report.aborted])
    return EXIT_FINDINGS if report.parked else EXIT_OK


class _Bar:
    """click's progress bar on stderr, started when playback knows how many operations
    there are (click draws it only on a terminal)."""

    def __init__(self) -> None:
        self._bar: t.Any = None
        self._done = 0

    def __call__(self, done: int, total: int) -> None:
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
