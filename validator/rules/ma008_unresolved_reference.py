"""MA008 unresolved-reference: a label or Content-ID referred to before it is defined."""

from __future__ import annotations

from validator.plan import Operation
from validator.rules.base import Context, Question, Resolution, Rule, Step


def _check(op: Operation, ctx: Context) -> list[str] | None:
    refs = op.references
    defined = ctx.labels.get(op.scope) or ()
    found: list[str] | None = None
    for ref in refs:
        if ref in defined:
            continue
        what = "Content-ID" if op.scope is not None else "label"
        if ref in ctx.all_labels:
            text = f"${ref} refers to {what} {ref!r}, which is defined in another changeset"
        else:
            text = f"${ref} refers to {what} {ref!r}, which no earlier operation defines"
        if found is None:
            found = []
        found.append(text)
    return found


_STEP = Step((), _check, "references")


def prepare(question: Question, res: Resolution | None, ctx: Context) -> Step:
    return _STEP  # any operation may refer to a label


RULE = Rule(
    id="MA008",
    name="unresolved-reference",
    severity="error",
    summary="an operation refers to a label or Content-ID not defined before it",
    description='A "$label" in id, related[].id or an @odata.bind value (native plans), or a '
    "$n Content-ID reference in a $batch URL or body, must name an operation earlier in the "
    "file (in a $batch body: earlier in the same changeset, as the Web API requires).",
    example='{"message": "Update", "table": "account", "id": "$acct"} before the Create '
    "labelled \"acct\"  ->  MA008 $acct refers to label 'acct', which no earlier operation "
    "defines",
    prepare=prepare,
)
