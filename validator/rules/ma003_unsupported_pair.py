"""MA003 unsupported-pair: the message exists but has no filter for this table."""

from __future__ import annotations

from validator.rules.base import Context, Question, Resolution, Rule, Step, plain_reason, supported


def prepare(question: Question, res: Resolution | None, ctx: Context) -> Step | None:
    verdict = res.verdict if res is not None else None
    if verdict is not None and not supported(verdict) and verdict.determinate:
        return Step((plain_reason(verdict),))
    return None


RULE = Rule(
    id="MA003",
    name="unsupported-pair",
    severity="error",
    summary="the message exists but has no filter for this table",
    description="No SdkMessageFilter row joins the message to the table (and secondary table), "
    "and the message has no table-less row: the operation fails online and offline.",
    example='{"message": "Assign", "table": "systemuser"}  ->  MA003 Assign has no '
    "SdkMessageFilter row for systemuser",
    prepare=prepare,
)
