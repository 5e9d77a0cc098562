"""``msgavail harvest --org URL``: download (or confirm) an org's availability metadata."""

from __future__ import annotations

import json
import sys
import typing as t

import click

from validator.cli import EXIT_OK
from validator.cli.options import (
    DURATION_HELP,
    cache_dir_option,
    duration_callback,
    format_option,
    org_option,
    retries_option,
)

if t.TYPE_CHECKING:
    import datetime as dt

    from metadata.locations import Location
    from metadata.webapi import Wait


class _StderrProgress:
    """A one-line progress display on stderr (used only when stderr is a terminal)."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, entity_set: str, rows: int) -> None:
        self._show(f"harvesting {entity_set}: {rows} rows")

    def wait(self, wait: Wait) -> None:
        """Say what the harvest is waiting for, instead of pausing silently."""
        self._show(
            f"harvest: waiting {wait.seconds:.1f} s before retry {wait.attempt} of "
            f"{wait.limit} ({wait.reason}: {wait.url})"
        )

    def _show(self, text: str) -> None:
        click.echo(f"\r{text}\x1b[K", err=True, nl=False)
        self.shown = True

    def done(self) -> None:
        if self.shown:
            click.echo("\r\x1b[K", err=True, nl=False)


@click.command()
@org_option(required=True, help="Organization URL, e.g. https://contoso.crm.dynamics.com.")
@click.option("--force", is_flag=True, help="Harvest everything even if the cache is current.")
@click.option("--offline", is_flag=True, help="Never touch the network: report the cached harvest.")
@cache_dir_option()
@click.option(
    "--ttl",
    default="24h",
    callback=duration_callback(),
    show_default=True,
    metavar="DURATION",
    help=f"How long a harvest counts as current before a freshness probe ({DURATION_HELP}).",
)
@click.option(
    "--page-size",
    type=click.IntRange(1, 5000),
    default=5000,
    show_default=True,
    help="Rows per page requested (Prefer: odata.maxpagesize).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=60.0,
    show_default=True,
    help="Seconds to wait for each response.",
)
@retries_option()
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show progress (and what a retry waits for) on stderr (default: only when stderr "
    "is a terminal).",
)
@format_option()
def harvest(
    org: str,
    force: bool,
    offline: bool,
    cache_dir: Location | None,
    ttl: dt.timedelta,
    page_size: int,
    timeout: float,
    retries: int,
    progress: bool | None,
    fmt: t.Literal["text", "json"],
) -> int:
    """Download an org's sdkmessages, sdkmessagefilters, EntityDefinitions and mobile offline
    profiles into the cache.

    Token: env DATAVERSE_TOKEN (a bearer token), else azure-identity's DefaultAzureCredential
    (install msgavail[azure]). Within --ttl of the last check no request is made; after it, a
    small probe decides whether a new harvest is needed. If the org cannot be reached and a
    harvest is cached, the cached one is used with a warning.
    """
    from metadata.duration import format_duration
    from metadata.orgurl import normalize_org_url
    from metadata.refresh import describe_age, refresh
    from metadata.store import Store

    ttl_seconds = ttl.total_seconds()
    org = normalize_org_url(org)
    show_progress = sys.stderr.isatty() if progress is None else progress
    bar = _StderrProgress() if show_progress else None

    def client_factory() -> t.Any:
        from metadata import webapi
        from metadata.auth import default_provider

        return webapi.WebAPIClient(
            org,
            default_provider(org),
            page_size=page_size,
            timeout=timeout,
            retry=webapi.DEFAULT_RETRY._replace(max_retries=retries),
            on_wait=bar.wait if bar is not None else None,
        )

    with Store.open(cache_dir) as store:
        try:
            outcome = refresh(
                org,
                store=store,
                client_factory=client_factory,
                ttl=ttl_seconds,
                force=force,
                offline=offline,
                progress=bar,
            )
        finally:
            if bar is not None:
                bar.done()
    for warning in outcome.warnings:
        click.echo(f"msgavail: warning: {warning}", err=True)
    if outcome.skipped_filters:
        click.echo(
            f"msgavail: warning: {outcome.skipped_filters} sdkmessagefilter rows name no "
            "known message and were left out",
            err=True,
        )
    snap = outcome.snapshot
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "org": org,
                    "action": outcome.action,
                    "requests": outcome.requests,
                    "harvested_at": snap.source.harvested_at,
                    "messages": len(snap.messages),
                    "filters": len(snap.filters),
                    "tables": len(snap.tables),
                    "profiles": [p.name for p in snap.profiles],
                    "warnings": list(outcome.warnings),
                },
                indent=2,
            )
        )
        return EXIT_OK
    n = len(snap.profiles)
    counts = (
        f"{len(snap.messages)} messages, {len(snap.filters)} filters, {len(snap.tables)} tables, "
        f"{n} mobile offline profile{'' if n == 1 else 's'}"
    )
    if outcome.action == "harvested":
        click.echo(f"harvested {org}: {counts} ({outcome.requests} requests)")
    elif outcome.action == "unchanged":
        click.echo(
            f"{org}: unchanged since the harvest of {snap.source.harvested_at} "
            f"({outcome.requests} probe requests); {counts}"
        )
    elif outcome.action == "fallback":
        click.echo(f"{org}: using the cached harvest of {snap.source.harvested_at}; {counts}")
    else:
        import time

        checked = describe_age(time.time() - outcome.checked_at) if outcome.checked_at else "?"
        click.echo(
            f"{org}: cached harvest of {snap.source.harvested_at} is current (checked "
            f"{checked} ago, TTL {format_duration(ttl)}); no request made; {counts}"
        )
    return EXIT_OK
