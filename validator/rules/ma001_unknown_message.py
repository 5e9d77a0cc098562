"""MA001 unknown-message: the operation names a message that is not in the data."""

from __future__ import annotations

import typing as t

from validator.plan import Operation
from validator.rules.base import Context, Rule


def check(op: Operation, ctx: Context) -> t.Iterator[str]:
    res = ctx.resolve(op)
    if res is not None and res.message_error is not None:
        yield str(res.message_error)


RULE = Rule(
    id="MA001",
    name="unknown-message",
    severity="error",
    summary="no such message in the data",
    description="The message (SdkMessage.Name) is not in the data msgavail checks against: a "
    "typo, a custom action the data does not know, or data from another org. Names match "
    "case-insensitively; the nearest known names are suggested.",
    example='{"message": "Craete", "table": "account"}  ->  MA001 unknown message \'Craete\'; '
    "did you mean Create?",
    check=check,
)
