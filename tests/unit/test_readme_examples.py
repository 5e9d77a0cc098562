"""The README runner itself: it must fail when README and the output disagree, and say how."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import readme_examples as rx

GUID_A = "356efde4-2f8d-48c7-8ed5-105413997e35"
GUID_B = "b80fe700-bc13-48d5-b14a-cbd19f69595a"


def test_parse_reads_commands_output_directives_and_exit_annotations() -> None:
    text = "\n".join(
        [
            "intro",
            "```console",
            "$ msgavail check Craete account      # exit 2",
            "msgavail: error: unknown message",
            "",
            "$ echo $?",
            "2",
            "```",
            "<!-- readme-test: skip needs a real org -->",
            "```console",
            "$ msgavail harvest --org https://contoso.crm.dynamics.com",
            "```",
            "<!-- readme-test: emulator --port 8411 --token demo-token -->",
            "",
            "```console",
            "$ msgavail harvest --org http://127.0.0.1:8411",
            "```",
            "```sh",
            "$ not a console block",
            "```",
        ]
    )
    first, skipped, emulated = rx.parse(text)
    assert [(c.line, c.text, c.expected, c.exit_code) for c in first.commands] == [
        (3, "msgavail check Craete account      # exit 2", ["msgavail: error: unknown message"], 2),
        (6, "echo $?", ["2"], None),
    ]
    assert skipped.skip == "needs a real org" and skipped.emulator is None
    assert emulated.emulator == ["--port", "8411", "--token", "demo-token"]
    assert emulated.id == "README.md:15"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<!-- readme-test: skip -->\n```console\n$ true\n```", "needs a reason"),
        ("<!-- readme-test: sometimes -->\n```console\n$ true\n```", "unknown readme-test"),
        ("```console\noutput first\n$ true\n```", "output before the first command"),
        ("```console\n```", "no `[$] ` command"),
    ],
)
def test_malformed_readme_is_refused(text: str, problem: str) -> None:
    with pytest.raises(rx.ReadmeError, match=problem):
        rx.parse(text)


def test_ellipsis_stands_for_lines_or_text() -> None:
    assert rx.match(["first", "...", "last"], "first\nmiddle\nmore\nlast\n", {}, set())
    assert rx.match(["first", "...", "last"], "first\nlast\n", {}, set())
    assert rx.match(["Found 3 errors (...)."], "Found 3 errors (5 operations).\n", {}, set())
    assert not rx.match(["first", "...", "last"], "first\nmiddle\n", {}, set())
    assert not rx.match(["Found 3 errors (...)."], "Found 4 errors (5 operations).\n", {}, set())


def test_no_output_shown_means_no_output() -> None:
    assert rx.match([], "", {}, set())
    assert not rx.match([], "something\n", {}, set())


def test_trailing_spaces_and_blank_lines_do_not_count() -> None:
    assert rx.match(["a", "", "b"], "a  \n\nb\n\n\n", {}, set())
    assert not rx.match(["a", "b"], "a\n\nb\n", {}, set())


def test_generated_guids_match_any_guid_but_consistently() -> None:
    bound: dict[str, str] = {}
    out = "Create account(11111111-2222-4333-8444-555555555555)\n"
    assert rx.match([f"Create account({GUID_A})"], out, bound, set())
    assert bound == {GUID_A: "11111111-2222-4333-8444-555555555555"}
    # later in the block, the same README GUID must be the same actual GUID
    assert rx.match(
        [f"SetState account({GUID_A})"], out.replace("Create", "SetState"), bound, set()
    )
    other = "SetState account(99999999-2222-4333-8444-555555555555)\n"
    assert not rx.match([f"SetState account({GUID_A})"], other, bound, set())
    # and within one output
    two = f"{GUID_A} {GUID_A}"
    assert not rx.match([two], f"{GUID_A} {GUID_B}\n", {}, set())


def test_guids_and_times_from_examples_must_match_exactly() -> None:
    literal = "c0ffee00-0000-4000-8000-000000000001"
    assert literal in rx.literal_values()  # it is in examples/visit.json
    assert rx.match([f"Update contact({literal})"], f"Update contact({literal})\n", {}, {literal})
    assert not rx.match(
        [f"Update contact({literal})"], f"Update contact({GUID_B})\n", {}, {literal}
    )


def test_times_and_durations_are_placeholders() -> None:
    expected = ["cached harvest of 2026-11-25T19:27:04Z (checked 0 s ago) in 3 request(s) (0.1s)"]
    actual = "cached harvest of 2026-12-02T07:35:54Z (checked 12 s ago) in 3 request(s) (2.25s)\n"
    assert rx.match(expected, actual, {}, set())
    assert not rx.match(expected, actual.replace("3 request", "4 request"), {}, set())


def _block(text: str) -> rx.Block:
    (block,) = rx.parse(f"```console\n{text}\n```")
    return block


@pytest.fixture
def session(tmp_path: Path) -> rx.Session:
    return rx.Session(tmp_path)


def test_a_wrong_readme_fails_showing_command_expected_and_actual(session: rx.Session) -> None:
    (outcome,) = session.run_block(_block("$ echo hello\ngoodbye"))
    message = session.check(outcome)
    assert message is not None
    assert "README.md:2: $ echo hello" in message
    assert "goodbye" in message.split("--- actual")[0]
    assert "hello" in message.split("--- actual")[1]


def test_exit_annotation_is_checked(session: rx.Session) -> None:
    ok, wrong = session.run_block(_block("$ false   # exit 1\n$ true   # exit 1"))
    assert session.check(ok) is None
    message = session.check(wrong)
    assert message is not None and "exit status: README says 1, got 0" in message


def test_session_carries_exports_cwd_and_exit_status(session: rx.Session) -> None:
    block = _block(
        "$ export GREETING=hi\n$ mkdir -p sub && cd sub\n$ (exit 3)\n$ echo $?\n3\n"
        "$ echo $GREETING $(basename $PWD)\nhi sub"
    )
    for outcome in session.run_block(block):
        assert session.check(outcome) is None, session.check(outcome)


def test_commands_run_in_a_copy_of_examples_with_the_console_script(session: rx.Session) -> None:
    block = _block("$ ls plans\n...\nfield-visit.yaml\n...\n$ msgavail --version\nmsgavail...")
    for outcome in session.run_block(block):
        assert session.check(outcome) is None, session.check(outcome)


def test_demo_dir_is_a_scratch_directory(session: rx.Session) -> None:
    (outcome,) = session.run_block(
        _block("$ mkdir -p /tmp/demo/x && ls -d /tmp/demo/x\n/tmp/demo/x")
    )
    assert session.check(outcome) is None, session.check(outcome)
    assert (session.demo / "x").is_dir()
