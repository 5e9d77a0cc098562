"""Reporters: SARIF valid against the 2.1.0 schema (and clean under SARIF Multitool when
present), GitHub / Azure escaping, JUnit XML, JSON contract."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import typing as t
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from validator.linter.diagnostics import Diagnostic, LintResult
from validator.reporters import REPORTERS, ReportContext, default_format
from validator.reporters.azure import escape_data as az_data
from validator.reporters.azure import escape_property as az_prop
from validator.reporters.github import escape_data as gh_data
from validator.reporters.github import escape_property as gh_prop

HERE = os.path.dirname(__file__)
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SARIF_SCHEMA = os.path.join(REPO, "tests", "data", "sarif-2.1.0.json")
MULTITOOL = os.path.join(
    REPO, ".ci", "node", "node_modules", "@microsoft", "sarif-multitool-linux", "Sarif.Multitool"
)


def result(*diags: Diagnostic, operations: int = 3) -> LintResult:
    files = len({d.path for d in diags}) or 1
    return LintResult(tuple(diags), files, operations, (), "published default")


def diag(code: str = "MA005", severity: t.Any = "error", path: str = "", **kw: t.Any) -> Diagnostic:
    path = path or os.path.join(REPO, "plans", "setup.yaml")
    fields = {"line": 4, "column": 5, "operation": 1, "message": "Create on queue is not "
              "available offline: SdkMessageFilter.Availability = Server", **kw}  # fmt: skip
    return Diagnostic(path, fields["line"], fields["column"], fields["operation"], code,
                      severity, fields["message"])  # fmt: skip


CTX = ReportContext(root=REPO, mode="offline", version="0.1.0")


def sarif(res: LintResult) -> dict[str, t.Any]:
    doc: dict[str, t.Any] = json.loads(REPORTERS["sarif"](res, CTX))
    with open(SARIF_SCHEMA) as fh:
        schema = json.load(fh)
    jsonschema.Draft202012Validator(schema).validate(doc)
    return doc


def test_sarif_is_valid_with_rules_help_and_relative_paths() -> None:
    doc = sarif(result(diag(), diag("MA007", "warning", line=2, column=3, operation=0)))
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules][:9] == [f"MA00{i}" for i in range(1, 10)]
    assert all(r["help"]["text"] and r["shortDescription"]["text"] for r in rules)
    first = run["results"][0]
    loc = first["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "plans/setup.yaml"
    assert loc["region"] == {"startLine": 4, "startColumn": 5}
    assert first["level"] == "error" and run["results"][1]["level"] == "warning"
    assert rules[first["ruleIndex"]]["id"] == "MA005"


def test_sarif_clean_run_has_empty_results() -> None:
    doc = sarif(result())
    assert doc["runs"][0]["results"] == []
    assert doc["version"] == "2.1.0"


@pytest.mark.skipif(not os.path.exists(MULTITOOL) and not shutil.which("sarif-multitool"),
                    reason="SARIF Multitool not installed (.ci/run installs it)")  # fmt: skip
@pytest.mark.parametrize("clean", [True, False])
def test_sarif_multitool_validate_gh_and_sarif_rules(tmp_path: t.Any, clean: bool) -> None:
    res = result() if clean else result(diag(), diag("MA009", "warning", line=7, column=23))
    log = os.path.join(tmp_path, "lint.sarif")
    with open(log, "w") as fh:
        fh.write(REPORTERS["sarif"](res, CTX))
    out = os.path.join(tmp_path, "validation.sarif")
    exe = MULTITOOL if os.path.exists(MULTITOOL) else shutil.which("sarif-multitool")
    assert exe is not None
    env = {**os.environ, "DOTNET_CLI_TELEMETRY_OPTOUT": "1"}
    proc = subprocess.run(
        [exe, "validate", "--rule-kind", "Gh;Sarif", "--output", out, log],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with open(out) as fh:
        validation = json.load(fh)
    problems = [
        f"{r['ruleId']}: {r['message'].get('text', r['message'])}"
        for r in validation["runs"][0].get("results", [])
        if r.get("level", "warning") in ("error", "warning")
    ]
    assert problems == []


def test_github_escaping_follows_the_toolkit() -> None:
    assert gh_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert gh_prop("a:b,c%") == "a%3Ab%2Cc%25"


def test_github_annotations_and_the_ten_limit() -> None:
    res = result(*[diag(line=i, message=f"m{i}, with: punctuation") for i in range(1, 13)])
    out = REPORTERS["github"](res, CTX).splitlines()
    assert out[0] == (
        "::error file=plans/setup.yaml,line=1,col=5,title=MA005 table-not-available::"
        "MA005 m1, with: punctuation"
    )
    notices = [ln for ln in out if ln.startswith("::notice")]
    assert len(notices) == 1 and "12 errors" in notices[0] and "10" in notices[0]
    few = REPORTERS["github"](result(diag()), CTX)
    assert "::notice" not in few


def test_azure_logging_commands() -> None:
    assert az_data("100%\n") == "100%AZP25%0A"
    assert az_prop("a;b]") == "a%3Bb%5D"
    line = REPORTERS["azure"](result(diag("MA007", "warning")), CTX).splitlines()[0]
    assert line.startswith(
        "##vso[task.logissue type=warning;sourcepath=plans/setup.yaml;linenumber=4;"
        "columnnumber=5;code=MA007;]MA007 "
    )


def test_junit_is_xml_with_a_failure_per_finding() -> None:
    root = ET.fromstring(REPORTERS["junit"](result(diag(), diag(line=9)), CTX))
    assert root.tag == "testsuites" and root.get("failures") == "2"
    failures = root.findall("./testsuite/testcase/failure")
    assert [f.get("message", "")[:5] for f in failures] == ["MA005", "MA005"]
    clean = ET.fromstring(REPORTERS["junit"](result(), CTX))
    assert clean.get("failures") == "0" and len(clean.findall(".//testcase")) == 1


def test_json_contract_shape() -> None:
    doc = json.loads(REPORTERS["json"](result(diag()), CTX))
    assert doc["version"] == 1
    assert set(doc["diagnostics"][0]) == {
        "path", "line", "column", "operation", "code", "severity", "message"
    }  # fmt: skip
    assert doc["summary"] == {"files": 1, "operations": 3, "errors": 1, "warnings": 0}


def test_text_reads_like_ruff() -> None:
    out = REPORTERS["text"](result(diag(path="plans/a.yaml")), CTX)
    assert out.splitlines()[0] == (
        "plans/a.yaml:4:5: MA005 Create on queue is not available offline: "
        "SdkMessageFilter.Availability = Server"
    )
    assert "Found 1 error (3 operations in 1 file, offline" in out
    assert "All checks passed" in REPORTERS["text"](result(), CTX)


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, "text"), ({"GITHUB_ACTIONS": "true"}, "github"), ({"TF_BUILD": "True"}, "azure")],
)
def test_default_format_follows_the_ci(env: dict[str, str], expected: str) -> None:
    assert default_format(env) == expected
