"""What a new user hit (issue 8 scope 5): a cache directory that cannot exist, and an org URL
where nothing listens. Each error is one line naming what the user set; nothing hangs."""

from __future__ import annotations

import socket
import typing as t

import pytest

import metadata.webapi
from metadata.auth import StaticToken
from metadata.errors import TransportError
from metadata.webapi import RetryPolicy, Wait, WebAPIClient
from tests.cli_runner import run_cli


@pytest.fixture
def blocker(tmp_path: t.Any) -> str:
    path = tmp_path / "a-file"
    path.write_text("not a directory")
    return str(path)


@pytest.fixture
def closed_port() -> t.Iterator[int]:
    """A loopback port that is bound but not listening: connecting is refused at once."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def test_cache_dir_variable_under_a_file_names_the_variable(
    blocker: str, token_env: str, capsys: pytest.CaptureFixture[str], monkeypatch: t.Any
) -> None:
    monkeypatch.setenv("MSGAVAIL_CACHE_DIR", f"{blocker}/cache")
    r = run_cli(["harvest", "--org", "http://127.0.0.1:9"], capsys)
    assert r.exit_code == 2
    assert r.stderr == (
        f"msgavail: error: cannot use MSGAVAIL_CACHE_DIR={blocker}/cache as the cache "
        f"directory: {blocker} is a file, not a directory; set MSGAVAIL_CACHE_DIR to a "
        "directory msgavail can create\n"
    )
    r = run_cli(["check", "Create", "account", "--org", "http://127.0.0.1:9"], capsys)
    assert r.exit_code == 2 and "MSGAVAIL_CACHE_DIR=" in r.stderr
    assert "--cache-dir" not in r.stderr and "internal error" not in r.stderr


def test_cache_dir_option_under_a_file_names_the_option(
    blocker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run_cli(["snapshot", "export", "--org", "http://127.0.0.1:9", "-o", "-",
                 "--cache-dir", blocker], capsys)  # fmt: skip
    assert r.exit_code == 2
    assert r.stderr.startswith(f"msgavail: error: cannot use --cache-dir {blocker} as the cache")
    assert "MSGAVAIL_CACHE_DIR" not in r.stderr


@pytest.mark.parametrize("where", ["the file itself", "under the file"])
def test_check_without_org_ignores_a_cache_dir_it_does_not_use(
    where: str, blocker: str, capsys: pytest.CaptureFixture[str], monkeypatch: t.Any
) -> None:
    monkeypatch.setenv(
        "MSGAVAIL_CACHE_DIR", blocker if where == "the file itself" else blocker + "/c"
    )
    r = run_cli(["check", "Create", "account"], capsys)
    assert r.exit_code == 0, r.stderr
    assert "available offline" in r.stdout and r.stderr == ""


def test_refused_connection_fails_after_two_retries(closed_port: int) -> None:
    sleeps: list[float] = []
    waits: list[Wait] = []
    with WebAPIClient(
        f"http://127.0.0.1:{closed_port}",
        StaticToken("t0ken"),
        retry=RetryPolicy(max_retries=5),
        sleep=sleeps.append,
        on_wait=waits.append,
    ) as client:
        with pytest.raises(TransportError, match=r"Connection refused.*after 3 attempts"):
            client.get_all("sdkmessages")
        assert client.requests_sent == 3
    assert [w.reason for w in waits] == ["connection refused"] * 2
    assert [(w.attempt, w.limit) for w in waits] == [(1, 2), (2, 2)]
    assert sum(sleeps) < 2.0  # base 0.5 s: 0.25-0.5 then 0.5-1.0, instead of ~14 s


def test_harvest_retries_option_and_progress_say_what_is_awaited(
    closed_port: int, cache_dir: str, token_env: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: t.Any,
) -> None:  # fmt: skip
    monkeypatch.setattr(
        metadata.webapi, "DEFAULT_RETRY", RetryPolicy(backoff_base=0.01, backoff_max=0.02)
    )
    org = f"http://127.0.0.1:{closed_port}"
    r = run_cli(["harvest", "--org", org, "--progress"], capsys)
    assert r.exit_code == 2
    waits = [p for p in r.stderr.split("\r") if p.startswith("harvest: waiting")]
    assert len(waits) == 2
    assert waits[0].startswith("harvest: waiting 0.0 s before retry 1 of 2 (connection refused: ")
    assert f"{org}/api/data/v9.2/sdkmessages)" in waits[0]
    assert r.stderr.rstrip().endswith("Connection refused (after 3 attempts)")
    r = run_cli(["harvest", "--org", org, "--retries", "0"], capsys)
    assert r.exit_code == 2
    assert r.stderr.startswith(f"msgavail: error: could not reach {org}: ConnectError: ")
    assert "Connection refused" in r.stderr and "attempts" not in r.stderr  # one attempt
    r = run_cli(["harvest", "--org", org, "--retries", "21"], capsys)
    assert r.exit_code == 2 and "invalid value for '--retries'" in r.stderr
