"""Azure Pipelines logging commands: ``##vso[task.logissue type=error;sourcepath=...]message``.

Escaping follows the Azure Pipelines agent: ``%`` becomes ``%AZP25``, CR ``%0D``, LF ``%0A``,
and in property values ``;`` becomes ``%3B`` and ``]`` ``%5D``.
"""

from __future__ import annotations

import typing as t

from validator.linter.diagnostics import LintResult
from validator.reporters.base import ReportContext, relative, summary_line


def escape_data(value: str) -> str:
    return value.replace("%", "%AZP25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(";", "%3B").replace("]", "%5D")


def render(result: LintResult, ctx: ReportContext) -> str:
    lines = []
    for d in result.diagnostics:
        props = ";".join(
            f"{k}={escape_property(str(v))}"
            for k, v in (
                ("type", d.severity),
                ("sourcepath", relative(d.path, ctx.root)),
                ("linenumber", d.line),
                ("columnnumber", d.column),
                ("code", d.code),
            )
        )
        lines.append(f"##vso[task.logissue {props};]{escape_data(f'{d.code} {d.message}')}")
    lines.append(summary_line(result, ctx.mode))
    return "\n".join(lines) + "\n"


def write(result: LintResult, ctx: ReportContext, out: t.TextIO) -> None:
    out.write(render(result, ctx))
