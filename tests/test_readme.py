"""README.md's console examples, run as written (tests/readme_examples.py says how).

A failure names the README line and shows the command, README's output and the actual output;
fix README (or the code) until they agree. Blocks run in document order in one session, so a
block may rely on what an earlier one did (an export, a harvest, a file it wrote).
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import pytest

from tests import readme_examples as rx

BLOCKS = rx.parse(rx.README.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[rx.Session]:
    s = rx.Session(Path(tmp_path_factory.mktemp("readme")))
    yield s
    s.close()


def test_readme_has_console_examples() -> None:
    assert sum(1 for b in BLOCKS if b.skip is None) >= 10


@pytest.mark.parametrize("block", [b for b in BLOCKS if b.skip is None], ids=lambda b: b.id)
def test_console_block(block: rx.Block, session: rx.Session) -> None:
    failures = [msg for o in session.run_block(block) if (msg := session.check(o)) is not None]
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)
