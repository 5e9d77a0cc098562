"""The linter's fast path (one plan of rule steps per distinct question, operation checks only
where they can apply) against a straightforward reference: every rule asked about every
operation, as the rules were first written, on varied plans in each mode.

The reference below is deliberately plain (one function per rule, each looking at the operation
and the engine's answer from scratch); it is the oracle, so it must not share the fast path's
per-question plans.
"""

from __future__ import annotations

import os
import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metadata.errors import UnknownMessageError
from metadata.model import Mode
from tests import mobile_support
from validator.api import default_engine, load_engine
from validator.engine import Engine, Verdict
from validator.linter import LintConfig, Linter
from validator.plan import BIND_SUFFIX, Operation, bind_reference, reference_label
from validator.readers import iter_operations
from validator.readers.structure import build_operation
from validator.rules import RULES
from validator.rules.base import Context, LabelTarget, Resolution, plain_reason, supported

from .test_linter import SNAPSHOT

FIELD = "Field Technician"
GUID = "00000000-0000-0000-0000-0000000000a1"
Found = list[tuple[str, str]]


def _message_name(ctx: Context, op: Operation) -> str | None:
    if op.message is None:
        return None
    try:
        return ctx.engine.names.message(op.message)
    except UnknownMessageError:
        return None


def _verdict(res: Resolution | None) -> Verdict | None:
    return res.verdict if res is not None else None


class _State:
    """The reference's own record of what earlier operations of the file defined."""

    def __init__(self) -> None:
        self.labels: dict[str | None, set[str]] = {}
        self.all_labels: dict[str, str | None] = {}
        self.records: dict[tuple[str | None, str], LabelTarget] = {}
        self.label_tables: dict[tuple[str | None, str], str | None] = {}


def ref_ma001(op: Operation, ctx: Context, res: Resolution | None, st_: _State) -> list[str]:
    return [str(res.message_error)] if res is not None and res.message_error else []


def ref_ma002(op: Operation, ctx: Context, res: Resolution | None, st_: _State) -> list[str]:
    out = [str(e) for e in res.table_errors] if res is not None else []
    names = ctx.engine.names
    for rel in op.related:
        if names.lookup_table(rel.table) is None and not names.is_presumed_custom(rel.table):
            try:
                names.table(rel.table)
            except Exception as exc:  # UnknownTableError
                out.append(f"related record: {exc}")
    return out


def ref_ma003(op: Operation, ctx: Context, res: Resolution | None, st_: _State) -> list[str]:
    v = _verdict(res)
    return [plain_reason(v)] if v is not None and not supported(v) and v.determinate else []


def _availability(ctx: Context, res: Resolution | None, *, message_wide: bool) -> list[str]:
    v = _verdict(res)
    if ctx.mode == "mobile" or v is None or not supported(v) or v.available:
        return []
    if not v.determinate:
        return []
    server_side = v.message_availability == ("Server" if ctx.mode == "offline" else "Client")
    return [plain_reason(v)] if server_side == message_wide else []


def ref_ma004(op: Operation, ctx: Context, res: Resolution | None, st_: _State) -> list[str]:
    return _availability(ctx, res, message_wide=True)


def ref_ma005(op: Operation, ctx: Context, res: Resolution | None, st_: _State) -> list[str]:
    return _availability(ctx, res, message_wide=False)


def ref_ma006(op: Operation, ctx: Context, res: Resolution | None, st_: _State) -> list[str]:
    if op.problems:
        return list(op.problems)
    if op.scope is not None and reference_label(op.id) is not None:
        return []
    out: list[str] = []
    message = _message_name(ctx, op)
    if res is not None and res.needs_table is not None:
        out.append(f'{res.needs_table} is bound to a table: add "table"')
    elif message == "Create" and op.table is None:
        out.append('Create is bound to a table: add "table"')
    if message is None:
        return out
    verb = message.lower()
    if verb in ("update", "delete", "setstate", "associate", "disassociate") and op.id is None:
        out.append(f'{message} needs the "id" of the record it applies to')
    if verb == "setstate" and not (
        "statecode" in (op.data or {}) or "State" in (op.parameters or {})
    ):
        out.append('SetState needs the new state: "statecode" in data or "State" in parameters')
    if verb in ("associate", "disassociate"):
        if op.relationship is None:
            out.append(f'{message} needs a "relationship" (the relationship\'s schema name)')
        if not op.related:
            out.append(f'{message} needs at least one "related" record')
    return out


