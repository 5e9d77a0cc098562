"""MA014 reference-without-record: a reference names an operation that has no record to refer to."""

from __future__ import annotations

from validator.plan import BIND_SUFFIX, Operation, bind_reference, reference_label
from validator.rules.base import Context, LabelTarget, Question, Resolution, Rule, Step


def _refs(op: Operation) -> list[tuple[str, str, bool]]:
    """(label, where, needs a table) for every reference in ``op``."""
    found: list[tuple[str, str, bool]] = []
    label = reference_label(op.id)
    if label is not None:
        found.append((label, '"id"', False))
    if op.data:
        for key, value in op.data.items():
            if isinstance(key, str) and key.endswith(BIND_SUFFIX):
                label = bind_reference(value)
                if label is not None:
                    found.append((label, f"data.{key}", True))
    for rel in op.related:
        label = reference_label(rel.id)
        if label is not None:
            found.append((label, "a related id", False))
    return found


def _what(target: LabelTarget, needs_table: bool) -> str | None:
    if not target.has_id:
        return 'has no record id (only a Create or an operation with an "id" names a record)'
    if needs_table and target.table is None:
        return 'has no "table", so @odata.bind cannot name its record'
    return None


def _check(op: Operation, ctx: Context) -> list[str] | None:
    if not ctx.flawed:
        return None  # every label so far names a record with a table
    records = ctx.records
    found: list[str] = []
    for label, where, needs_table in _refs(op):
        target = records.get((op.scope, label))
        if target is None:
            continue  # not defined before: MA008
        problem = _what(target, needs_table)
        if problem is not None:
            found.append(
                f"${label} in {where} refers to operation {target.operation + 1} "
                f"(label {label!r}), which {problem}"
            )
    return found


_STEP = Step((), _check, "references")


def prepare(question: Question, res: Resolution | None, ctx: Context) -> Step:
    return _STEP  # any operation may refer to a label


RULE = Rule(
    id="MA014",
    name="reference-without-record",
    severity="error",
    summary="a reference names an operation that has no record to refer to",
    description='A "$label" in id or related[].id must name an operation that has a record id: '
    'a Create (its id is generated when the plan gives none) or an operation with an "id". An '
    '@odata.bind reference must also name an operation that has a "table". Otherwise there is '
    "no record for the reference to stand for, and the operation cannot be queued or played back.",
    example='{"message": "WhoAmI", "label": "me"}, then {"message": "Update", "table": '
    '"systemuser", "id": "$me"}  ->  MA014 $me in "id" refers to operation 1 (label \'me\'), '
    "which has no record id",
    prepare=prepare,
)
