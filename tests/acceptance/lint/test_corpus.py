"""The data-driven corpus: fixtures/lint/cases/<file> with <file>.expect beside it.

Each .expect holds the exit status and the diagnostics as "LINE:COL #OPERATION CODE"; adding a
pair of files adds a test. fixtures/lint/malformed/ holds unreadable inputs: exit 2 and one
error line naming file:line:col.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.cli_runner import run_cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
CASES = os.path.join(ROOT, "fixtures", "lint", "cases")
MALFORMED = os.path.join(ROOT, "fixtures", "lint", "malformed")
SNAPSHOT = os.path.join(ROOT, "fixtures", "lint", "contoso-snapshot.json")


def _inputs(folder: str) -> list[str]:
    return sorted(f for f in os.listdir(folder) if not f.endswith(".expect"))


def test_every_input_has_an_expectation() -> None:
    for folder in (CASES, MALFORMED):
        for name in _inputs(folder):
            assert os.path.exists(os.path.join(folder, name + ".expect")), name


def test_corpus_covers_every_code_and_reader() -> None:
    codes: set[str] = set()
    for name in _inputs(CASES):
        with open(os.path.join(CASES, name + ".expect")) as fh:
            codes.update(d.split()[-1] for d in json.load(fh)["diagnostics"])
    assert codes >= {f"MA{i:03d}" for i in range(1, 11)} | {"MA014"}
    exts = {os.path.splitext(n)[1] for n in _inputs(CASES)}
    assert exts >= {".json", ".yaml", ".batch", ".xml"}


@pytest.mark.parametrize("name", _inputs(CASES))
def test_case(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with open(os.path.join(CASES, name + ".expect")) as fh:
        expect = json.load(fh)
    args = [a.replace("{snapshot}", SNAPSHOT) for a in expect.get("args", [])]
    path = os.path.join(CASES, name)
    result = run_cli(["lint", path, "--format", "json", *args], capsys)
    assert result.exit_code == expect["exit"], result
    doc = json.loads(result.stdout)
    got = [f"{d['line']}:{d['column']} #{d['operation']} {d['code']}" for d in doc["diagnostics"]]
    assert got == expect["diagnostics"]
    assert all(d["path"] == path for d in doc["diagnostics"])
    assert doc["summary"]["files"] == 1
    assert doc["summary"]["errors"] == sum(d["severity"] == "error" for d in doc["diagnostics"])


@pytest.mark.parametrize("name", _inputs(MALFORMED))
def test_malformed(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with open(os.path.join(MALFORMED, name + ".expect")) as fh:
        expect = json.load(fh)
    path = os.path.join(MALFORMED, name)
    result = run_cli(["lint", path], capsys)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"msgavail: error: {path}:{expect['position']}: "), lines[0]
    assert expect["contains"] in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_malformed_file_does_not_hide_findings_in_others(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = os.path.join(MALFORMED, "missing-comma.json")
    good = os.path.join(CASES, "seeds.yaml")
    result = run_cli(["lint", bad, good, "--format", "json"], capsys)
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert {d["code"] for d in doc["diagnostics"]} == {"MA005"}
    assert "missing-comma.json:3:3" in result.stderr


def test_each_unreadable_file_is_one_error_line_after_the_report_even_with_exit_zero(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = [os.path.join(MALFORMED, n) for n in ("missing-comma.json", "bad-indent.yaml")]
    result = run_cli(["lint", *bad, "--format", "json", "--exit-zero"], capsys)
    assert result.exit_code == 2  # --exit-zero forgives findings, never unreadable input
    lines = result.stderr.splitlines()
    assert [line.split(":")[0] for line in lines] == ["msgavail"] * 2
    assert [line.split(": ", 2)[2].split(":")[0] for line in lines] == bad  # in the given order
    doc = json.loads(result.stdout)  # the report is complete: a CI step sees both failures
    assert len(doc["read_errors"]) == 2
