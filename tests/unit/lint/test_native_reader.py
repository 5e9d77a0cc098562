"""Native plans: positions for every operation, schema problems as data, suppressions."""

from __future__ import annotations

import json
import os
import typing as t

import pytest

from metadata.errors import PlanError
from validator.plan import Related
from validator.readers import expand_paths, read_plan


def write(tmp_path: t.Any, name: str, text: str) -> str:
    p = os.path.join(tmp_path, name)
    with open(p, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    return p


def test_json_positions_follow_the_text(tmp_path: t.Any) -> None:
    text = (
        '{\n  "x-note": {"operations": [1, 2]},\n  "operations": [\n'
        '    {"message": "Create", "table": "account"},   {"message": "WhoAmI"},\n'
        '\n\t{"message": "Delete", "table": "queue",\n     "id": "$q"}\n  ]\n}\n'
    )
    plan = read_plan(write(tmp_path, "p.json", text))
    assert [(o.line, o.column) for o in plan.operations] == [(4, 5), (4, 50), (6, 2)]
    assert [o.index for o in plan.operations] == [0, 1, 2]
    assert plan.operations[2].references == ("q",)
    assert plan.kind == "plan"


def test_json_positions_match_a_reference_parse(tmp_path: t.Any) -> None:
    ops = [{"message": "Create", "table": f"t{i}", "data": {"s": "x\n" * i}} for i in range(30)]
    text = json.dumps({"operations": ops}, indent=3)
    plan = read_plan(write(tmp_path, "p.json", text))
    lines = text.split("\n")
    for op in plan.operations:
        assert lines[op.line - 1][op.column - 1] == "{"
        assert op.raw == ops[op.index]


def test_operation_fields(tmp_path: t.Any) -> None:
    text = json.dumps(
        {
            "operations": [
                {
                    "message": "Associate",
                    "entity": "account",
                    "id": "$acct",
                    "relationship": "contact_customer_accounts",
                    "related": [{"table": "contact", "id": "$bob"}],
                    "label": "assoc",
                    "parameters": {"x": 1},
                },
                {
                    "message": "Create",
                    "table": "contact",
                    "data": {"parentcustomerid_account@odata.bind": "$acct", "name": "$100x"},
                },
            ]
        }
    )
    first, second = read_plan(write(tmp_path, "p.json", text)).operations
    assert first.table == "account"  # "entity" is a synonym
    assert first.related == (Related("contact", "$bob"),)
    assert first.references == ("acct", "bob")
    assert first.parameters == {"x": 1}
    assert first.label == "assoc"
    assert first.problems == ()
    assert second.references == ("acct",)  # only @odata.bind values refer


def test_yaml_positions_and_comments(tmp_path: t.Any) -> None:
    text = (
        "operations:\n"
        "  # msgavail: ignore[MA005, ma004]\n"
        "  - message: Create\n"
        "    table: queue\n"
        "  - {message: Create, table: site}  # msgavail: ignore\n"
        "  -   message: Create   # a plain comment\n"
        "      table: account\n"
    )
    ops = read_plan(write(tmp_path, "p.yaml", text)).operations
    assert [(o.line, o.column) for o in ops] == [(3, 5), (5, 5), (6, 7)]
    assert ops[0].suppressions == ("MA005", "MA004")
    assert ops[0].suppression_line == 2
    assert ops[1].suppressions == ()
    assert ops[2].suppressions is None


def test_yaml_aliases_are_refused_where_they_are(tmp_path: t.Any) -> None:
    # issue 13: a "billion laughs" of aliases made a 483-byte plan a 515 MB journal in `run`.
    lines = ['a0: &a0 {"message": "Create", "table": "account"}']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    text = "x-laughs:\n" + "\n".join("  " + ln for ln in lines) + "\noperations: *a9\n"
    with pytest.raises(PlanError) as info:
        read_plan(write(tmp_path, "p.yaml", text))
    assert ":3:12: YAML aliases are not allowed in a plan (*a0 reuses" in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "operations: &a [*a]\n",  # a list that contains itself
        "operations:\n- &op {message: Create, table: account}\n- *op\n",
        "x-base: &b {table: account}\noperations:\n- <<: *b\n  message: Create\n",
    ],
)
def test_every_alias_is_refused(tmp_path: t.Any, text: str) -> None:
    with pytest.raises(PlanError, match="YAML aliases are not allowed"):
        read_plan(write(tmp_path, "p.yaml", text))


