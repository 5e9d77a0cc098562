"""The public API is what `validator.__all__` says, sorted, and every name resolves."""

from __future__ import annotations

import validator


def test_all_is_sorted_and_complete() -> None:
    names = list(validator.__all__)
    assert names == sorted(names, key=str.casefold) or names == sorted(names)
    for name in names:
        assert hasattr(validator, name), name
    public = {n for n in dir(validator) if not n.startswith("_") and n[0].isupper()}
    submodules = {"api", "cli", "engine", "names"}
    assert public - set(names) - submodules == set()
