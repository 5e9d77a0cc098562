"""What the executor's commands (run, get, queue, sync) share on the command line: opening
the journal a command means (with its repair warnings) and one line per operation.

Which journal, and what opening it checks, is decided in validator/executor/selection.py.
"""

from __future__ import annotations

import os
import typing as t

import click

if t.TYPE_CHECKING:
    from validator.executor.journal import Journal, Op


def open_journal(
    name: str,
    data_dir: str | None,
    org: str | None = None,
    *,
    create: bool = True,
) -> Journal:
    """Journal ``name`` opened and checked; what the check repaired is shown as warnings."""
    from validator.executor.selection import open_journal as open_checked

    journal, repaired = open_checked(name, data_dir, org, create=create)
    for line in repaired:
        click.echo(f"msgavail: warning: {line}", err=True)
    return journal


def label(journal: Journal) -> str:
    """``NAME (DIRECTORY)``, as the text output names a journal."""
    return f"{os.path.basename(journal.directory)} ({journal.directory})"


def short(op: Op) -> str:
    """``#SEQ Message table(id) [label]``: one operation on one line."""
    target = op.get("table") or ""
    if op.get("id"):
        target += f"({op['id']})"
    rel = op.get("related")
    if rel:
        target += f" {op.get('relationship')} -> {rel['table']}({rel['id']})"
    tag = f" [{op['label']}]" if op.get("label") else ""
    return f"#{op['seq']} {op['message']} {target}{tag}".rstrip()