def ref_ma008(op: Operation, ctx: Context, res: Resolution | None, st_: _State) -> list[str]:
    out = []
    what = "Content-ID" if op.scope is not None else "label"
    for ref in op.references:
        if ref in st_.labels.get(op.scope, set()):
            continue
        if ref in st_.all_labels:
            out.append(f"${ref} refers to {what} {ref!r}, which is defined in another changeset")
        else:
            out.append(f"${ref} refers to {what} {ref!r}, which no earlier operation defines")
    return out


def ref_ma010(op: Operation, ctx: Context, res: Resolution | None, st_: _State) -> list[str]:
    v = _verdict(res)
    return [plain_reason(v)] if ctx.mode != "mobile" and v is not None and not v.determinate else []


def ref_ma011(op: Operation, ctx: Context, res: Resolution | None, st_: _State) -> list[str]:
    v = _verdict(res)
    bases = {"not-in-profile", "not-offline-enabled", "table-undetermined"}
    return [plain_reason(v)] if ctx.mode == "mobile" and v and v.mobile_basis in bases else []


def ref_ma012(op: Operation, ctx: Context, res: Resolution | None, st_: _State) -> list[str]:
    v = _verdict(res)
    bases = {"message", "message-undetermined"}
    return [plain_reason(v)] if ctx.mode == "mobile" and v and v.mobile_basis in bases else []


def ref_ma013(op: Operation, ctx: Context, res: Resolution | None, st_: _State) -> list[str]:
    if ctx.mode != "mobile" or ctx.profile is None:
        return []
    names, snap = ctx.engine.names, ctx.engine.snapshot
    if op.label is not None and op.table is not None:
        logical = names.lookup_table(op.table)
        if logical is not None and not snap.profile_item(ctx.profile, logical):
            st_.label_tables[(op.scope, op.label)] = logical
    data = op.data
    if not isinstance(data, dict) or not any(
        isinstance(k, str) and k.endswith(BIND_SUFFIX) for k in data
    ):
        return []
    v = _verdict(res)
    if v is None or not v.available:
        return []
    out = []
    for key, value in data.items():
        if not (isinstance(key, str) and key.endswith(BIND_SUFFIX) and isinstance(value, str)):
            continue
        label = bind_reference(value)
        if label is not None:
            table = st_.label_tables.get((op.scope, label))
            via = f"${label}"
        else:
            text = value.rsplit("/", 1)[-1] if "(" in value else value
            name = text.partition("(")[0] if text.endswith(")") and "(" in text else None
            via = f"entity set {name or None}"
            table = names.lookup_table(name) if name else None
        if table is not None and snap.profile_item(ctx.profile, table) is None:
            out.append(
                f"{key} points at a {table} record ({via}), and {table} is not a table of the "
                f"mobile offline profile {ctx.profile!r}: the related record cannot be resolved "
                "on the device"
            )
    return out


def ref_ma014(op: Operation, ctx: Context, res: Resolution | None, st_: _State) -> list[str]:
    refs: list[tuple[str, str, bool]] = []
    label = reference_label(op.id)
    if label is not None:
        refs.append((label, '"id"', False))
    for key, value in (op.data or {}).items():
        if isinstance(key, str) and key.endswith(BIND_SUFFIX):
            label = bind_reference(value)
            if label is not None:
                refs.append((label, f"data.{key}", True))
    for rel in op.related:
        label = reference_label(rel.id)
        if label is not None:
            refs.append((label, "a related id", False))
    out = []
    for label, where, needs_table in refs if op.references else ():
        target = st_.records.get((op.scope, label))
        if target is None:
            continue
        if not target.has_id:
            problem = 'has no record id (only a Create or an operation with an "id" names a record)'
        elif needs_table and target.table is None:
            problem = 'has no "table", so @odata.bind cannot name its record'
        else:
            continue
        out.append(
            f"${label} in {where} refers to operation {target.operation + 1} "
            f"(label {label!r}), which {problem}"
        )
    return out


REFERENCE_RULES = [
    ("MA001", ref_ma001), ("MA002", ref_ma002), ("MA003", ref_ma003), ("MA004", ref_ma004),
    ("MA005", ref_ma005), ("MA006", ref_ma006), ("MA008", ref_ma008), ("MA010", ref_ma010),
    ("MA011", ref_ma011), ("MA012", ref_ma012), ("MA013", ref_ma013), ("MA014", ref_ma014),
]  # fmt: skip


