"""A journal written by the previous release (operations and local records as diskcache
entries) still works: the first command converts it in one transaction and says so, every
queued operation and local record is there, and new operations follow the old numbers."""

from __future__ import annotations

import json
import os
import shutil

from tests.cli_runner import run_cli
from tests.executor_support import write_plan
from validator.executor.journal import journal_dir

FORMAT1 = os.path.join(os.path.dirname(__file__), "..", "..", "data", "journal-format1")


def test_a_journal_of_the_previous_release_is_converted_and_kept_whole(tmp_path, data_dir, capsys):
    shutil.copytree(FORMAT1, journal_dir("local", data_dir))
    listing = run_cli(["queue", "--all"], capsys)
    assert listing.exit_code == 0, listing.stderr
    assert "was converted to this version's format: 5 operation(s) and 3 local" in listing.stderr
    for line in ("done      #1 Create account", "pending   #2 Create contact",
                 "pending   #4 Associate account", "parked    #5 Delete account"):  # fmt: skip
        assert line in listing.stdout, listing.stdout
    got = run_cli(["get", "contact", "7c9e6679-7425-40de-944b-e07fc1f90ae7", "--format", "json"],
                  capsys)  # fmt: skip
    assert got.exit_code == 0, got.stderr
    assert "555" in got.stdout and "converted" not in got.stderr  # said once
    plan = write_plan(tmp_path / "more.json", [{"message": "Create", "table": "account",
                                               "data": {"name": "B"}}])  # fmt: skip
    more = run_cli(["run", plan, "--offline", "--format", "json"], capsys)
    assert more.exit_code == 0, more.stderr
    assert [op["seq"] for op in json.loads(more.stdout)["queued"]] == [6]
