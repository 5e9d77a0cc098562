"""Running README.md's console examples as written, and comparing what they print.

Every ```` ```console ```` block of README.md is a transcript: lines starting with ``$ `` are
commands, the lines after a command are what it prints (stdout and stderr, as a terminal shows
them). The blocks run in document order, in one shell session (``export`` and ``cd`` carry over
from block to block), in a scratch copy of ``examples/``, with the ``msgavail`` console script
of the running interpreter first on ``PATH`` and a fresh home directory (so the cache and the
journals are the platform defaults, inside the scratch directory).

What the expected text may say:

* ``...`` on a line of its own stands for any number of lines (none included); inside a line it
  stands for any text. A command printed as having no output must print nothing.
* A GUID or an ISO timestamp (``2026-11-25T19:27:04Z``) stands for the one the run produced,
  unless it occurs in a file under examples/ (then it must match exactly). The same value in
  the expected text must be the same value in the output, across the block.
* Elapsed times (``(0.1s)``, ``checked 0 s ago``) stand for any figure.
* ``/tmp/demo`` stands for a scratch directory; ports of emulators the block starts stand for
  whatever free port the emulator got (journal names follow).

A trailing ``# exit N`` on a command line asserts its exit status. An HTML comment on the line
before a block says how to run it:

* ``<!-- readme-test: skip REASON -->``: not run (templates, commands that need a real org).
* ``<!-- readme-test: emulator --port N [--token T] [--seed S] -->``: start the Dataverse
  Web API emulator first (it stays up for the rest of the session). A command
  ``python -m fixtures.emulator ... &`` in a block does the same (without the ``&`` it would
  serve until stopped, so the runner reports it instead of waiting).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import typing as t
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
EXAMPLES = ROOT / "examples"
DIRECTIVE = re.compile(r"^<!--\s*readme-test:\s*(?P<kind>\S+)\s*(?P<args>.*?)\s*-->\s*$")
EXIT_ANNOTATION = re.compile(r"#\s*exit\s+(?P<code>\d+)\s*$")
EMULATOR_COMMAND = re.compile(
    r"^python3? -m fixtures\.emulator(?P<args>(?:\s+[^&#]*)?)(?P<bg>&)?\s*(#.*)?$"
)
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)")
# Elapsed times: "(0.1s)", "checked 0 s ago".
DURATION = re.compile(r"(?<=\()\d+(?:\.\d+)?s(?=\))|\b\d+(?:\.\d+)? s(?= ago\b)")
DEMO_DIR = "/tmp/demo"
COMMAND_TIMEOUT = 30  # seconds; a hung command fails the test instead of the suite


class ReadmeError(Exception):
    """README.md itself is malformed (an unknown directive, a block without commands)."""


@dataclasses.dataclass
class Command:
    line: int  # 1-based line in README.md
    text: str
    expected: list[str]
    exit_code: int | None


@dataclasses.dataclass
class Block:
    line: int  # line of the opening fence
    commands: list[Command]
    skip: str | None = None  # the reason, when not run
    emulator: list[str] | None = None  # emulator options to start before the block

    @property
    def id(self) -> str:
        return f"README.md:{self.line}"


def parse(text: str) -> list[Block]:
    """The console blocks of a README, with their commands, expected output and directives."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != "```console":
            i += 1
            continue
        start = i
        j = start - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        directive = DIRECTIVE.match(lines[j].strip()) if j >= 0 else None
        i += 1
        body: list[tuple[int, str]] = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append((i + 1, lines[i]))
            i += 1
        block = Block(line=start + 1, commands=_commands(start + 1, body))
        if directive:
            kind, args = directive["kind"], directive["args"]
            if kind == "skip":
                if not args:
                    raise ReadmeError(f"README.md:{j + 1}: readme-test: skip needs a reason")
                block.skip = args
            elif kind == "emulator":
                block.emulator = shlex.split(args)
            else:
                raise ReadmeError(f"README.md:{j + 1}: unknown readme-test directive {kind!r}")
        blocks.append(block)
        i += 1
    return blocks


def _commands(fence_line: int, body: list[tuple[int, str]]) -> list[Command]:
    commands: list[Command] = []
    for number, line in body:
        if line.startswith("$ "):
            text = line[2:].strip()
            m = EXIT_ANNOTATION.search(text)
            commands.append(Command(number, text, [], int(m["code"]) if m else None))
        elif commands:
            commands[-1].expected.append(line)
        elif line.strip():
            raise ReadmeError(f"README.md:{number}: output before the first command")
    if not commands:
        raise ReadmeError(f"README.md:{fence_line}: a console block with no `$ ` command")
    for c in commands:
        while c.expected and not c.expected[-1].strip():
            c.expected.pop()
    return commands


def literal_values() -> set[str]:
    """GUIDs and timestamps that occur in examples/: expected text must match those exactly."""
    found: set[str] = set()
    for path in EXAMPLES.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            found.update(m.group(0).lower() for m in GUID.finditer(text))
            found.update(m.group(0) for m in TIMESTAMP.finditer(text))
    return found


_TOKEN = re.compile(
    f"(?P<guid>{GUID.pattern})|(?P<time>{TIMESTAMP.pattern})|(?P<dur>{DURATION.pattern})"
)


def pattern(
    expected: list[str], bound: t.Mapping[str, str], literals: t.Container[str]
) -> tuple[re.Pattern[str], dict[str, str]]:
    """A regular expression for the whole output of one command (see the module docstring),
    and which value of the expected text each of its groups captures."""
    groups: dict[str, str] = {}  # expected value -> group name
    parts: list[str] = []
    for line in expected:
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
            continue
        pieces: list[str] = []
        for k, chunk in enumerate(line.split("...")):
            if k:
                pieces.append(r"[^\n]*?")
            pos = 0
            for m in _TOKEN.finditer(chunk):
                pieces.append(re.escape(chunk[pos : m.start()]))
                pieces.append(_token_pattern(m, bound, groups, literals))
                pos = m.end()
            pieces.append(re.escape(chunk[pos:]))
        parts.append("".join(pieces) + r"\n")
    return re.compile("".join(parts)), {name: key for key, name in groups.items()}


def _token_pattern(
    m: re.Match[str],
    bound: t.Mapping[str, str],
    groups: dict[str, str],
    literals: t.Container[str],
) -> str:
    value = m.group(0)
    if m["dur"]:
        return r"\d+(?:\.\d+)?" + (r" s" if value.endswith(" s") else "s")
    is_guid = m["guid"] is not None
    key = value.lower() if is_guid else value
    if key in literals:
        return re.escape(value)
    if key in bound:
        return re.escape(bound[key])
    if key in groups:
        return f"(?P={groups[key]})"
    name = groups[key] = f"v{len(groups)}"
    return f"(?P<{name}>{GUID.pattern if is_guid else TIMESTAMP.pattern})"


def normalize(output: str) -> str:
    """Output as compared: trailing spaces and trailing blank lines do not count."""
    return "".join(line.rstrip() + "\n" for line in output.rstrip("\n").splitlines())


def match(
    expected: list[str], actual: str, bound: dict[str, str], literals: t.Container[str]
) -> bool:
    """Whether ``actual`` is what ``expected`` describes; binds its placeholders on success."""
    regex, names = pattern(expected, bound, literals)
    m = regex.fullmatch(normalize(actual))
    if m is None:
        return False
    for name, key in names.items():
        bound[key] = m[name]
    return True


class Emulators:
    """Emulators started for the README (``python -m fixtures.emulator`` with README's options),
    each on a free port standing in for the port README gives it."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.started: list[subprocess.Popen[bytes]] = []
        self.ports: dict[int, int] = {}  # README's port -> the real one

    def start(self, args: list[str]) -> None:
        shown: int | None = None
        real_args: list[str] = []
        it = iter(args)
        for arg in it:
            if arg == "--port" or arg.startswith("--port="):
                shown = int(arg.partition("=")[2] or next(it))
                continue
            real_args.append(arg)
        if shown is not None and shown in self.ports:
            return  # already up for an earlier block
        log = self.scratch / f"emulator-{len(self.started)}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "fixtures.emulator", "--port", "0", *real_args],
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self.started.append(proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            m = re.search(rb"serving http://127\.0\.0\.1:(\d+)", log.read_bytes())
            if m:
                if shown is not None:
                    self.ports[shown] = int(m[1])
                return
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        raise ReadmeError(
            f"python -m fixtures.emulator {shlex.join(args)} did not start: "
            + log.read_text(errors="replace")
        )

    def stop(self) -> None:
        for proc in self.started:
            proc.terminate()
        for proc in self.started:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@dataclasses.dataclass
class Outcome:
    command: Command
    exit_code: int
    output: str  # with the scratch paths and real ports put back as README writes them


class Session:
    """One shell session over the whole README, in a scratch copy of examples/."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.work = scratch / "work"
        self.demo = scratch / "tmp-demo"
        self.state = scratch / "state.sh"
        shutil.copytree(EXAMPLES, self.work)
        self.demo.mkdir()
        home = scratch / "home"
        home.mkdir()
        bindir = Path(sys.executable).parent
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("MSGAVAIL_", "PYTEST_", "GITHUB_", "XDG_"))
            and k not in ("DATAVERSE_TOKEN", "TF_BUILD", "NO_COLOR", "FORCE_COLOR", "COLUMNS")
        }
        env.update(
            PATH=f"{bindir}{os.pathsep}{env.get('PATH', '')}",
            HOME=str(home),
            PYTHONPATH=str(ROOT),  # `python -m fixtures.emulator` from a checkout
            PYTHONUNBUFFERED="1",  # stdout and stderr interleave as on a terminal
            LC_ALL="C.UTF-8",
            # Any request to a non-loopback host goes to a closed local port and fails.
            HTTP_PROXY="http://127.0.0.1:9",
            HTTPS_PROXY="http://127.0.0.1:9",
            NO_PROXY="127.0.0.1,localhost,::1",
        )
        self.env = env
        self.emulators = Emulators(scratch)
        self.cwd = self.work
        self.last_exit = 0
        self.bound: dict[str, str] = {}
        self.literals = literal_values()
        self.state.write_text("")

    def close(self) -> None:
        self.emulators.stop()

    # -- translating between README's world and the scratch one ----------------------------
    def _to_real(self, text: str) -> str:
        text = text.replace(DEMO_DIR, str(self.demo))
        for shown, real in self.emulators.ports.items():
            text = re.sub(rf"(127\.0\.0\.1|localhost):{shown}\b", rf"\g<1>:{real}", text)
        return text

    def _to_shown(self, text: str) -> str:
        from validator.executor import journal_name

        text = text.replace(str(self.demo), DEMO_DIR)
        for shown, real in self.emulators.ports.items():
            for host in ("127.0.0.1", "localhost"):
                real_name = journal_name(f"http://{host}:{real}")
                text = text.replace(real_name, journal_name(f"http://{host}:{shown}"))
            text = re.sub(rf"(127\.0\.0\.1|localhost):{real}\b", rf"\g<1>:{shown}", text)
        return text

    # -- running ---------------------------------------------------------------------------
    def run_block(self, block: Block) -> list[Outcome]:
        self.bound = {}
        if block.emulator is not None:
            self.emulators.start(block.emulator)
        return [self.run(c) for c in block.commands]

    def run(self, command: Command) -> Outcome:
        m = EMULATOR_COMMAND.match(command.text)
        if m and m["bg"]:
            self.emulators.start(shlex.split(m["args"] or ""))
            return Outcome(command, 0, "")
        if m:
            note = "[the emulator serves until stopped: end the command with `&`, or put "
            note += "<!-- readme-test: skip REASON --> before the block]"
            return Outcome(command, -1, note)
        script = (
            f"source {shlex.quote(str(self.state))}\n"
            f"cd {shlex.quote(str(self.cwd))} || exit 99\n"
            f"(exit {self.last_exit})\n"
            f"{self._to_real(command.text)}\n"
            "__readme_rc=$?\n"
            f"export -p > {shlex.quote(str(self.state))}\n"
            f"pwd > {shlex.quote(str(self.scratch / 'cwd'))}\n"
            "exit $__readme_rc\n"
        )
        try:
            proc = subprocess.run(
                ["bash", "--noprofile", "--norc", "-c", script],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                timeout=COMMAND_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            out = exc.stdout.decode(errors="replace") if exc.stdout else ""
            return Outcome(
                command, -1, self._to_shown(out) + f"\n[timed out after {exc.timeout} s]"
            )
        self.last_exit = proc.returncode
        cwd_file = self.scratch / "cwd"
        if cwd_file.exists():
            self.cwd = Path(cwd_file.read_text().strip())
        return Outcome(
            command, proc.returncode, self._to_shown(proc.stdout.decode(errors="replace"))
        )

    def check(self, outcome: Outcome) -> str | None:
        """None when the outcome is what README says; else a message saying how it differs."""
        c = outcome.command
        problems: list[str] = []
        if c.exit_code is not None and outcome.exit_code != c.exit_code:
            problems.append(f"exit status: README says {c.exit_code}, got {outcome.exit_code}")
        if not match(c.expected, outcome.output, self.bound, self.literals):
            problems.append("output differs")
        if not problems:
            return None
        actual = outcome.output.rstrip("\n").splitlines()
        diff = difflib.unified_diff(c.expected, actual, "README", "actual", lineterm="", n=2)
        return "\n".join(
            [
                f"README.md:{c.line}: $ {c.text}",
                *problems,
                f"--- expected (README.md:{c.line + 1}-, `...` = anything, GUIDs/times = any)",
                *(c.expected or ["(no output)"]),
                f"--- actual (exit status {outcome.exit_code})",
                *(actual or ["(no output)"]),
                "--- diff",
                *diff,
            ]
        )
