"""Shared pieces of the executor's tests: an org seed with relationship messages, plans, and a
harvest of the emulator into a cache directory."""

from __future__ import annotations

import json
import os
import typing as t

from fixtures.emulator import seed as seeds


def executor_seed() -> seeds.Seed:
    """The synthetic org plus Associate / Disassociate (All) for account and contact."""
    org = seeds.synthetic_org()
    for name in ("Associate", "Disassociate"):
        org["sdkmessages"].append(seeds.message(name, seeds.ALL))
        for table in ("account", "contact"):
            org["sdkmessagefilters"].append(seeds.message_filter(name, table, seeds.ALL))
    return org


def write_plan(path: str | os.PathLike[str], operations: t.Sequence[t.Mapping[str, t.Any]]) -> str:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"operations": list(operations)}, fh, indent=2)
    return os.fspath(path)
