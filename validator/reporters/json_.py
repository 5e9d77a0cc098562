"""The JSON contract: ``{"version": 1, "diagnostics": [...], "summary": {...}}`` + ``read_errors``.

Written as it goes, one diagnostic at a time, with the same bytes ``json.dumps(result.to_json(),
indent=2)`` would give: memory stays at the findings' own size however many there are.
"""

from __future__ import annotations

import json
import typing as t

from validator.linter.diagnostics import LintResult, failure_json
from validator.reporters.base import ReportContext, write_list

_SLOT = "\0diagnostics\0"


def write(result: LintResult, ctx: ReportContext, out: t.TextIO) -> None:
    doc = {
        "version": 1,
        "diagnostics": _SLOT,
        "read_errors": [failure_json(f) for f in result.failures],
        "summary": result.summary(),
    }
    head, tail = json.dumps(doc, indent=2).split(json.dumps(_SLOT))
    out.write(head)
    write_list(out, (d._asdict() for d in result.diagnostics), depth=1)
    out.write(tail)
    out.write("\n")
