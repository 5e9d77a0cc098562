"""MA002 unknown-table: the primary, secondary or a related record's table is not in the data."""

from __future__ import annotations

import typing as t

from validator.plan import Operation
from validator.rules.base import Context, Rule


def check(op: Operation, ctx: Context) -> t.Iterator[str]:
    res = ctx.resolve(op)
    if res is not None:
        for err in res.table_errors:
            yield str(err)
    if op.related:
        for err in ctx.related_table_errors(op):
            yield f"related record: {err}"


RULE = Rule(
    id="MA002",
    name="unknown-table",
    severity="error",
    summary="no such table in the data",
    description="The table (primary, secondary, or a related record's) is not known by logical "
    "name, schema name, entity set name or a common alias (user, case, order, note...). With "
    "the published default, names shaped like custom tables (prefix_name) are presumed custom "
    "and follow the custom-table rules instead.",
    example='{"message": "Create", "table": "acount"}  ->  MA002 unknown table \'acount\'; '
    "did you mean account?",
    check=check,
)
