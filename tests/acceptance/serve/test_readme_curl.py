"""The README's ``curl`` examples for ``msgavail serve``, run against a real server.

Each ``$ curl ...`` line in the serve section's console block is run (no shell) with the
README's address replaced by the test server's; its output must match the lines shown under
it, where ``...`` stands for any text.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess

import pytest

from tests.serve_support import ServeProcess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
README_URL = "http://127.0.0.1:8080"


def curl_examples() -> list[tuple[str, list[str]]]:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        text = fh.read()
    start = text.index("## Serving answers over HTTP")
    section = text[start : text.index("\n## ", start + 1)]
    examples: list[tuple[str, list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        for line in block.splitlines():
            if line.startswith("$ "):
                examples.append((line[2:], []))
            elif examples:
                examples[-1][1].append(line)
    return examples


def test_the_readme_has_curl_examples() -> None:
    examples = curl_examples()
    assert len(examples) >= 5 and all(cmd.startswith("curl ") for cmd, _ in examples)


@pytest.mark.parametrize(("command", "expected"), curl_examples())
def test_readme_curl_example(published_server: ServeProcess, command: str, expected) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed on this machine")
    argv = [a.replace(README_URL, published_server.url) for a in shlex.split(command)]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    got = out.stdout.splitlines()
    assert len(got) == len(expected), out.stdout
    for line, want in zip(got, expected, strict=True):
        pattern = ".*".join(re.escape(part) for part in want.split("..."))
        assert re.fullmatch(pattern, line), f"\n got: {line}\nwant: {want}"
