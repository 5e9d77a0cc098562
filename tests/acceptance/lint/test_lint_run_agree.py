"""`lint --mode offline` and `run --offline` give the same findings for the same plan.

Every check on a plan is a lint rule; the executor only consumes the linter's results (issue 8).
Every fixture plan goes through both commands, against the published default and a snapshot,
and so does one plan per check the executor used to make on its own (each of which once linted
clean and then failed in `run`). The one designed difference: `run` does not honour inline
suppressions (an operation that cannot run offline must not be queued whatever the file says).
"""

from __future__ import annotations

import json
import os
import typing as t

import pytest

from tests.cli_runner import run_cli
from validator.readers import read_plan

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
CASES = os.path.join(ROOT, "fixtures", "lint", "cases")
SNAPSHOT = os.path.join(ROOT, "fixtures", "lint", "contoso-snapshot.json")
PLANS = sorted(
    [os.path.join(CASES, n) for n in os.listdir(CASES) if not n.endswith(".expect")]
    # and the plans README's examples use
    + [os.path.join(ROOT, "examples", n) for n in ("visit.json", "refused.json")]
    + [os.path.join(ROOT, "examples", "plans", n) for n in ("field-visit.yaml", "import.batch")]
)

A = "c0ffee00-0000-4000-8000-000000000001"
B = "c0ffee00-0000-4000-8000-000000000002"
REL = "contact_customer_accounts"
READ = {"message": "RetrieveMultiple", "table": "account", "label": "found"}
# The checks validator/executor/enqueue.py made before they became rules: (plan, code).
FORMER_ENQUEUE_CHECKS: dict[str, tuple[list[dict[str, t.Any]], str]] = {
    "update-without-id": ([{"message": "Update", "table": "account", "data": {"name": "x"}}],
                          "MA006"),
    "delete-without-id": ([{"message": "Delete", "table": "account"}], "MA006"),
    "setstate-without-id": ([{"message": "SetState", "table": "account",
                              "data": {"statecode": 1}}], "MA006"),
    "associate-without-id": ([{"message": "Associate", "table": "account", "relationship": REL,
                               "related": [{"table": "contact", "id": B}]}], "MA006"),
    "disassociate-without-id": ([{"message": "Disassociate", "table": "account",
                                  "relationship": REL,
                                  "related": [{"table": "contact", "id": B}]}], "MA006"),
    "create-without-table": ([{"message": "Create", "data": {"name": "x"}}], "MA006"),
    "setstate-without-state": ([{"message": "SetState", "table": "account", "id": A}], "MA006"),
    "associate-without-relationship": ([{"message": "Associate", "table": "account", "id": A,
                                         "related": [{"table": "contact", "id": B}]}], "MA006"),
    "associate-without-related": ([{"message": "Associate", "table": "account", "id": A,
                                    "relationship": REL}], "MA006"),
    "id-label-without-record": ([READ, {"message": "Update", "table": "account",
                                        "id": "$found", "data": {"name": "x"}}], "MA014"),
    "related-label-without-record": ([READ, {"message": "Associate", "table": "account",
                                             "id": A, "relationship": REL,
                                             "related": [{"table": "contact", "id": "$found"}]}],
                                     "MA014"),
    "bind-label-undefined": ([{"message": "Create", "table": "contact",
                               "data": {"parentcustomerid_account@odata.bind": "$nowhere"}}],
                             "MA008"),
    "bind-label-without-record": ([READ, {"message": "Create", "table": "contact",
                                          "data": {"parentcustomerid_account@odata.bind":
                                                   "/accounts($found)"}}], "MA014"),
    "related-table-unknown": ([{"message": "Associate", "table": "account", "id": A,
                                "relationship": REL,
                                "related": [{"table": "contct", "id": B}]}], "MA002"),
}  # fmt: skip

Finding = tuple[int, int, int, str, str]


def _findings(stdout: str) -> list[Finding]:
    doc = json.loads(stdout)
    return [(d["line"], d["column"], d["operation"], d["code"], d["message"])
            for d in doc["diagnostics"]]  # fmt: skip


def _both(
    plan: str, source: list[str], data_dir: str, capsys: pytest.CaptureFixture[str]
) -> tuple[tuple[int, list[Finding]], tuple[int, list[Finding]]]:
    lint = run_cli(["lint", plan, "--mode", "offline", "--format", "json", *source], capsys)
    run = run_cli(
        ["run", plan, "--offline", "--format", "json", "--data-dir", data_dir, *source], capsys
    )
    assert "Traceback" not in lint.stderr + run.stderr
    assert run.exit_code in (0, 1), run  # never "unreadable" for a plan lint could read
    return (lint.exit_code, _findings(lint.stdout)), (run.exit_code, _findings(run.stdout))


def _suppressed_operations(plan: str) -> set[int]:
    return {op.index for op in read_plan(plan).operations if op.suppressions is not None}


@pytest.mark.parametrize("source", [[], ["--snapshot", SNAPSHOT]], ids=["published", "snapshot"])
@pytest.mark.parametrize("plan", PLANS, ids=os.path.basename)
def test_fixture_plan_gives_the_same_findings(
    plan: str, source: list[str], data_dir: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (lint_status, lint), (run_status, run) = _both(plan, source, data_dir, capsys)
    suppressed = _suppressed_operations(plan)
    if not suppressed:
        assert run == lint
        assert run_status == lint_status
        return
    # run ignores inline suppressions: it reports what they hid, and no MA009 about them.
    assert {f for f in lint if f[3] != "MA009"} <= set(run)
    extra = [f for f in run if f not in lint]
    assert extra and all(f[2] in suppressed for f in extra)


@pytest.mark.parametrize("name", sorted(FORMER_ENQUEUE_CHECKS))
def test_former_executor_check_is_a_lint_finding(
    name: str, tmp_path: t.Any, data_dir: str, capsys: pytest.CaptureFixture[str]
) -> None:
    operations, code = FORMER_ENQUEUE_CHECKS[name]
    plan = tmp_path / f"{name}.json"
    plan.write_text(json.dumps({"operations": operations}, indent=1))
    (lint_status, lint), (run_status, run) = _both(str(plan), [], data_dir, capsys)
    assert lint_status == run_status == 1
    assert lint == run
    assert [f[3] for f in lint] == [code]
    assert lint[0][2] == len(operations) - 1  # on the operation that breaks the rule
