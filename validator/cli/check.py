"""``msgavail check MESSAGE [TABLE]``: one availability question, answered with a reason."""

from __future__ import annotations

import json
import typing as t

import click

from validator.cli import EXIT_FINDINGS, EXIT_OK
from validator.cli.options import data_source_options, format_option, mode_option

if t.TYPE_CHECKING:
    from metadata.locations import Location


@click.command()
@click.argument("message")
@click.argument("table", required=False)
@click.option("--secondary", metavar="TABLE", help="Secondary table (e.g. for SetRelated).")
@mode_option
@click.option(
    "--ownership",
    type=click.Choice(["user", "organization"]),
    help="Ownership of a custom table the data does not describe (published default).",
)
@format_option()
@data_source_options
def check(
    message: str,
    table: str | None,
    secondary: str | None,
    mode: t.Literal["offline", "online", "mobile"] | None,
    profile: str | None,
    ownership: str | None,
    fmt: t.Literal["text", "json"],
    snapshot: str | None,
    org: str | None,
    cache_dir: Location | None,
) -> int:
    """Does MESSAGE on TABLE work offline (or online, or in Power Apps mobile offline)?

    Exit status 0 when available, 1 when not, 2 on error (unknown name, no data, several
    mobile offline profiles and no --profile). Without TABLE, answers for the message and lists
    the tables that are exceptions (mode mobile: the profile's tables where it runs).
    """
    from validator.api import load_engine

    engine = load_engine(snapshot=snapshot, org=org, cache_dir=cache_dir)
    verdict = engine.check(
        message, table, secondary, mode or "offline", ownership=ownership, profile=profile
    )
    if fmt == "json":
        click.echo(json.dumps(verdict.to_json(), indent=2))
    else:
        click.echo(verdict.reason)
        if verdict.mode == "mobile" and verdict.table is None and verdict.profile_tables:
            click.echo(f"  tables of profile {verdict.profile!r} where it runs offline:")
            for name in verdict.profile_tables:
                click.echo(f"    {name}")
        if verdict.exceptions and len(verdict.exceptions) > 8:
            listed = ", ".join(verdict.exceptions)
            click.echo(f"  all {len(verdict.exceptions)} exceptions: {listed}")
    return EXIT_OK if verdict.available else EXIT_FINDINGS
