"""MA006 invalid-operation: the operation does not match the plan schema.

Besides the schema, the fields a message needs to be run at all (what the offline executor
needs to write the operation locally and play it back): the record an Update, Delete, SetState,
Associate or Disassociate applies to, the table a Create writes to, SetState's new state and
the relationship and related records of an Associate or Disassociate.
"""

from __future__ import annotations

import typing as t

from validator.plan import Operation, reference_label
from validator.rules.base import Context, Rule

NEEDS_ID = frozenset({"update", "delete", "setstate", "associate", "disassociate"})
RELATE = frozenset({"associate", "disassociate"})


def check(op: Operation, ctx: Context) -> t.Iterator[str]:
    yield from op.problems
    if op.problems:
        return
    res = ctx.resolve(op)
    if op.scope is not None and reference_label(op.id) is not None:
        return  # a $batch URL naming an unknown Content-ID: MA008 says so, not "add table"
    message = ctx.message_name(op)
    if res is not None and res.needs_table is not None:
        yield f'{res.needs_table} is bound to a table: add "table"'
    elif message == "Create" and op.table is None:
        yield 'Create is bound to a table: add "table"'
    if message is None:
        return  # MA001 (or the schema) says what is wrong with the message
    verb = message.lower()
    if verb in NEEDS_ID and op.id is None:
        yield f'{message} needs the "id" of the record it applies to'
    if verb == "setstate" and not (
        "statecode" in (op.data or {}) or "State" in (op.parameters or {})
    ):
        yield 'SetState needs the new state: "statecode" in data or "State" in parameters'
    if verb in RELATE:
        if op.relationship is None:
            yield f'{message} needs a "relationship" (the relationship\'s schema name)'
        if not op.related:
            yield f'{message} needs at least one "related" record'


RULE = Rule(
    id="MA006",
    name="invalid-operation",
    severity="error",
    summary="the operation does not match the plan schema",
    description="A field is missing, unknown or of the wrong type (validator/schemas/"
    "plan.schema.json), a message that is bound to tables is given none, or a field the "
    'message needs is missing: "id" for Update, Delete, SetState, Associate and Disassociate; '
    '"statecode" (data) or "State" (parameters) for SetState; "relationship" and "related" for '
    "Associate and Disassociate. In $batch bodies and ExecuteMultiple requests: a request "
    "msgavail cannot map to a message.",
    example='{"message": "Update", "table": "account", "data": {"name": "x"}}  ->  MA006 '
    'Update needs the "id" of the record it applies to',
    check=check,
)