def reference_lint(engine: Engine, config: LintConfig, operations: list[Operation]) -> Found:
    """(code, message) of every finding, in order: each rule in code order on each operation."""
    ctx = Context(engine, config.mode, config.profile)
    state = _State()
    out: Found = []
    for op in operations:
        if op.label is not None:
            state.all_labels.setdefault(op.label, op.scope)
        res = ctx.resolve(op)
        for code, rule in REFERENCE_RULES:
            if config.enabled(code):
                out.extend((code, m) for m in rule(op, ctx, res, state))
        if op.label is not None:
            state.labels.setdefault(op.scope, set()).add(op.label)
            has_id = op.id is not None or (_message_name(ctx, op) or "").lower() == "create"
            state.records[(op.scope, op.label)] = LabelTarget(op.index, op.table, has_id)
    return out


# Pools weighted towards what makes rules meet (a label, then a reference to it; tables in and
# out of the mobile profile; messages that need fields), with a few of each kind of mistake.
MESSAGES = [
    "Create",
    "Create",
    "Create",
    "Update",
    "Update",
    "Delete",
    "Retrieve",
    "SetState",
    "Upsert",
    "Associate",
    "Disassociate",
    "WhoAmI",
    "Assign",
    "Craete",
    "GrantAccess",
    "create",
]
TABLES = [
    None,
    "account",
    "account",
    "contact",
    "contact",
    "queue",
    "queue",
    "acount",
    "new_project",
    "user",
    "email",
    "incident",
    "contoso_badge",
    "contoso_inspection",
    "systemuser",
    "accounts",
]
IDS = [None, None, GUID, "$a", "$a", "$b", "$c", "$1", "not-a-guid"]
DATA = [
    None,
    {},
    {"statecode": 1},
    {"x@odata.bind": "$a"},
    {"x@odata.bind": "$a"},
    {"y@odata.bind": "/queues(00000000-0000-0000-0000-000000000002)"},
    {"z@odata.bind": "/contacts($b)", "name": "n"},
    {"w@odata.bind": "/nosuchsets(1)"},
    {"v@odata.bind": 3},
    {"u@odata.bind": "/contacts(00000000-0000-0000-0000-000000000003)"},
]
LABELS = [None, None, "a", "a", "b", "c", "1"]
RELATED = [[], [], [{"table": "contact", "id": "$a"}], [{"table": "acount", "id": GUID}],
           [{"table": "new_thing", "id": "$c"}]]  # fmt: skip


@st.composite
def operations(draw: st.DrawFn) -> list[Operation]:
    out: list[Operation] = []
    for index in range(draw(st.integers(0, 16))):
        value: dict[str, t.Any] = {}
        message = draw(st.sampled_from([*MESSAGES, None]))
        if message is not None:
            value["message"] = message
        for key, pool in (("table", TABLES), ("secondary_table", [None, None, "account", "x"]),
                          ("id", IDS), ("data", DATA), ("label", LABELS),
                          ("parameters", [None, {"State": 1}]),
                          ("relationship", [None, "contact_customer_accounts"]),
                          ("related", RELATED), ("bogus", [None, None, None, 1])):  # fmt: skip
            chosen = draw(st.sampled_from(pool))
            if chosen is not None:
                value[key] = chosen
        op = build_operation(index, value, path="p.json", line=index + 1, column=1)
        scope = draw(st.sampled_from([None, None, None, "cs1", "cs2"]))
        if scope is not None:  # as a $batch operation in a changeset
            op = op._replace(scope=scope)
        out.append(op)
    return out


ENGINES: dict[str, Engine] = {}


def _engine(which: str) -> Engine:
    if which not in ENGINES:
        ENGINES[which] = {
            "published": default_engine,
            "contoso": lambda: load_engine(snapshot=SNAPSHOT),
            "mobile": lambda: Engine(mobile_support.snapshot()),
        }[which]()
    return ENGINES[which]


SETUPS: list[tuple[str, Mode]] = [("published", "offline"), ("published", "online"),
                                  ("contoso", "offline"), ("contoso", "online"),
                                  ("mobile", "mobile"), ("mobile", "offline")]  # fmt: skip
IGNORES = [(), ("MA006",), ("MA00",), ("MA013", "MA002"), ("MA008", "MA014")]


