"""MA001 unknown-message: the operation names a message that is not in the data."""

from __future__ import annotations

from validator.rules.base import Context, Question, Resolution, Rule, Step


def prepare(question: Question, res: Resolution | None, ctx: Context) -> Step | None:
    if res is not None and res.message_error is not None:
        return Step((str(res.message_error),))
    return None


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
    prepare=prepare,
)
