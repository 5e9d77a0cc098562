"""The one error boundary (validator.cli.run): every failure is one line on stderr with the
documented exit status, never click's usage block or a traceback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import typing as t

import click
import pytest

from tests.cli_runner import run_cli
from validator.cli import cli


@pytest.fixture
def command_raising(request: pytest.FixtureRequest) -> t.Iterator[t.Callable[[BaseException], str]]:
    """Registers a throw-away subcommand that raises the given exception."""
    added: list[str] = []

    def register(exc: BaseException) -> str:
        name = f"boom-{len(added)}"

        @click.command(name)
        def boom() -> int:
            click.echo("partial output")
            raise exc

        cli.add_command(boom)
        added.append(name)
        return name

    yield register
    for name in added:
        cli.commands.pop(name, None)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["harvest"], "harvest: missing option '--org' (see `msgavail harvest --help`)"),
        (["check"], "check: missing argument 'MESSAGE' (see `msgavail check --help`)"),
        (
            ["check", "Create", "--mode", "sometimes"],
            "check: invalid value for '--mode': 'sometimes' is not one of 'offline', 'online', "
            "'mobile' (see `msgavail check --help`)",
        ),
        (
            ["lint", "--format", "xml"],
            "lint: invalid value for '--format': 'xml' is not one of 'text', 'json', 'sarif', "
            "'github', 'azure', 'junit' (see `msgavail lint --help`)",
        ),
        (
            ["snapshot", "show", "x.json", "--colour"],
            "snapshot show: no such option '--colour' (see `msgavail snapshot show --help`)",
        ),
        (["chek", "Create"], "no such command 'chek' (see `msgavail --help`)"),
        (
            ["queue", "retry", "first"],
            "queue retry: invalid value for '[SEQ]...': 'first' is not a valid integer "
            "(see `msgavail queue retry --help`)",
        ),
    ],
)
def test_click_usage_errors_are_one_line(
    args: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    r = run_cli(args, capsys)
    assert r.exit_code == 2
    assert r.stderr == f"msgavail: error: {line}\n"
    assert r.stdout == ""


def test_group_without_subcommand_shows_its_help_then_one_error_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    r = run_cli(["snapshot"], capsys)
    assert r.exit_code == 2
    *help_lines, last = r.stderr.splitlines()
    assert any(line.strip().startswith("export") for line in help_lines)
    assert last == "msgavail: error: snapshot: missing command"


def test_errors_a_command_raises_are_printed_once_by_the_boundary(
    capsys: pytest.CaptureFixture[str], tmp_path: t.Any
) -> None:
    r = run_cli(["rules", "MA999"], capsys)
    assert r.exit_code == 2
    assert r.stderr.startswith("msgavail: error: unknown rule MA999 (known: MA001")
    assert len(r.stderr.splitlines()) == 1
    missing = tmp_path / "no-such-dir" / "report.json"
    r = run_cli(["lint", "--output", str(missing), str(tmp_path)], capsys)
    assert r.exit_code == 2
    assert r.stderr.splitlines()[-1] == (
        f"msgavail: error: {missing}: cannot write: No such file or directory"
    )


def test_internal_error_is_one_line_naming_the_exception(
    command_raising: t.Callable[[BaseException], str], capsys: pytest.CaptureFixture[str]
) -> None:
    name = command_raising(ZeroDivisionError("division by zero"))
    r = run_cli([name], capsys)
    assert r.exit_code == 2
    assert r.stderr == (
        "msgavail: error: internal error: ZeroDivisionError: division by zero (this is a bug; "
        "run with MSGAVAIL_DEBUG=1 for the traceback and please report it)\n"
    )


def test_debug_lets_the_traceback_through(
    command_raising: t.Callable[[BaseException], str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MSGAVAIL_DEBUG", "1")
    name = command_raising(ZeroDivisionError("division by zero"))
    with pytest.raises(ZeroDivisionError):
        run_cli([name], capsys)


def test_interrupt_in_a_command_exits_130(
    command_raising: t.Callable[[BaseException], str], capsys: pytest.CaptureFixture[str]
) -> None:
    # click.main would turn this into a generic "Aborted!" (its Abort); the boundary must not.
    name = command_raising(KeyboardInterrupt())
    r = run_cli([name], capsys)
    assert r.exit_code == 130
    assert r.stderr == "msgavail: interrupted\n"


def test_end_of_input_at_a_prompt_is_aborted(
    command_raising: t.Callable[[BaseException], str], capsys: pytest.CaptureFixture[str]
) -> None:
    name = command_raising(click.Abort())
    r = run_cli([name], capsys)
    assert r.exit_code == 2 and r.stderr == "msgavail: aborted\n"


def _msgavail(*args: str, **kw: t.Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "validator.cli", *args], **kw)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_during_a_harvest_exits_130_without_a_traceback(tmp_path: t.Any) -> None:
    # A server that accepts the connection and never answers: the harvest is waiting for
    # the response when the user presses Ctrl-C.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        env = {**os.environ, "DATAVERSE_TOKEN": "some-token", "MSGAVAIL_CACHE_DIR": str(tmp_path)}
        # A shell starts background jobs with SIGINT ignored, and an ignored signal stays
        # ignored across exec: give the child the disposition a terminal user's process has,
        # so the test holds however the suite itself was started (`.ci/run &`, nohup...).
        proc = _msgavail(
            "harvest", "--org", f"http://127.0.0.1:{port}",
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=_default_sigint,
        )  # fmt: skip
        try:
            server.settimeout(30)
            conn, _ = server.accept()
            time.sleep(0.2)  # the request is sent; the client now waits for the answer
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
            conn.close()
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130
    assert err.decode() == "msgavail: interrupted\n"
    assert out == b""


def test_reader_gone_is_silent(tmp_path: t.Any) -> None:
    # `msgavail rules | head -0`: the reader closed the pipe before anything was written.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = _msgavail("rules", stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    _, err = proc.communicate(timeout=60)
    assert err.decode() == ""  # no "Exception ignored ... BrokenPipeError", no traceback
    assert proc.returncode == 0
