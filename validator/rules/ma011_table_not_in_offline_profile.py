"""MA011 table-not-in-offline-profile: mobile mode, the table is not in the chosen profile."""

from __future__ import annotations

from validator.rules.base import Context, Question, Resolution, Rule, Step, plain_reason

BASES = frozenset({"not-in-profile", "not-offline-enabled", "table-undetermined"})


def prepare(question: Question, res: Resolution | None, ctx: Context) -> Step | None:
    if ctx.mode != "mobile":
        return None
    v = res.verdict if res is not None else None
    if v is not None and v.mobile_basis in BASES:
        return Step((plain_reason(v),))
    return None


RULE = Rule(
    id="MA011",
    name="table-not-in-offline-profile",
    severity="error",
    summary="mobile mode: the table is not in the chosen offline profile (or not enabled for "
    "offline)",
    description="The Power Apps mobile client runs Xrm.WebApi.offline operations only for tables "
    "that are items of the user's mobile offline profile (mobileofflineprofileitem) and enabled "
    "for offline (EntityDefinitions IsAvailableOffline). The message names the profile. "
    "SdkMessageFilter.Availability is not consulted in mobile mode.",
    example='{"message": "Create", "table": "queue"}  (mobile, profile "Field Technician")  ->  '
    "MA011 Create on queue is not available in mobile offline: queue is not a table of the "
    "mobile offline profile 'Field Technician'",
    prepare=prepare,
)
