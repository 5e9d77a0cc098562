"""metadata/fsutil.py: a write that fails leaves the old file whole and no temporary behind."""

from __future__ import annotations

import os
import typing as t

import pytest

from metadata.fsutil import atomic_write_text, blocking_file


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: t.Any) -> None:
    target = tmp_path / "snapshot.json"
    target.write_text("the old, complete file")
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(str(target), "half of it \udc80 cannot be encoded")
    assert target.read_text() == "the old, complete file"
    assert os.listdir(tmp_path) == ["snapshot.json"]


def test_blocking_file_names_the_file_in_the_way_or_none(tmp_path: t.Any) -> None:
    (tmp_path / "a-file").write_text("x")
    assert blocking_file(str(tmp_path / "a-file" / "cache")) == str(tmp_path / "a-file")
    assert blocking_file(str(tmp_path / "missing" / "cache")) is None  # makedirs can create it
    assert blocking_file(str(tmp_path)) is None  # a directory: nothing in the way
