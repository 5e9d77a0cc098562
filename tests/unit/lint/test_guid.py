"""One GUID pattern for the whole code base (issue 8 scope 4): validator.plan.GUID_PATTERN."""

from __future__ import annotations

import json
import os
import re
from importlib import resources

import pytest

from validator.plan import GUID_PATTERN, LABEL_PATTERN, is_guid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def test_no_other_guid_pattern_in_the_package() -> None:
    spelled = re.compile(r"\{8\}-")  # how any hand-written GUID regex spells its first group
    found = []
    for top in ("metadata", "validator"):
        for root, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(root, name)
                    with open(path, encoding="utf-8") as fh:
                        found += [path for line in fh if spelled.search(line)]
    assert [os.path.relpath(p, ROOT) for p in found] == [os.path.join("validator", "plan.py")]


def test_the_plan_schema_spells_the_same_pattern() -> None:
    text = resources.files("validator").joinpath("schemas/plan.schema.json").read_text()
    pattern = json.loads(text)["$defs"]["id"]["pattern"]
    assert pattern == f"^({GUID_PATTERN}|\\${LABEL_PATTERN})$(?!\\n)"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2b6c1d9e-1111-4f5e-9a7b-000000000001", True),
        ("{2B6C1D9E-1111-4F5E-9A7B-000000000001}", True),
        ("2b6c1d9e-1111-4f5e-9a7b-000000000001\n", False),
        ("2b6c1d9e11114f5e9a7b000000000001", False),
        ("$acme", False),
    ],
)
def test_is_guid(value: str, ok: bool) -> None:
    assert is_guid(value) is ok
