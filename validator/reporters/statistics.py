"""``lint --statistics``: how many findings of each code, most frequent first (ruff's shape)."""

from __future__ import annotations

import collections
import json
import typing as t

from validator.linter.diagnostics import LintResult
from validator.reporters.base import ReportContext


def counts(result: LintResult, ctx: ReportContext) -> list[dict[str, t.Any]]:
    """``[{"code", "name", "severity", "count"}]``, by count (descending) then code."""
    rules = ctx.rule_table()
    found = collections.Counter(d.code for d in result.diagnostics)
    rows = []
    for code, n in sorted(found.items(), key=lambda kv: (-kv[1], kv[0])):
        rule = rules.get(code)
        rows.append(
            {
                "code": code,
                "name": rule.name if rule else "",
                "severity": rule.severity if rule else "",
                "count": n,
            }
        )
    return rows


def write(result: LintResult, ctx: ReportContext, out: t.TextIO, fmt: str = "text") -> None:
    rows = counts(result, ctx)
    if fmt == "json":
        out.write(json.dumps(rows, indent=2) + "\n")
        return
    width = max((len(str(r["count"])) for r in rows), default=1)
    for r in rows:
        out.write(f"{r['count']:>{width}}  {r['code']}  {r['name']}\n")


def write_json(result: LintResult, ctx: ReportContext, out: t.TextIO) -> None:
    write(result, ctx, out, "json")
