"""MA004 message-not-available: SdkMessage.Availability excludes the mode."""

from __future__ import annotations

import typing as t

from validator.plan import Operation
from validator.rules.base import Context, Rule, plain_reason, supported


def check(op: Operation, ctx: Context) -> t.Iterator[str]:
    if ctx.mode == "mobile":  # the mobile client does not consult availability (MA011/MA012)
        return
    res = ctx.resolve(op)
    v = res.verdict if res is not None else None
    if v is None or not supported(v) or v.available or not v.determinate:
        return
    if v.message_availability == ("Server" if ctx.mode == "offline" else "Client"):
        yield plain_reason(v)


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
    check=check,
)
