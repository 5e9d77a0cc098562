"""MA006 invalid-operation: the operation does not match the plan schema.

Besides the schema, the fields a message needs to be run at all (what the offline executor
needs to write the operation locally and play it back): the record an Update, Delete, SetState,
Associate or Disassociate applies to, the table a Create writes to, SetState's new state and
the relationship and related records of an Associate or Disassociate.
"""

from __future__ import annotations

import typing as t

from validator.plan import Operation, reference_label
from validator.rules.base import Context, OpCheck, Question, Resolution, Rule, Step

NEEDS_ID = frozenset({"update", "delete", "setstate", "associate", "disassociate"})
RELATE = frozenset({"associate", "disassociate"})


def _problems(op: Operation, ctx: Context) -> tuple[str, ...]:
    return op.problems


_PROBLEMS_ONLY = Step((), _problems, "problems")


def prepare(question: Question, res: Resolution | None, ctx: Context) -> Step:
    """Schema problems are the operation's own; the rest depends on the message it names."""
    message = res.message if res is not None else None
    table_missing: str | None = None
    if res is not None and res.needs_table is not None:
        table_missing = f'{res.needs_table} is bound to a table: add "table"'
    elif message == "Create" and question.table is None:
        table_missing = 'Create is bound to a table: add "table"'
    verb = message.lower() if message is not None else ""
    needs_id = verb in NEEDS_ID
    set_state = verb == "setstate"
    relate = verb in RELATE
    if table_missing is None and not (needs_id or set_state or relate):
        return _PROBLEMS_ONLY
    return Step((), _needs(message or "", table_missing, needs_id, set_state, relate))


def _needs(
    message: str, table_missing: str | None, needs_id: bool, set_state: bool, relate: bool
) -> OpCheck:
    """The check for operations naming ``message``: the fields it needs to be run at all."""

    def check(op: Operation, ctx: Context) -> t.Sequence[str]:
        if op.problems:
            return op.problems
        found: list[str] = []
        if table_missing is not None:
            found.append(table_missing)
        if needs_id and op.id is None:
            found.append(f'{message} needs the "id" of the record it applies to')
        if set_state and not ("statecode" in (op.data or {}) or "State" in (op.parameters or {})):
            found.append(
                'SetState needs the new state: "statecode" in data or "State" in parameters'
            )
        if relate:
            if op.relationship is None:
                found.append(f'{message} needs a "relationship" (the relationship\'s schema name)')
            if not op.related:
                found.append(f'{message} needs at least one "related" record')
        if found and op.scope is not None and reference_label(op.id) is not None:
            return ()  # a $batch URL naming an unknown Content-ID: MA008 says so, not "add table"
        return found

    return check


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
    prepare=prepare,
)