@pytest.mark.parametrize(
    ("name", "text", "where", "key"),
    [
        ("a.yaml", "operations: []\noperations:\n- message: WhoAmI\n", ":2:1:", "'operations'"),
        (
            "b.yaml",
            "operations:\n- message: Create\n  table: account\n  table: queue\n",
            ":4:3:",
            "'table'",
        ),
        (
            "c.yaml",
            "operations:\n- {message: Create, data: {name: a, name: b}}\n",
            ":2:37:",
            "'name'",
        ),
        (
            "d.json",
            '{"operations": [], "operations": [{"message": "WhoAmI"}]}',
            ":1:20:",
            '"operations"',
        ),
        (
            "e.json",
            '{"operations": [\n {"message": "Create", "table": "account",\n  "table": "queue"}]}',
            ":3:3:",
            '"table"',
        ),
        (
            "f.json",
            '{"operations": [{"message": "Create", "data": {"a:b": 1, "a:b": 2}}]}',
            ":1:58:",
            '"a:b"',
        ),
        (
            "g.json",
            '{"$schema": "s", "x-a": {"k": 1, "k": 2}, "operations": []}',
            ":1:34:",
            '"k"',
        ),
    ],
)
def test_duplicate_keys_are_refused_with_their_line(
    tmp_path: t.Any, name: str, text: str, where: str, key: str
) -> None:
    # issue 13: a second "operations" (or "table") silently replaced the first.
    with pytest.raises(PlanError) as info:
        read_plan(write(tmp_path, name, text))
    msg = str(info.value)
    assert where in msg and f"duplicate key {key}" in msg and "\n" not in msg


def test_colons_inside_values_are_not_duplicates(tmp_path: t.Any) -> None:
    text = '{"operations": [{"message": "Create", "table": "account", "data": {"a": "b:c"}}]}'
    ops = read_plan(write(tmp_path, "p.json", text)).operations
    assert ops[0].data == {"a": "b:c"}


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("a.json", '{"operations": [}', ":1:17:"),
        ("b.json", '{"operations": []} []', ":1:20:"),
        ("c.json", '{"operations": [], "plan": 1}', ":1:1:"),
        ("d.json", "[" * 100_000, ":1:"),
        ("e.yaml", "operations:\n- message: [\n", ":3:1:"),
        ("f.yaml", "- 1\n", ":1:1:"),
        ("g.yaml", "operations: []\n---\noperations: []\n", ":2:1:"),
    ],
)
def test_unreadable_plans_raise_with_position(
    tmp_path: t.Any, name: str, text: str, where: str
) -> None:
    with pytest.raises(PlanError) as info:
        read_plan(write(tmp_path, name, text))
    assert where in str(info.value)
    assert "\n" not in str(info.value)


def test_directories_are_recursed_for_known_extensions(tmp_path: t.Any) -> None:
    os.makedirs(os.path.join(tmp_path, "plans", "deep"))
    os.makedirs(os.path.join(tmp_path, "plans", "node_modules"))
    os.makedirs(os.path.join(tmp_path, "plans", ".hidden"))
    for rel, text in (
        ("plans/a.json", '{"operations": []}'),
        ("plans/deep/b.YAML", "operations: []"),
        ("plans/deep/c.batch", "--b"),
        ("plans/deep/d.xml", "<OrganizationRequest/>"),
        ("plans/deep/package.json", '{"name": "not a plan"}'),
        ("plans/deep/ci.yaml", "jobs: {}"),
        ("plans/notes.txt", "operations"),
        ("plans/node_modules/e.json", '{"operations": []}'),
        ("plans/.hidden/f.json", '{"operations": []}'),
    ):
        write(tmp_path, rel, text)
    found = expand_paths([os.path.join(tmp_path, "plans")])
    assert [os.path.relpath(f, tmp_path) for f in found] == [
        "plans/a.json",
        "plans/deep/b.YAML",
        "plans/deep/c.batch",
        "plans/deep/d.xml",
    ]
    named = os.path.join(tmp_path, "plans", "deep", "package.json")
    assert expand_paths([named]) == [named]  # a file named explicitly is always read
    assert expand_paths([named], skip_non_plans=True) == []
    with pytest.raises(PlanError, match="no such file"):
        expand_paths([os.path.join(tmp_path, "missing.json")])
