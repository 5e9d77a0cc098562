"""``msgavail snapshot export|show|diff``: snapshot files a repository can commit."""

from __future__ import annotations

import json
import typing as t
from collections import Counter

import click

from validator.cli import EXIT_FINDINGS, EXIT_OK
from validator.cli.options import cache_dir_option, format_option, org_option

if t.TYPE_CHECKING:
    from metadata.diff import SnapshotDiff
    from metadata.locations import Location
    from metadata.model import MessageFilter, Snapshot


@click.group()
def snapshot() -> None:
    """Export an org's cached harvest to a file, show a file, compare two files."""


@snapshot.command()
@org_option(
    required=True, help="The org whose cached harvest to export (run `msgavail harvest` first)."
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="File to write (- for stdout).",
)
@cache_dir_option()
def export(org: str, output: str, cache_dir: Location | None) -> int:
    """Write the org's cached harvest as a snapshot file (no network access)."""
    from metadata import snapshot as snapshot_file
    from metadata.store import Store

    with Store.open(cache_dir) as store:
        snap = store.cached_snapshot(org)
    if output == "-":
        click.echo(snapshot_file.dumps(snap), nl=False)
    else:
        try:
            snapshot_file.write(snap, output)
        except OSError as exc:
            from metadata.errors import InputError

            raise InputError(f"cannot write: {exc.strerror or exc}", path=output) from None
        click.echo(
            f"wrote {output}: {len(snap.messages)} messages, {len(snap.filters)} filters, "
            f"{len(snap.tables)} tables from {snap.source.describe()}",
            err=True,
        )
    return EXIT_OK


def _summary(snap: Snapshot) -> dict[str, t.Any]:
    def by_availability(items: t.Iterable[t.Any]) -> dict[str, int]:
        c = Counter(i.availability.label for i in items)
        return {k: c.get(k, 0) for k in ("Server", "Client", "All")}

    return {
        "source": {
            "kind": snap.source.kind,
            "org": snap.source.org,
            "harvested_at": snap.source.harvested_at,
            "description": snap.source.description or None,
        },
        "messages": {"total": len(snap.messages), **by_availability(snap.messages)},
        "filters": {"total": len(snap.filters), **by_availability(snap.filters)},
        "tables": {
            "total": len(snap.tables),
            "custom": sum(1 for tb in snap.tables if tb.is_custom),
            "available_offline": sum(1 for tb in snap.tables if tb.is_available_offline),
        },
        "client_only_messages": sorted(
            m.name for m in snap.messages if m.availability.label == "Client"
        ),
        # None: the file carries no profile data (format 1, published default)
        "profiles": (
            [{"name": p.name, "tables": list(p.tables)} for p in snap.profiles]
            if snap.has_profile_data
            else None
        ),
    }


@snapshot.command()
@click.argument("file", type=click.Path(dir_okay=False))
@format_option()
def show(file: str, fmt: t.Literal["text", "json"]) -> int:
    """Summarize a snapshot file (validated against the snapshot schema)."""
    from metadata import snapshot as snapshot_file

    summary = _summary(snapshot_file.read(file))
    if fmt == "json":
        click.echo(json.dumps(summary, indent=2))
        return EXIT_OK
    src = summary["source"]
    origin = src["org"] or src["description"] or src["kind"]
    click.echo(
        f"{file}: {origin}" + (f", harvested {src['harvested_at']}" if src["harvested_at"] else "")
    )
    for key in ("messages", "filters"):
        s = summary[key]
        click.echo(
            f"  {key}: {s['total']} (Server {s['Server']}, Client {s['Client']}, All {s['All']})"
        )
    tb = summary["tables"]
    click.echo(
        f"  tables: {tb['total']} ({tb['custom']} custom, {tb['available_offline']} offline)"
    )
    if summary["client_only_messages"]:
        click.echo("  client-only messages: " + ", ".join(summary["client_only_messages"]))
    profiles = summary["profiles"]
    if profiles is None:
        click.echo("  mobile offline profiles: not recorded (harvest the org to include them)")
    else:
        click.echo(f"  mobile offline profiles: {len(profiles)}")
        for p in profiles:
            click.echo(f"    {p['name']}: {', '.join(p['tables']) or '(no tables)'}")
    return EXIT_OK


def _filter_name(f: MessageFilter) -> str:
    where = f.primary or "(no table)"
    if f.secondary:
        where += f" / {f.secondary}"
    return f"{f.message} on {where}"


def render_diff_text(d: SnapshotDiff) -> list[str]:
    lines: list[str] = []

    def section(
        title: str, added: t.Sequence[str], removed: t.Sequence[str], changed: t.Sequence[str]
    ) -> None:
        if not (added or removed or changed):
            return
        lines.append(f"{title}: {len(added)} added, {len(removed)} removed, {len(changed)} changed")
        lines.extend(f"  + {x}" for x in added)
        lines.extend(f"  - {x}" for x in removed)
        lines.extend(f"  ~ {x}" for x in changed)

    section(
        "messages",
        [f"{m.name} ({m.availability.label})" for m in d.messages_added],
        [f"{m.name} ({m.availability.label})" for m in d.messages_removed],
        [
            f"{c.after.name}: {c.before.availability.label} -> {c.after.availability.label}"
            for c in d.messages_changed
        ],
    )
    section(
        "filters",
        [f"{_filter_name(f)} ({f.availability.label})" for f in d.filters_added],
        [f"{_filter_name(f)} ({f.availability.label})" for f in d.filters_removed],
        [
            f"{_filter_name(c.after)}: {c.before.availability.label} -> "
            f"{c.after.availability.label}"
            for c in d.filters_changed
        ],
    )
    section(
        "tables",
        [f"{tb.logical_name} ({tb.ownership or 'ownership unknown'})" for tb in d.tables_added],
        [f"{tb.logical_name} ({tb.ownership or 'ownership unknown'})" for tb in d.tables_removed],
        [
            c.after.logical_name
            + ": "
            + ", ".join(f"{f} {getattr(c.before, f)} -> {getattr(c.after, f)}" for f in c.fields)
            for c in d.tables_changed
        ],
    )
    section(
        "mobile offline profiles",
        [f"{p.name} ({', '.join(p.tables) or 'no tables'})" for p in d.profiles_added],
        [f"{p.name} ({', '.join(p.tables) or 'no tables'})" for p in d.profiles_removed],
        [
            f"{c.name}: "
            + "; ".join(
                part
                for part in (
                    f"tables added: {', '.join(c.tables_added)}" if c.tables_added else "",
                    f"tables removed: {', '.join(c.tables_removed)}" if c.tables_removed else "",
                )
                if part
            )
            for c in d.profiles_changed
        ],
    )
    return lines


@snapshot.command("diff")
@click.argument("old", type=click.Path(dir_okay=False))
@click.argument("new", type=click.Path(dir_okay=False))
@format_option()
def diff_command(old: str, new: str, fmt: t.Literal["text", "json"]) -> int:
    """Compare two snapshot files. Exit status 0 when equal, 1 when they differ."""
    from metadata import snapshot as snapshot_file
    from metadata.diff import diff

    d = diff(snapshot_file.read(old), snapshot_file.read(new))
    if fmt == "json":
        click.echo(
            json.dumps({"old": old, "new": new, "equal": d.is_empty, **d.to_json()}, indent=2)
        )
    elif d.is_empty:
        click.echo(f"{old} and {new}: no differences in messages, filters, tables or profiles")
    else:
        for line in render_diff_text(d):
            click.echo(line)
    return EXIT_OK if d.is_empty else EXIT_FINDINGS
