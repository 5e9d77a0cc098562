"""MA005 table-not-available: SdkMessageFilter.Availability for this table excludes the mode."""

from __future__ import annotations

from validator.rules.base import Context, Question, Resolution, Rule, Step, plain_reason, supported


def prepare(question: Question, res: Resolution | None, ctx: Context) -> Step | None:
    if ctx.mode == "mobile":  # the mobile client does not consult availability (MA011/MA012)
        return None
    v = res.verdict if res is not None else None
    if v is None or not supported(v) or v.available or not v.determinate:
        return None
    if v.message_availability != ("Server" if ctx.mode == "offline" else "Client"):
        return Step((plain_reason(v),))
    return None


RULE = Rule(
    id="MA005",
    name="table-not-available",
    severity="error",
    summary="SdkMessageFilter.Availability for this table excludes the mode",
    description="The message runs in the mode, but not for this table: its SdkMessageFilter "
    "row says Server (offline lint) or Client (online lint). Create is available offline, "
    "except for tables such as queue, systemuser (user) and site.",
    example='{"message": "Create", "table": "queue"}  (offline)  ->  MA005 Create on queue is '
    "not available offline: SdkMessageFilter.Availability = Server",
    prepare=prepare,
)
