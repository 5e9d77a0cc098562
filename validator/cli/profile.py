"""``msgavail profile list|show``: the org's Power Apps mobile offline profiles.

``show`` gives a profile's tables, their distribution criteria (which records the device
downloads) and, for each of the five operations the mobile client runs offline (Create,
Retrieve, RetrieveMultiple, Update, Delete), whether it is available there, decided by the
same engine as ``msgavail check --mode mobile`` (validator/mobile.py).
"""

from __future__ import annotations

import json
import typing as t

import click

from validator.cli import EXIT_OK
from validator.cli.options import data_source_options, format_option

if t.TYPE_CHECKING:
    from metadata.locations import Location
    from metadata.model import OfflineProfile
    from validator.engine import Engine

OPERATIONS = ("Create", "Retrieve", "RetrieveMultiple", "Update", "Delete")


@click.group()
def profile() -> None:
    """List the mobile offline profiles; show one profile's tables and operations."""


def _engine(snapshot: str | None, org: str | None, cache_dir: Location | None) -> Engine:
    from validator.api import load_engine

    return load_engine(snapshot=snapshot, org=org, cache_dir=cache_dir)


@profile.command("list")
@format_option()
@data_source_options
def list_command(
    fmt: t.Literal["text", "json"],
    snapshot: str | None,
    org: str | None,
    cache_dir: Location | None,
) -> int:
    """The mobile offline profiles in the data (an org harvest or a snapshot from one)."""
    engine = _engine(snapshot, org, cache_dir)
    if not engine.snapshot.has_profile_data:  # a clear error naming the source, exit 2
        engine.resolve_profile(None, required=True)
    profiles = engine.snapshot.profiles
    if fmt == "json":
        doc = [
            {"name": p.name, "tables": list(p.tables), "published_on": p.published_on}
            for p in profiles
        ]
        click.echo(json.dumps({"source": engine.source.to_json(), "profiles": doc}, indent=2))
        return EXIT_OK
    if not profiles:
        click.echo(f"no mobile offline profiles in {engine.source.describe()}")
    for p in profiles:
        n = len(p.items)
        click.echo(f"{p.name}: {n} table{'' if n == 1 else 's'} ({', '.join(p.tables)})")
    return EXIT_OK


def profile_rows(engine: Engine, chosen: OfflineProfile) -> list[dict[str, t.Any]]:
    """One row per table of the profile: its item facts and the five operations' verdicts."""
    rows = []
    for item in chosen.items:
        ops: dict[str, dict[str, t.Any]] = {}
        for name in OPERATIONS:
            if engine.snapshot.message(name) is None:
                ops[name] = {"available": False, "reason": f"no {name} message in the data"}
                continue
            v = engine.check(name, item.table, mode="mobile", profile=chosen.name)
            ops[name] = {"available": v.available, "basis": v.mobile_basis, "reason": v.reason}
        tb = engine.snapshot.table(item.table)
        rows.append(
            {
                "table": item.table,
                "distribution": item.distribution,
                "distribution_text": item.describe_distribution(),
                "owned_by_me": item.owned_by_me,
                "owned_by_my_team": item.owned_by_my_team,
                "owned_by_my_business_unit": item.owned_by_my_business_unit,
                "get_related_records": item.get_related_records,
                "sync_interval_minutes": item.sync_interval_minutes,
                "is_available_offline": tb.is_available_offline if tb else None,
                "is_offline_in_mobile_client": tb.is_offline_in_mobile_client if tb else None,
                "operations": ops,
            }
        )
    return rows


@profile.command("show")
@click.argument("name", required=False)
@format_option()
@data_source_options
def show_command(
    name: str | None,
    fmt: t.Literal["text", "json"],
    snapshot: str | None,
    org: str | None,
    cache_dir: Location | None,
) -> int:
    """A profile's tables, their distribution criteria, and which of Create, Retrieve,
    RetrieveMultiple, Update and Delete each allows offline (NAME: case-insensitive; default:
    the only profile in the data)."""
    engine = _engine(snapshot, org, cache_dir)
    chosen = engine.resolve_profile(name, required=True)
    assert chosen is not None
    rows = profile_rows(engine, chosen)
    if fmt == "json":
        doc = {
            "name": chosen.name,
            "description": chosen.description,
            "published_on": chosen.published_on,
            "source": engine.source.to_json(),
            "tables": rows,
        }
        click.echo(json.dumps(doc, indent=2))
        return EXIT_OK
    head = f"profile {chosen.name!r}"
    if chosen.published_on:
        head += f", published {chosen.published_on}"
    click.echo(f"{head} [{engine.source.describe()}]")
    if chosen.description:
        click.echo(f"  {chosen.description}")
    if not rows:
        click.echo("  (no tables)")
        return EXIT_OK
    width = max(len(r["table"]) for r in rows)
    dist_width = max(len(r["distribution_text"]) for r in rows)
    abbrev = {
        "Create": "C",
        "Retrieve": "R",
        "RetrieveMultiple": "RM",
        "Update": "U",
        "Delete": "D",
    }
    click.echo(f"  {'table':<{width}}  {'records on the device':<{dist_width}}  offline operations")
    notes: list[str] = []
    for r in rows:
        allowed = [abbrev[op] for op, v in r["operations"].items() if v["available"]]
        shown = " ".join(allowed) if allowed else "none"
        click.echo(f"  {r['table']:<{width}}  {r['distribution_text']:<{dist_width}}  {shown}")
        refused = {v["basis"] for v in r["operations"].values() if not v["available"]}
        if "not-offline-enabled" in refused:
            notes.append(f"{r['table']}: in the profile but not enabled for offline "
                         "(IsAvailableOffline = false)")  # fmt: skip
        if "unsupported-pair" in refused:
            missing = [
                op for op, v in r["operations"].items() if v.get("basis") == "unsupported-pair"
            ]
            notes.append(f"{r['table']}: no SdkMessageFilter row for {', '.join(missing)}")
    click.echo("  (C Create, R Retrieve, RM RetrieveMultiple, U Update, D Delete)")
    for note in notes:
        click.echo(f"  note: {note}")
    return EXIT_OK
