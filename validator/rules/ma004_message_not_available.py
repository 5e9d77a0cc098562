"""MA004 message-not-available: SdkMessage.Availability excludes the mode."""

from __future__ import annotations

from validator.rules.base import Context, Question, Resolution, Rule, Step, plain_reason, supported


def prepare(question: Question, res: Resolution | None, ctx: Context) -> Step | None:
    if ctx.mode == "mobile":  # the mobile client does not consult availability (MA011/MA012)
        return None
    v = res.verdict if res is not None else None
    if v is None or not supported(v) or v.available or not v.determinate:
        return None
    if v.message_availability == ("Server" if ctx.mode == "offline" else "Client"):
        return Step((plain_reason(v),))
    return None


RULE = Rule(
    id="MA004",
    name="message-not-available",
    severity="error",
    summary="SdkMessage.Availability excludes the mode",
    description="The message itself runs only on the server (Availability = Server) when "
    "linting for offline, or only on the offline client (Availability = Client) when linting "
    "for online, whatever the table.",
    example='{"message": "Assign", "table": "account"}  (offline)  ->  MA004 Assign on account '
    "is not available offline: SdkMessage.Availability = Server",
    prepare=prepare,
)
