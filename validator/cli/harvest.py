"""``msgavail harvest --org URL``: download (or confirm) an org's availability metadata."""

from __future__ import annotations

import json
import re
import sys
import typing as t

import click

from validator.cli import EXIT_OK

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.I)
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """``90`` / ``90s`` / ``15m`` / ``24h`` / ``7d`` -> seconds."""
    m = _DURATION.match(text)
    if not m:
        raise click.BadParameter(f"{text!r} is not a duration (e.g. 3600, 30m, 24h, 7d)")
    return float(m.group(1)) * _UNITS[m.group(2).lower()]


class _StderrProgress:
    """A one-line progress display on stderr (used only when stderr is a terminal)."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, entity_set: str, rows: int) -> None:
        click.echo(f"\rharvesting {entity_set}: {rows} rows\x1b[K", err=True, nl=False)
        self.shown = True

    def done(self) -> None:
        if self.shown:
            click.echo("\r\x1b[K", err=True, nl=False)


@click.command()
@click.option(
    "--org",
    envvar="MSGAVAIL_ORG",
    required=True,
    metavar="URL",
    help="Organization URL, e.g. https://contoso.crm.dynamics.com. Env: MSGAVAIL_ORG.",
)
@click.option("--force", is_flag=True, help="Harvest everything even if the cache is current.")
@click.option("--offline", is_flag=True, help="Never touch the network: report the cached harvest.")
@click.option(
    "--cache-dir",
    envvar="MSGAVAIL_CACHE_DIR",
    type=click.Path(file_okay=False),
    help="Cache directory (default: the platform user cache). Env: MSGAVAIL_CACHE_DIR.",
)
@click.option(
    "--ttl",
    default="24h",
    show_default=True,
    metavar="DURATION",
    help="How long a harvest counts as current before a freshness probe (e.g. 30m, 7d).",
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
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Show progress on stderr (default: only when stderr is a terminal).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def harvest(
    org: str,
    force: bool,
    offline: bool,
    cache_dir: str | None,
    ttl: str,
    page_size: int,
    timeout: float,
    progress: bool | None,
    fmt: t.Literal["text", "json"],
) -> int:
    """Download an org's sdkmessages, sdkmessagefilters and EntityDefinitions into the cache.

    Token: env DATAVERSE_TOKEN (a bearer token), else azure-identity's DefaultAzureCredential
    (install msgavail[azure]). Within --ttl of the last check no request is made; after it, a
    small probe decides whether a new harvest is needed. If the org cannot be reached and a
    harvest is cached, the cached one is used with a warning.
    """
    from metadata.orgurl import normalize_org_url
    from metadata.refresh import describe_age, refresh
    from metadata.store import Store

    ttl_seconds = parse_duration(ttl)
    org = normalize_org_url(org)
    show_progress = sys.stderr.isatty() if progress is None else progress
    bar = _StderrProgress() if show_progress else None

    def client_factory() -> t.Any:
        from metadata.auth import default_provider
        from metadata.webapi import WebAPIClient

        return WebAPIClient(org, default_provider(org), page_size=page_size, timeout=timeout)

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
        cached = store.get(org) if outcome.action == "cached" else None
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
                    "warnings": list(outcome.warnings),
                },
                indent=2,
            )
        )
        return EXIT_OK
    counts = (
        f"{len(snap.messages)} messages, {len(snap.filters)} filters, {len(snap.tables)} tables"
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

        checked = describe_age(time.time() - cached.checked_at) if cached else "?"
        click.echo(
            f"{org}: cached harvest of {snap.source.harvested_at} is current (checked "
            f"{checked} ago, TTL {ttl}); no request made; {counts}"
        )
    return EXIT_OK
