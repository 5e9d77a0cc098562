"""MA010 ownership-dependent: the answer depends on a custom table's unknown ownership."""

from __future__ import annotations

from validator.rules.base import Context, Question, Resolution, Rule, Step, plain_reason


def prepare(question: Question, res: Resolution | None, ctx: Context) -> Step | None:
    if ctx.mode == "mobile":
        # (an undetermined mobile verdict is reported by MA011 / MA012, which say why)
        return None
    v = res.verdict if res is not None else None
    if v is not None and not v.determinate:
        return Step((plain_reason(v),))
    return None


RULE = Rule(
    id="MA010",
    name="ownership-dependent",
    severity="warning",
    summary="the answer depends on a custom table's ownership, which the data does not give",
    description="With the published default, a custom table follows the published custom-table "
    "rules, and some messages (Assign, GrantAccess...) apply only to user-owned tables. When "
    "the message would run in the mode for one ownership and not for the other, msgavail "
    "cannot tell: lint against a harvest or a snapshot of the org, which records ownership.",
    example='{"message": "Assign", "table": "new_project"}  (online)  ->  MA010 Assign on '
    "custom table new_project depends on its ownership: only user-owned custom tables "
    "support it",
    prepare=prepare,
)