@pytest.mark.parametrize(("data", "mode"), SETUPS)
@settings(max_examples=80, deadline=None)
@given(plan=operations(), ignore=st.sampled_from(IGNORES))
def test_fast_path_finds_what_every_rule_on_every_operation_finds(
    data: str, mode: Mode, plan: list[Operation], ignore: tuple[str, ...]
) -> None:
    engine = _engine(data)
    config = LintConfig(mode=mode, profile=FIELD if mode == "mobile" else None, ignore=ignore,
                        max_metadata_age=None)  # fmt: skip
    linter = Linter(engine, config)
    expected = reference_lint(engine, config, plan)
    for _ in range(2):  # a second file: nothing of the first one's labels leaks
        found = [(d.code, d.message) for d in linter.lint_operations("p.json", plan)]
        assert found == expected


def test_reference_covers_every_rule_the_linter_runs() -> None:
    decided_by_linter = {"MA007", "MA009"}
    assert set(RULES) - decided_by_linter == {code for code, _ in REFERENCE_RULES}


def _fixture_plans() -> list[str]:
    here = os.path.join(os.path.dirname(SNAPSHOT), "cases")
    return sorted(os.path.join(here, f) for f in os.listdir(here) if not f.endswith(".expect"))


@pytest.mark.parametrize("path", _fixture_plans(), ids=os.path.basename)
@pytest.mark.parametrize(("data", "mode"), SETUPS)
def test_fast_path_agrees_on_every_fixture_plan(path: str, data: str, mode: Mode) -> None:
    engine = _engine(data)
    config = LintConfig(mode=mode, profile=FIELD if mode == "mobile" else None,
                        max_metadata_age=None)  # fmt: skip
    linter = Linter(engine, config)
    _, read = iter_operations(path, names=linter.names)
    plan = [op._replace(suppressions=None) for op in read]  # the reference has none
    found = [(d.code, d.message) for d in linter.lint_operations(path, plan)]
    assert found == reference_lint(engine, config, plan)


def test_a_label_on_an_operation_that_cannot_run_still_names_its_table() -> None:
    """Create on queue does not run in mobile offline (MA011), yet a later bind to its label
    points at a table outside the profile (MA013): the label is remembered either way."""
    engine = _engine("mobile")
    config = LintConfig(mode="mobile", profile=FIELD, max_metadata_age=None)
    plan = [
        build_operation(0, {"message": "Create", "table": "queue", "label": "q"}, path="p.json",
                        line=1, column=1),
        build_operation(1, {"message": "Create", "table": "contact",
                            "data": {"parentcustomerid_account@odata.bind": "$q"}},
                        path="p.json", line=2, column=1),
    ]  # fmt: skip
    found = [(d.code, d.operation) for d in Linter(engine, config).lint_operations("p", plan)]
    assert found == [("MA011", 0), ("MA013", 1)]
    assert [c for c, _ in reference_lint(engine, config, plan)] == ["MA011", "MA013"]


def _pairs() -> list[Operation]:
    """Every kind of labelled operation, each followed by every kind of reference to it: one
    plan in which each rule meets each (definition, reference) combination."""
    firsts = [
        {"message": m, "table": tb, "label": "a", **({"id": GUID} if with_id else {})}
        for m in ("Create", "Update", "Retrieve", "WhoAmI", "Assign", "SetState", "Craete")
        for tb in (None, "account", "contact", "queue", "incident", "new_project", "acount")
        for with_id in (False, True)
    ]
    refs: list[dict[str, t.Any]] = [
        {"id": "$a"},
        {"data": {"parentcustomerid_account@odata.bind": "$a"}},
        {"data": {"parentcustomerid_account@odata.bind": "/accounts($a)"}},
        {"related": [{"table": "contact", "id": "$a"}], "relationship": "r", "id": GUID},
        {"data": {"name": "no reference"}},
    ]
    seconds = [
        {"message": m, "table": tb, **ref}
        for m in ("Create", "Update", "Associate")
        for tb in ("contact", "queue", "account")
        for ref in refs
    ]
    values = [v for first in firsts for second in seconds for v in (first, second)]
    return [build_operation(i, v, path="p.json", line=i + 1, column=1)
            for i, v in enumerate(values)]  # fmt: skip


@pytest.mark.parametrize(("data", "mode"), SETUPS)
def test_fast_path_agrees_on_every_definition_and_reference_pair(data: str, mode: Mode) -> None:
    engine = _engine(data)
    config = LintConfig(mode=mode, profile=FIELD if mode == "mobile" else None,
                        max_metadata_age=None)  # fmt: skip
    plan = _pairs()
    found = [(d.code, d.message) for d in Linter(engine, config).lint_operations("p", plan)]
    assert found == reference_lint(engine, config, plan)
    assert len({code for code, _ in found}) >= 4  # the plan does meet the rules
