"""MA002 unknown-table: the primary, secondary or a related record's table is not in the data."""

from __future__ import annotations

from validator.plan import Operation
from validator.rules.base import Context, Question, Resolution, Rule, Step


def _related(op: Operation, ctx: Context) -> list[str]:
    return [f"related record: {err}" for err in ctx.related_table_errors(op)]


_RELATED_ONLY = Step((), _related, "related")


def prepare(question: Question, res: Resolution | None, ctx: Context) -> Step | None:
    if res is not None and res.table_errors:
        return Step(tuple(str(err) for err in res.table_errors), _related, "related")
    return _RELATED_ONLY  # any operation may name related records


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
    prepare=prepare,
)
