"""The linter over operations: one engine answer per distinct question, MA007, suppressions,
and robustness against any operation a reader can produce."""

from __future__ import annotations

import datetime as dt
import json
import os
import typing as t

from hypothesis import given, settings
from hypothesis import strategies as st

from validator.api import default_engine, load_engine
from validator.engine import Engine
from validator.linter import LintConfig, Linter
from validator.linter.core import stale_message
from validator.readers.structure import build_operation

SNAPSHOT = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "fixtures", "lint", "contoso-snapshot.json"
)
HARVESTED = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def ops(*values: t.Any, path: str = "p.json") -> list[t.Any]:
    return [build_operation(i, v, path=path, line=i + 1, column=1) for i, v in enumerate(values)]


def test_engine_is_asked_once_per_distinct_question() -> None:
    engine = default_engine()
    calls: list[tuple[t.Any, ...]] = []

    class Counting(Engine):
        def check(self, *a: t.Any, **k: t.Any) -> t.Any:
            calls.append(a)
            return super().check(*a, **k)

    linter = Linter(Counting(engine.snapshot))
    many = [{"message": "Create", "table": "queue"}, {"message": "Create", "table": "account"}]
    diags = linter.lint_operations("p.json", ops(*(many * 500)))
    assert len(diags) == 500 and {d.code for d in diags} == {"MA005"}
    assert len(calls) == 2


def test_stale_metadata_once_per_run_at_its_first_operation() -> None:
    engine = load_engine(snapshot=SNAPSHOT)
    assert stale_message(engine, dt.timedelta(days=30), HARVESTED + dt.timedelta(days=29)) is None
    msg = stale_message(engine, dt.timedelta(days=30), HARVESTED + dt.timedelta(days=45))
    assert msg is not None and "45 days ago" in msg and "30 days" in msg
    linter = Linter(engine, LintConfig(), now=HARVESTED + dt.timedelta(days=45))
    who = {"message": "WhoAmI"}
    first = linter.lint_operations("a.json", ops(who, who, path="a.json"))
    second = linter.lint_operations("b.json", ops(who, path="b.json"))
    # once per run (issue 8): the data's age is not a property of each file
    assert [(d.path, d.operation, d.code) for d in first + second] == [("a.json", 0, "MA007")]
    # the published default has no harvest time: never stale
    assert stale_message(default_engine(), dt.timedelta(0), HARVESTED) is None
    off = Linter(engine, LintConfig(max_metadata_age=None), now=HARVESTED + dt.timedelta(days=999))
    assert off.lint_operations("c.json", ops({"message": "WhoAmI"})) == []


def test_bare_suppression_hides_everything_and_unused_is_reported() -> None:
    linter = Linter(default_engine())
    values = [{"message": "Craete", "table": "acount", "x-msgavail-ignore": ["MA001", "MA002"]}]
    assert linter.lint_operations("p.json", ops(*values)) == []
    values = [{"message": "Create", "table": "queue", "x-msgavail-ignore": ["MA005", "MA003"]}]
    (d,) = linter.lint_operations("p.json", ops(*values))
    assert (d.code, d.severity, d.message) == ("MA009", "warning", "unused suppression: MA003")
    quiet = Linter(default_engine(), LintConfig(ignore=("MA009",)))
    assert quiet.lint_operations("p.json", ops(*values)) == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6)
    | st.sampled_from(["Create", "queue", "user", "$a", "new_x", "Assign", "WhoAmI", "a"]),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(
        st.sampled_from(["message", "table", "entity", "secondary_table", "id", "data", "label",
                         "related", "x-msgavail-ignore"]), inner, max_size=5),
    max_leaves=10,
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(json_values, max_size=5), st.sampled_from(["offline", "online"]))
def test_any_operation_lints_without_crashing(values: list[t.Any], mode: t.Any) -> None:
    linter = Linter(default_engine(), LintConfig(mode=mode))
    for d in linter.lint_operations("p.json", ops(*values)):
        assert d.code.startswith("MA") and d.message and "\n" not in d.message
        json.dumps(d.to_json())
