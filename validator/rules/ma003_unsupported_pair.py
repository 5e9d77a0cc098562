"""MA003 unsupported-pair: the message exists but has no filter for this table."""

from __future__ import annotations

import typing as t

from validator.plan import Operation
from validator.rules.base import Context, Rule, plain_reason, supported


def check(op: Operation, ctx: Context) -> t.Iterator[str]:
    res = ctx.resolve(op)
    verdict = res.verdict if res is not None else None
    if verdict is not None and not supported(verdict) and verdict.determinate:
        yield plain_reason(verdict)


RULE = Rule(
    id="MA003",
    name="unsupported-pair",
    severity="error",
    summary="the message exists but has no filter for this table",
    description="No SdkMessageFilter row joins the message to the table (and secondary table), "
    "and the message has no table-less row: the operation fails online and offline.",
    example='{"message": "Assign", "table": "systemuser"}  ->  MA003 Assign has no '
    "SdkMessageFilter row for systemuser",
    check=check,
)
