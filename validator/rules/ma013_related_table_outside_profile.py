"""MA013 related-table-outside-profile: mobile mode, an @odata.bind target is not in the profile.

A lookup set with ``"nav@odata.bind": "/contacts(<id>)"`` (or ``"$label"`` / ``"/contacts($label)"``
naming an earlier operation) points at a record of the entity set's table. When that table is
not in the profile the device has no copy of the record: the write is queued but the related
record cannot be resolved on the device (Xrm.WebApi.offline validates related tables only as
far as "checking whether the related table is offline enabled when retrieving related table
records"; business validation happens at sync).
"""

from __future__ import annotations

from validator.plan import BIND_SUFFIX, Operation, bind_reference
from validator.rules.base import Context, Question, Resolution, Rule, Step


def _entity_set(value: str) -> str | None:
    """``/contacts(<id>)``, ``contacts(<id>)`` or a full URL ending so -> ``contacts``."""
    text = value.rsplit("/", 1)[-1] if "(" in value else value
    if not text.endswith(")") or "(" not in text:
        return None
    name = text.partition("(")[0]
    return name or None


def _outside(ctx: Context, table: str) -> str | None:
    """The logical name of ``table`` when it is known and not in the profile, else None."""
    cache = ctx.outside_profile
    if table not in cache:
        logical = ctx.engine.names.lookup_table(table)
        assert ctx.profile is not None
        in_profile = logical is None or ctx.engine.snapshot.profile_item(ctx.profile, logical)
        cache[table] = None if in_profile else logical
    found: str | None = cache[table]
    return found


def _remember(op: Operation, ctx: Context) -> None:
    if op.label is not None and op.table is not None:
        # Remember only labels of records outside the profile (all a later bind needs to know):
        # a plan whose tables are all in the profile keeps nothing per operation.
        outside = _outside(ctx, op.table)
        if outside is not None:
            ctx.label_tables[(op.scope, op.label)] = outside


def _check(op: Operation, ctx: Context) -> list[str] | None:
    _remember(op, ctx)
    data = op.data
    if not data or not isinstance(data, dict):
        return None
    for k in data:
        if isinstance(k, str) and k.endswith(BIND_SUFFIX):
            break
    else:
        return None
    engine = ctx.engine
    profile = ctx.profile
    assert profile is not None
    found: list[str] = []
    for key, value in data.items():
        if not (isinstance(key, str) and key.endswith(BIND_SUFFIX) and isinstance(value, str)):
            continue
        label = bind_reference(value)
        if label is not None:
            # in the profile, or undefined (MA008 reports that): nothing to say here
            table = ctx.label_tables.get((op.scope, label))
            via = f"${label}"
        else:
            name = _entity_set(value)
            via = f"entity set {name}"
            table = engine.names.lookup_table(name) if name else None  # unknown: not ours
        if table is not None and engine.snapshot.profile_item(profile, table) is None:
            found.append(
                f"{key} points at a {table} record ({via}), and {table} is not a table of the "
                f"mobile offline profile {profile!r}: the related record cannot be resolved "
                "on the device"
            )
    return found


_RUNS_OFFLINE = Step((), _check)
# The operation itself does not run offline (MA003 / MA011 / MA012 say so): its binds are not
# reported, but its label may still name a record outside the profile.
_DOES_NOT_RUN = Step((), _remember)


def prepare(question: Question, res: Resolution | None, ctx: Context) -> Step | None:
    if ctx.mode != "mobile" or ctx.profile is None:
        return None
    v = res.verdict if res is not None else None
    return _RUNS_OFFLINE if v is not None and v.available else _DOES_NOT_RUN


RULE = Rule(
    id="MA013",
    name="related-table-outside-profile",
    severity="warning",
    summary="mobile mode: an @odata.bind target's table is not in the profile",
    description="The operation runs offline, but a lookup it sets through @odata.bind points at "
    "a table that is not in the user's mobile offline profile, so the device has no copy of "
    "the related record. The write is queued; expect the lookup to be unresolved on the device "
    "until sync, or add the table to the profile.",
    example='{"message": "Create", "table": "contact", "data": {"parentcustomerid_account'
    '@odata.bind": "/queues(00000000-0000-0000-0000-000000000001)"}}  ->  MA013 '
    "parentcustomerid_account@odata.bind points at a queue record ...",
    prepare=prepare,
)
