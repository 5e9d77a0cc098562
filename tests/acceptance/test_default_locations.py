"""Where msgavail keeps things when the user chose nothing: the platform's user directories
(XDG on Linux), as a real `msgavail` process finds them, and errors that name them."""

from __future__ import annotations

import os
import subprocess
import sys
import typing as t

import pytest

from tests.executor_support import write_plan

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="XDG directories are Linux's")


def _msgavail(home: t.Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MSGAVAIL_", "XDG_"))}
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / "xdg-cache"),
        XDG_DATA_HOME=str(home / "xdg-data"),
        PYTHONPATH=ROOT + os.pathsep + env.get("PYTHONPATH", ""),
        DATAVERSE_TOKEN="a-test-token-that-no-server-sees",
    )
    return subprocess.run(
        [sys.executable, "-m", "validator.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(home),
        timeout=60,
    )


def test_journals_go_to_the_platform_data_directory(tmp_path: t.Any) -> None:
    plan = write_plan(tmp_path / "plan.json", [{"message": "Create", "table": "account"}])
    queued = _msgavail(tmp_path, "run", plan, "--offline")
    assert queued.returncode == 0, queued.stderr
    journal = tmp_path / "xdg-data" / "msgavail" / "journals" / "local"
    assert f"in journal local ({journal})" in queued.stdout
    assert journal.is_dir()
    listed = _msgavail(tmp_path, "queue")
    assert listed.returncode == 0 and f"journal local ({journal}): 1 pending" in listed.stdout


def test_an_unusable_platform_cache_directory_is_named_as_such(tmp_path: t.Any) -> None:
    (tmp_path / "xdg-cache").write_text("a file where the cache directory would be")
    r = _msgavail(tmp_path, "harvest", "--org", "http://127.0.0.1:9")
    assert r.returncode == 2
    expected = tmp_path / "xdg-cache" / "msgavail"
    assert r.stderr == (
        f"msgavail: error: cannot use the platform cache directory {expected} as the cache "
        f"directory: {tmp_path / 'xdg-cache'} is a file, not a directory; choose a directory "
        "msgavail can create\n"
    )


def test_the_library_honours_the_environment_variables(tmp_path: t.Any) -> None:
    """Python callers get the same defaults as the command line: MSGAVAIL_DATA_DIR and
    MSGAVAIL_CACHE_DIR, when set, are where journals and the cache go."""
    code = (
        "from metadata.store import Store; from validator.executor import journal_dir; "
        "print(journal_dir('local')); print(Store.open().path)"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MSGAVAIL_")}
    env.update(
        MSGAVAIL_DATA_DIR=str(tmp_path / "data"),
        MSGAVAIL_CACHE_DIR=str(tmp_path / "cache"),
        PYTHONPATH=ROOT + os.pathsep + env.get("PYTHONPATH", ""),
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert r.returncode == 0, r.stderr
    journals, cache = r.stdout.splitlines()
    assert journals == str(tmp_path / "data" / "journals" / "local")
    assert cache.startswith(str(tmp_path / "cache"))
