"""GitHub Actions workflow commands: ``::error file=...,line=...,col=...,title=...::message``.

Escaping follows the Actions toolkit: in the message ``%``, CR and LF are percent-encoded; in
property values ``:`` and ``,`` are too. GitHub shows at most 10 error and 10 warning
annotations per step, so a notice says so when there are more (SARIF upload shows them all).
"""

from __future__ import annotations

import typing as t

from validator.linter.diagnostics import LintResult
from validator.reporters.base import ReportContext, relative, summary_line

ANNOTATION_LIMIT = 10


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render(result: LintResult, ctx: ReportContext) -> str:
    lines = []
    for d in result.diagnostics:
        rule = ctx.rule_table().get(d.code)
        title = f"{d.code} {rule.name}" if rule else d.code
        props = ",".join(
            f"{k}={escape_property(str(v))}"
            for k, v in (
                ("file", relative(d.path, ctx.root)),
                ("line", d.line),
                ("col", d.column),
                ("title", title),
            )
        )
        lines.append(f"::{d.severity} {props}::{escape_data(f'{d.code} {d.message}')}")
    over = [
        (n, kind)
        for n, kind in ((result.errors, "error"), (result.warnings, "warning"))
        if n > ANNOTATION_LIMIT
    ]
    for n, kind in over:
        lines.append(
            "::notice title=msgavail::"
            + escape_data(
                f"{n} {kind}s found; GitHub shows only {ANNOTATION_LIMIT} {kind} annotations per "
                "step. All of them are in this log; upload `--format sarif` output to code "
                "scanning to see every one on the pull request."
            )
        )
    lines.append(summary_line(result, ctx.mode))
    return "\n".join(lines) + "\n"


def write(result: LintResult, ctx: ReportContext, out: t.TextIO) -> None:
    out.write(render(result, ctx))
