"""``msgavail get TABLE [ID]``: records from the offline store (validator/executor/local.py)."""

from __future__ import annotations

import json
import typing as t

import click

from validator.cli import EXIT_FINDINGS, EXIT_OK
from validator.cli.journals import open_journal
from validator.cli.options import (
    data_dir_option,
    data_source_options,
    format_option,
    journal_option,
)


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
    from validator.executor.queue import name_for
    from validator.executor.selection import exists, primary_key

    conditions = local.parse_where(where)
    engine = load_engine(snapshot=snapshot, org=org, cache_dir=cache_dir)
    logical = engine.names.table(table)
    name = name_for(org or engine.source.org, None, journal_name)
    rows: list[t.Any] = []
    if exists(name, data_dir):
        with open_journal(name, data_dir) as journal:
            if record_id is not None:
                rec = local.retrieve(journal, logical, record_id)
                rows = [rec] if rec is not None and local.matches(rec, conditions) else []
            else:
                rows = local.retrieve_multiple(journal, logical, conditions)
    pk = primary_key(engine, logical)
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
