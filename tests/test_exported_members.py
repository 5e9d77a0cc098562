"""The public API is what `validator.__all__` says, sorted, and every name resolves."""

from __future__ import annotations

import types

import validator


def test_all_is_sorted_and_complete() -> None:
    names = list(validator.__all__)
    # the order ruff's RUF022 keeps: plain string order (classes, then dunders, then functions)
    assert names == sorted(names)
    for name in names:
        assert hasattr(validator, name), name
    public = {
        n
        for n in dir(validator)
        if not n.startswith("_") and not isinstance(getattr(validator, n), types.ModuleType)
    }
    assert public - set(names) == set(), "public names missing from validator.__all__"
