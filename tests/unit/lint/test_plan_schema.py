"""The shipped plan schema and the readers' fast check agree on what a valid operation is."""

from __future__ import annotations

import json
import os
import typing as t

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validator.readers.structure import document_problem, operation_problems

SCHEMA_PATH = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "validator", "schemas", "plan.schema.json"
)
CASES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "lint", "cases")

with open(SCHEMA_PATH) as _fh:
    SCHEMA = json.load(_fh)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def schema_valid_operation(op: t.Any) -> bool:
    return VALIDATOR.is_valid({"operations": [op]})


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_ships_in_the_package() -> None:
    from importlib import resources

    text = resources.files("validator").joinpath("schemas/plan.schema.json").read_text()
    assert json.loads(text) == SCHEMA


def corpus_operations() -> list[t.Any]:
    found: list[t.Any] = []
    for name in sorted(os.listdir(CASES)):
        if name.endswith(".json"):
            with open(os.path.join(CASES, name)) as fh:
                found.extend(json.load(fh)["operations"])
    return found


@pytest.mark.parametrize("op", corpus_operations())
def test_agree_on_the_corpus(op: t.Any) -> None:
    assert schema_valid_operation(op) == (operation_problems(op) == [])


GUID = "2b6c1d9e-1111-4f5e-9a7b-000000000001"
values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.just(""), st.just(GUID), st.just("{" + GUID + "}"),
    st.just("$acct"), st.just("$"), st.just("a b"), st.just("acct\n"), st.just("MA005"),
    st.just("ma005"), st.text(max_size=5), st.just({}), st.just({"name": "x"}), st.just([]),
    st.just(["MA005"]), st.just([{"table": "contact", "id": GUID}]), st.just([{"table": "c"}]),
    st.just([{"table": "", "id": GUID}]), st.just([{"table": "c", "id": GUID, "x": 1}]),
    st.just([1]), st.just(["MA005", 3]),
)  # fmt: skip
keys = st.sampled_from(
    ["message", "table", "entity", "secondary_table", "id", "data", "parameters", "label",
     "relationship", "related", "x-msgavail-ignore", "x-note", "colour"]
)  # fmt: skip


GOOD: dict[str, st.SearchStrategy[t.Any]] = {
    "table": st.sampled_from(["account", "new_project"]),
    "id": st.sampled_from([GUID, "$acct", "{" + GUID + "}"]),
    "data": st.just({"name": "x", "parentcustomerid_account@odata.bind": "$acct"}),
    "parameters": st.just({}),
    "label": st.sampled_from(["acct", "a.b-c_1", "1"]),
    "relationship": st.just("contact_customer_accounts"),
    "related": st.just([{"table": "contact", "id": GUID}]),
    "x-msgavail-ignore": st.just(["MA005", "MA009"]),
    "x-note": values,
}
# Valid operations, and valid ones with one field replaced, so both answers are exercised.
good_ops = st.fixed_dictionaries({"message": st.just("Create")}, optional=GOOD)
one_wrong = st.tuples(good_ops, keys, values).map(lambda p: {**p[0], p[1]: p[2]})
near_valid = good_ops | one_wrong


@settings(max_examples=400, deadline=None)
@given(near_valid | st.dictionaries(keys, values, max_size=6) | values)
def test_agree_on_generated_operations(op: t.Any) -> None:
    assert schema_valid_operation(op) == (operation_problems(op) == []), operation_problems(op)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["operations", "$schema", "x-a", "plan"]), values))
def test_agree_on_documents(doc: dict[str, t.Any]) -> None:
    # Operations themselves are checked separately; compare the document level only.
    shell = {k: ([] if k == "operations" and isinstance(v, list) else v) for k, v in doc.items()}
    assert VALIDATOR.is_valid(shell) == (document_problem(shell) is None)


def _slow_build(index: int, value: t.Any) -> t.Any:
    """build_operation as it was: keyword-built, every field through the full check."""
    from validator.plan import Operation, Related, find_references
    from validator.readers.structure import IGNORE_FIELD

    def s(v: t.Any) -> t.Any:
        return v if isinstance(v, str) and v else None

    problems = tuple(operation_problems(value))
    if not isinstance(value, dict):
        return Operation(index, None, line=1, column=1, path="p", raw=value, problems=problems)
    rel = value.get("related")
    related = tuple(
        Related(r["table"], r["id"])
        for r in (rel if isinstance(rel, list) else ())
        if isinstance(r, dict) and isinstance(r.get("table"), str) and isinstance(r.get("id"), str)
    )
    data = value.get("data") if isinstance(value.get("data"), dict) else None
    codes = value.get(IGNORE_FIELD)
    sup = tuple(c for c in codes if isinstance(c, str)) if isinstance(codes, list) else None
    return Operation(
        index=index, message=s(value.get("message")),
        table=s(value.get("table")) or s(value.get("entity")),
        secondary_table=s(value.get("secondary_table")), id=s(value.get("id")), data=data,
        parameters=value.get("parameters") if isinstance(value.get("parameters"), dict) else None,
        label=s(value.get("label")), relationship=s(value.get("relationship")), related=related,
        line=1, column=1, path="p", raw=value, problems=problems,
        references=find_references(s(value.get("id")), data, related), suppressions=sup,
        suppression_line=1 if sup is not None else None,
        suppression_column=1 if sup is not None else None,
    )  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(near_valid | st.dictionaries(keys, values, max_size=6) | values)
def test_the_fast_build_is_the_full_build(op: t.Any) -> None:
    # issue 14: operations are built positionally with a quick pass for the common shape; the
    # result must be the keyword-built Operation with every check run.
    from validator.readers.structure import build_operation

    fast = build_operation(3, op, path="p", line=1, column=1)
    assert fast == _slow_build(3, op) and type(fast) is type(_slow_build(3, op))
