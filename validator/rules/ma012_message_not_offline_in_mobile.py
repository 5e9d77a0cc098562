"""MA012 message-not-offline-in-mobile: mobile mode, the message is not one the client runs."""

from __future__ import annotations

from validator.rules.base import Context, Question, Resolution, Rule, Step, plain_reason

BASES = frozenset({"message", "message-undetermined"})


def prepare(question: Question, res: Resolution | None, ctx: Context) -> Step | None:
    if ctx.mode != "mobile":
        return None
    v = res.verdict if res is not None else None
    if v is not None and v.mobile_basis in BASES:
        return Step((plain_reason(v),))
    return None


RULE = Rule(
    id="MA012",
    name="message-not-offline-in-mobile",
    severity="error",
    summary="mobile mode: the mobile client runs only Create, Retrieve, RetrieveMultiple, Update, "
    "Delete offline",
    description="Xrm.WebApi.offline has createRecord, retrieveRecord, retrieveMultipleRecords, "
    "updateRecord and deleteRecord; actions, functions and custom APIs (Assign, WhoAmI, custom "
    "actions) go through Xrm.WebApi.online.execute, which is supported only online, and N:N "
    "relationships are read-only offline (Associate, Disassociate). Where the published docs "
    "leave a message open (SetState, Upsert) the message says it is undetermined and why; it "
    "is not queued.",
    example='{"message": "Assign", "table": "account"}  (mobile)  ->  MA012 Assign is not '
    "available in mobile offline: the mobile client runs only Create, Retrieve, "
    "RetrieveMultiple, Update and Delete offline",
    prepare=prepare,
)
