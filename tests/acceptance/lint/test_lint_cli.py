"""`msgavail lint` and `msgavail rules` as a user drives them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t

import pytest

from tests.cli_runner import run_cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
CASES = os.path.join(ROOT, "fixtures", "lint", "cases")
SNAPSHOT = os.path.join(ROOT, "fixtures", "lint", "contoso-snapshot.json")
SEEDS = os.path.join(CASES, "seeds.yaml")


def write(path: str, text: str) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def codes(stdout: str) -> list[str]:
    return [d["code"] for d in json.loads(stdout)["diagnostics"]]


def test_text_output_and_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(["lint", SEEDS], capsys)
    assert r.exit_code == 1
    lines = r.stdout.splitlines()
    assert lines[0] == (
        f"{SEEDS}:6:5: MA005 Create on queue is not available offline: "
        "SdkMessageFilter.Availability = Server (the message itself is All)"
    )
    assert lines[-2].startswith("Found 3 errors (4 operations in 1 file, offline, against "
                                "published default")  # fmt: skip
    assert r.stderr == ""


def test_exit_zero_fail_on_select_ignore(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["lint", SEEDS, "--exit-zero"], capsys).exit_code == 0
    assert run_cli(["lint", SEEDS, "--ignore", "MA005"], capsys).exit_code == 0
    assert run_cli(["lint", SEEDS, "--select", "MA001,MA002"], capsys).exit_code == 0
    assert run_cli(["lint", SEEDS, "--select", "MA00"], capsys).exit_code == 1
    warn_only = os.path.join(CASES, "suppression-field.json")  # one MA009 warning
    assert run_cli(["lint", warn_only], capsys).exit_code == 0
    assert run_cli(["lint", warn_only, "--fail-on", "warning"], capsys).exit_code == 1
    bad = run_cli(["lint", SEEDS, "--select", "XY1"], capsys)
    assert bad.exit_code == 2 and "matches no rule" in bad.stderr


def test_many_files_and_directories_one_data_load(
    tmp_path: t.Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import metadata.sources

    loads: list[object] = []
    real = metadata.sources.load_snapshot

    def counting(**kw: t.Any) -> t.Any:
        loads.append(kw)
        return real(**kw)

    monkeypatch.setattr(metadata.sources, "load_snapshot", counting)
    plans = os.path.join(tmp_path, "plans")
    for i in range(3):
        write(os.path.join(plans, f"sub{i}", f"p{i}.json"),
              '{"operations": [{"message": "Create", "table": "queue"}]}')  # fmt: skip
    write(os.path.join(plans, "README.md"), "not a plan")
    r = run_cli(["lint", plans, SEEDS, "--format", "json"], capsys)
    doc = json.loads(r.stdout)
    assert doc["summary"] == {"files": 4, "operations": 7, "errors": 6, "warnings": 0}
    assert len(loads) == 1


def test_output_file_and_formats(tmp_path: t.Any, capsys: pytest.CaptureFixture[str]) -> None:
    out = os.path.join(tmp_path, "lint.sarif")
    r = run_cli(["lint", SEEDS, "--format", "sarif", "--output", out], capsys)
    assert r.exit_code == 1 and r.stdout == ""
    with open(out) as fh:
        assert len(json.load(fh)["runs"][0]["results"]) == 3
    for fmt in ("junit", "azure", "github", "json", "text"):
        assert run_cli(["lint", SEEDS, "--format", fmt], capsys).exit_code == 1


def test_github_format_is_chosen_in_actions(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", ROOT)
    r = run_cli(["lint", SEEDS], capsys)
    assert r.stdout.startswith(
        "::error file=fixtures/lint/cases/seeds.yaml,line=6,col=5,title=MA005 table-not-available::"
    )
    monkeypatch.delenv("GITHUB_ACTIONS")
    monkeypatch.setenv("TF_BUILD", "True")
    assert run_cli(["lint", SEEDS], capsys).stdout.startswith("##vso[task.logissue type=error;")


def test_pyproject_settings_and_cli_overrides(
    tmp_path: t.Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(os.path.join(tmp_path, "pyproject.toml"), (
        '[project]\nname = "x"\n\n[tool.msgavail]\nmode = "online"\nignore = ["MA009"]\n'
        'max-metadata-age = "400d"\n\n[tool.msgavail.per-file-ignores]\n'
        '"plans/legacy/*" = ["MA004"]\n'
    ))  # fmt: skip
    plan = '{"operations": [{"message": "Create", "table": "queue"}, {"message": "Assign", ' \
        '"table": "account", "x-msgavail-ignore": ["MA001"]}, ' \
        '{"message": "new_MarkVisited", "table": "account"}]}'  # fmt: skip
    new = write(os.path.join(tmp_path, "plans", "new.json"), plan)
    legacy = write(os.path.join(tmp_path, "plans", "legacy", "old.json"), plan)
    monkeypatch.chdir(tmp_path)
    args = ["--snapshot", SNAPSHOT, "--format", "json"]
    # online: Create on queue is fine, Client-only new_MarkVisited is not (MA004)
    assert codes(run_cli(["lint", new, *args], capsys).stdout) == ["MA004"]
    assert codes(run_cli(["lint", legacy, *args], capsys).stdout) == []
    # options override the file
    got = codes(run_cli(["lint", new, *args, "--mode", "offline"], capsys).stdout)
    assert got == ["MA005", "MA004"]
    got = codes(run_cli(["lint", new, *args, "--max-metadata-age", "30d"], capsys).stdout)
    assert got == ["MA007", "MA004"]


def test_bad_pyproject_is_an_error(tmp_path: t.Any, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    write(os.path.join(tmp_path, "pyproject.toml"), '[tool.msgavail]\nmode = "sometimes"\n')
    plan = write(os.path.join(tmp_path, "p.json"), '{"operations": []}')
    monkeypatch.chdir(tmp_path)
    r = run_cli(["lint", plan], capsys)
    assert r.exit_code == 2
    assert r.stderr.startswith("msgavail: error: ") and "mode" in r.stderr
    assert len(r.stderr.splitlines()) == 1


def test_unknown_snapshot_and_missing_file_are_errors(
    tmp_path: t.Any, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run_cli(["lint", SEEDS, "--snapshot", os.path.join(tmp_path, "nope.json")], capsys)
    assert r.exit_code == 2 and "nope.json" in r.stderr
    r = run_cli(["lint", os.path.join(tmp_path, "missing.yaml")], capsys)
    assert r.exit_code == 2 and "no such file" in r.stderr


def test_rules_command(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(["rules"], capsys)
    assert r.exit_code == 0
    assert r.stdout.splitlines()[4].split()[:3] == ["MA005", "table-not-available", "error"]
    doc = json.loads(run_cli(["rules", "--format", "json"], capsys).stdout)
    assert [x["code"] for x in doc["rules"]][:8] == [f"MA00{i}" for i in range(1, 9)]
    assert all(x["example"] and x["description"] for x in doc["rules"])
    one = run_cli(["rules", "ma005"], capsys)
    assert "Example:" in one.stdout and "queue" in one.stdout
    assert run_cli(["rules", "MA999"], capsys).exit_code == 2


def test_lint_in_a_real_process(tmp_path: t.Any) -> None:
    env = {**os.environ, "PYTHONPATH": ROOT}
    proc = subprocess.run(
        [sys.executable, "-m", "validator.cli", "lint", SEEDS, "--format", "json"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 1
    assert codes(proc.stdout) == ["MA005", "MA005", "MA005"]


def test_library_entry_points() -> None:
    from validator.api import load_engine
    from validator.linter import LintConfig, lint
    from validator.readers import read_plan

    plan = read_plan(SEEDS)
    assert [op.table for op in plan.operations] == ["account", "queue", "user", "site"]
    res = lint(operations=plan.operations, config=LintConfig(mode="offline"))
    assert [d.code for d in res.diagnostics] == ["MA005"] * 3
    engine = load_engine(snapshot=SNAPSHOT)
    res = lint([SEEDS], engine=engine, config=LintConfig(max_metadata_age=None))
    assert res.exit_status() == 1 and res.operations == 4


def test_print_schema(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(["lint", "--print-schema"], capsys)
    assert r.exit_code == 0
    assert json.loads(r.stdout)["title"] == "msgavail plan"


def test_show_source_frames_the_operation(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(["lint", SEEDS, "--show-source"], capsys)
    lines = r.stdout.splitlines()
    assert lines[0].startswith(f"{SEEDS}:6:5: MA005 ")
    assert lines[1:6] == [
        "  |",
        "6 |   - message: Create",
        "  |     ^ MA005",
        "7 |     table: queue",
        "8 |     data: {name: Support}",
    ]


def test_output_into_a_missing_directory_is_one_error_and_leaves_nothing(
    tmp_path: t.Any, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "no-such-dir" / "report.json"
    r = run_cli(["lint", SEEDS, "--format", "json", "--output", str(out)], capsys)
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == f"msgavail: error: {out}: cannot write: No such file or directory\n"
    assert os.listdir(tmp_path) == []


def test_stdin_filename_needs_the_dash(capsys: pytest.CaptureFixture[str]) -> None:
    r = run_cli(["lint", SEEDS, "--stdin-filename", "plan.json"], capsys)
    assert r.exit_code == 2
    assert r.stderr == (
        "msgavail: error: lint: --stdin-filename names the plan read from `-`; pass `-` "
        "(see `msgavail lint --help`)\n"
    )
