"""What a new user hit with `msgavail lint` and `check` (issue 8 scopes 5 and 6), as they drive it.

Each test here failed before the change it covers: read errors missing from JSON/SARIF reports,
"All checks passed" on a folder with no plans, the printed schema taken for a plan, unknown
[tool.msgavail] keys ignored, WhoAmI called a typo, MA007 once per file, 0-based operation
numbers for people; and the CI-linter conventions (`-`, --quiet, --statistics, colour).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import typing as t
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from tests.cli_runner import run_cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
CASES = os.path.join(ROOT, "fixtures", "lint", "cases")
MALFORMED = os.path.join(ROOT, "fixtures", "lint", "malformed")
SNAPSHOT = os.path.join(ROOT, "fixtures", "lint", "contoso-snapshot.json")
SEEDS = os.path.join(CASES, "seeds.yaml")
BAD = os.path.join(MALFORMED, "missing-comma.json")
SARIF_SCHEMA = os.path.join(ROOT, "tests", "data", "sarif-2.1.0.json")


def write(path: t.Any, text: str) -> str:
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return str(path)


# -- read errors in machine-readable reports ------------------------------------------------
def test_json_report_carries_read_errors(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(["lint", BAD, SEEDS, "--format", "json"], capsys)
    assert r.exit_code == 2
    doc = json.loads(r.stdout)
    (err,) = doc["read_errors"]
    assert (err["path"], err["line"], err["column"]) == (BAD, 3, 3)
    assert err["message"] and err["text"].startswith(f"{BAD}:3:3: ")
    assert {d["code"] for d in doc["diagnostics"]} == {"MA005"}  # the good file still linted
    clean = json.loads(run_cli(["lint", SEEDS, "--format", "json"], capsys).stdout)
    assert clean["read_errors"] == []


def test_sarif_report_marks_the_run_unsuccessful(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(["lint", BAD, "--format", "sarif"], capsys)
    assert r.exit_code == 2
    doc = json.loads(r.stdout)
    with open(SARIF_SCHEMA) as fh:
        jsonschema.Draft202012Validator(json.load(fh)).validate(doc)
    (invocation,) = doc["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error" and "missing-comma.json" in note["message"]["text"]
    region = note["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (3, 3)
    ok = json.loads(run_cli(["lint", SEEDS, "--format", "sarif"], capsys).stdout)
    assert ok["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_streamed_reports_equal_the_whole_document(capsys: pytest.CaptureFixture[str]) -> None:
    from validator.linter import lint

    result = lint([SEEDS, os.path.join(CASES, "labels.json")])
    r = run_cli(["lint", SEEDS, os.path.join(CASES, "labels.json"), "--format", "json"], capsys)
    assert r.stdout == json.dumps(result.to_json(), indent=2) + "\n"


# -- discovery ----------------------------------------------------------------------------
def test_folder_without_plans_says_so(tmp_path: t.Any, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "package.json", '{"name": "x"}')
    r = run_cli(["lint", str(tmp_path)], capsys)
    assert r.exit_code == 0
    assert "All checks passed" not in r.stdout
    assert r.stderr.startswith(f"msgavail: warning: no plan found in {tmp_path} (searched for")
    assert "*.json" in r.stderr and "*.batch" in r.stderr
    quiet = run_cli(["lint", str(tmp_path), "-q"], capsys)
    assert quiet.stderr == "" and quiet.stdout == ""


def test_printed_schema_is_not_taken_for_a_plan(
    tmp_path: t.Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = run_cli(["lint", "--print-schema"], capsys).stdout
    write(tmp_path / "plan.schema.json", schema)
    write(tmp_path / "plan.json", '{"$schema": "./plan.schema.json", "operations": '
          '[{"message": "Create", "table": "account"}]}')  # fmt: skip
    monkeypatch.chdir(tmp_path)
    r = run_cli(["lint", "--format", "json"], capsys)
    assert r.exit_code == 0, r
    assert json.loads(r.stdout)["summary"]["files"] == 1


# -- [tool.msgavail] ----------------------------------------------------------------------
def test_unknown_setting_is_refused_with_its_line(
    tmp_path: t.Any, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n\n[tool.msgavail]\n'
                      'mode = "offline"\nselct = ["MA005"]\n')  # fmt: skip
    plan = write(tmp_path / "p.json", '{"operations": [{"message": "Create", "table": "queue"}]}')
    r = run_cli(["lint", plan], capsys)
    assert r.exit_code == 2
    assert r.stderr.startswith(f"msgavail: error: {pyproject}:6: unknown key 'selct' in "
                               "[tool.msgavail]; did you mean 'select'?")  # fmt: skip
    assert "Traceback" not in r.stderr


def test_data_source_and_mode_in_settings(
    tmp_path: t.Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MSGAVAIL_SNAPSHOT", raising=False)
    monkeypatch.delenv("MSGAVAIL_ORG", raising=False)
    rel = os.path.relpath(SNAPSHOT, tmp_path)
    write(tmp_path / "pyproject.toml", f'[tool.msgavail]\nsnapshot = "{rel}"\nmode = "online"\n'
          'max-metadata-age = "off"\n')  # fmt: skip
    plan = write(tmp_path / "p.json", '{"operations": [{"message": "Create", "table": "queue"}]}')
    r = run_cli(["lint", plan], capsys)
    assert r.exit_code == 0, r
    assert "online, against snapshot" in r.stdout
    # an option still wins over the settings
    r = run_cli(["lint", plan, "--mode", "offline", "--format", "json"], capsys)
    assert [d["code"] for d in json.loads(r.stdout)["diagnostics"]] == ["MA005"]


# -- names the published table predates ---------------------------------------------------
@pytest.mark.parametrize("name", ["WhoAmI", "upsert"])
def test_real_message_missing_from_the_published_table(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run_cli(["check", name], capsys)
    assert r.exit_code == 2
    assert "unknown message" not in r.stderr
    assert "a Dataverse message the published 9.0 table does not list; harvest your org" in (
        r.stderr
    )
    typo = run_cli(["check", "Craete"], capsys)
    assert typo.exit_code == 2 and "unknown message 'Craete'; did you mean Create" in typo.stderr
    harvested = run_cli(["check", "WhoAmI", "--snapshot", SNAPSHOT], capsys)
    assert harvested.exit_code == 0  # the org's own data lists it


def test_lint_says_the_same_for_a_plan(tmp_path: t.Any, capsys: pytest.CaptureFixture[str]) -> None:
    plan = write(tmp_path / "p.json", '{"operations": [{"message": "WhoAmI"}]}')
    r = run_cli(["lint", plan, "--format", "json"], capsys)
    (d,) = json.loads(r.stdout)["diagnostics"]
    assert d["code"] == "MA001" and "does not list; harvest your org" in d["message"]


# -- once per run, 1-based for people -----------------------------------------------------
def test_stale_metadata_reported_once_per_run(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(["lint", SEEDS, os.path.join(CASES, "clean.json"), "--snapshot", SNAPSHOT,
                 "--format", "json"], capsys)  # fmt: skip
    stale = [d for d in json.loads(r.stdout)["diagnostics"] if d["code"] == "MA007"]
    assert len(stale) == 1


def test_operation_numbers_for_people_are_one_based(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(["lint", SEEDS, "--format", "junit"], capsys)
    names = [c.get("name") for c in ET.fromstring(r.stdout).iter("testcase")]
    as_json = json.loads(run_cli(["lint", SEEDS, "--format", "json"], capsys).stdout)
    first = as_json["diagnostics"][0]["operation"]
    assert names[0] == f"MA005 operation {first + 1}"  # JSON keeps its zero-based index


def test_run_skipped_operations_are_numbered_like_the_journal(
    tmp_path: t.Any, data_dir: str, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = write(tmp_path / "p.json", '{"operations": [\n {"message": "Create", "table": '
                 '"account"},\n {"message": "Create", "table": "queue"}\n]}')  # fmt: skip
    r = run_cli(["run", plan, "--offline", "--skip-unavailable"], capsys)
    assert r.exit_code == 0, r
    assert f"{plan}:3:2: operation 2: MA005" in r.stdout


# -- CI-linter conventions ----------------------------------------------------------------
def test_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with open(SEEDS, "rb") as fh:
        data = fh.read()

    def feed() -> None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))

    feed()
    r = run_cli(["lint", "-", "--format", "json"], capsys)
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert {d["path"] for d in doc["diagnostics"]} == {"<stdin>"}
    assert [(d["line"], d["code"]) for d in doc["diagnostics"]] == [
        (6, "MA005"), (9, "MA005"), (11, "MA005"),
    ]  # fmt: skip
    feed()
    named = run_cli(["lint", "-", "--stdin-filename", "plans/seeds.yaml"], capsys)
    assert named.stdout.startswith("plans/seeds.yaml:6:5: MA005 ")
    feed()
    skipped = run_cli(["lint", "-", "--stdin-filename", "notes.md", "--skip-non-plans"], capsys)
    assert skipped.exit_code == 0 and "no plan found" in skipped.stderr
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"operations": ['),
                                                       encoding="utf-8"))  # fmt: skip
    broken = run_cli(["lint", "-", "--format", "json"], capsys)
    assert broken.exit_code == 2 and json.loads(broken.stdout)["read_errors"]
    assert run_cli(["lint", "-", SEEDS], capsys).exit_code == 2


def test_stdin_filename_selects_settings_and_per_file_ignores(
    tmp_path: t.Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "pyproject.toml", '[tool.msgavail.per-file-ignores]\n"legacy/*" = ["MA005"]\n')
    data = b'{"operations": [{"message": "Create", "table": "queue"}]}'
    for name, status in (("legacy/a.json", 0), ("new/a.json", 1)):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
        target = os.path.join(str(tmp_path), name)
        assert run_cli(["lint", "-", "--stdin-filename", target], capsys).exit_code == status


def test_quiet_and_statistics(capsys: pytest.CaptureFixture[str]) -> None:
    quiet = run_cli(["lint", SEEDS, "-q"], capsys)
    assert quiet.exit_code == 1
    assert len(quiet.stdout.splitlines()) == 3 and "Found" not in quiet.stdout
    labels = os.path.join(CASES, "unknown-names.json")
    stats = run_cli(["lint", SEEDS, labels, "--statistics"], capsys)
    assert stats.exit_code == 1
    rows = [line.split() for line in stats.stdout.splitlines()]
    assert ["3", "MA005", "table-not-available"] in rows
    counts = [int(r[0]) for r in rows]
    assert counts == sorted(counts, reverse=True)
    as_json = json.loads(run_cli(["lint", SEEDS, "--statistics", "--format", "json"],
                                 capsys).stdout)  # fmt: skip
    assert as_json == [{"code": "MA005", "name": "table-not-available", "severity": "error",
                        "count": 3}]  # fmt: skip
    assert run_cli(["lint", SEEDS, "--statistics", "--format", "sarif"], capsys).exit_code == 2


def test_colour_only_on_a_terminal_and_never_with_no_color(tmp_path: t.Any) -> None:
    """Through a real pseudo-terminal: colour there, none in a pipe or with NO_COLOR."""
    import pty

    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GITHUB_ACTIONS",
                                                           "TF_BUILD")}  # fmt: skip
    cmd = [sys.executable, "-m", "validator.cli", "lint", SEEDS]

    def on_tty(extra: dict[str, str]) -> bytes:
        main, child = pty.openpty()
        proc = subprocess.Popen(cmd, stdout=child, stderr=subprocess.DEVNULL,
                                env={**env, **extra}, cwd=ROOT)  # fmt: skip
        os.close(child)
        out = b""
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        proc.wait(timeout=60)
        os.close(main)
        return out

    assert b"\x1b[" in on_tty({})
    assert b"\x1b[" not in on_tty({"NO_COLOR": "1"})
    piped = subprocess.run(cmd, capture_output=True, env=env, cwd=ROOT, timeout=60)
    assert b"\x1b[" not in piped.stdout and piped.returncode == 1


def test_shell_completion_script(tmp_path: t.Any) -> None:
    """README documents `eval "$(_MSGAVAIL_COMPLETE=bash_source msgavail)"`."""
    env = {**os.environ, "_MSGAVAIL_COMPLETE": "bash_source"}
    script = os.path.join(os.path.dirname(sys.executable), "msgavail")
    r = subprocess.run([script], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0 and "_msgavail_completion" in r.stdout
    env = {**os.environ, "_MSGAVAIL_COMPLETE": "bash_complete", "COMP_WORDS": "msgavail li",
           "COMP_CWORD": "1"}  # fmt: skip
    r = subprocess.run([script], capture_output=True, text=True, env=env, timeout=60)
    assert "lint" in r.stdout


def test_output_to_a_device_is_written_in_place_never_renamed_over(
    tmp_path: t.Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--output /dev/null` (benchmarks, CI) must not replace the device with a file."""
    fifo = str(tmp_path / "report.fifo")
    os.mkfifo(fifo)
    import threading

    got: list[bytes] = []

    def drain() -> None:
        with open(fifo, "rb") as fh:
            got.append(fh.read())

    reader = threading.Thread(target=drain)
    reader.start()
    r = run_cli(["lint", SEEDS, "--format", "json", "--output", fifo], capsys)
    reader.join(timeout=30)
    assert r.exit_code == 1
    assert os.path.exists(fifo) and not os.path.isfile(fifo)  # still the FIFO
    assert json.loads(got[0])["summary"]["errors"] == 3
    assert [n for n in os.listdir(tmp_path) if n != "report.fifo"] == []  # no temporary left
    out = str(tmp_path / "report.json")
    assert run_cli(["lint", SEEDS, "--format", "json", "--output", out], capsys).exit_code == 1
    with open(out) as fh:
        assert json.load(fh)["summary"]["errors"] == 3
    assert sorted(os.listdir(tmp_path)) == ["report.fifo", "report.json"]
