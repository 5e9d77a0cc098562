"""MA006 invalid-operation: the operation does not match the plan schema."""

from __future__ import annotations

import typing as t

from validator.plan import Operation, reference_label
from validator.rules.base import Context, Rule


def check(op: Operation, ctx: Context) -> t.Iterator[str]:
    yield from op.problems
    if op.problems:
        return
    res = ctx.resolve(op)
    if op.scope is not None and reference_label(op.id) is not None:
        return  # a $batch URL naming an unknown Content-ID: MA008 says so, not "add table"
    if res is not None and res.needs_table is not None:
        yield f'{res.needs_table} is bound to a table: add "table"'


RULE = Rule(
    id="MA006",
    name="invalid-operation",
    severity="error",
    summary="the operation does not match the plan schema",
    description="A field is missing, unknown or of the wrong type (validator/schemas/"
    "plan.schema.json), or a message that is bound to tables is given none. In $batch bodies "
    "and ExecuteMultiple requests: a request msgavail cannot map to a message.",
    example='{"message": "Create", "table": 42}  ->  MA006 "table" must be a string, not number',
    check=check,
)
