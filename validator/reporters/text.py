"""``path:line:col: CODE message`` lines, then a one-line summary (ruff's shape)."""

from __future__ import annotations

import typing as t

from validator.linter.diagnostics import Diagnostic, LintResult
from validator.reporters.base import ReportContext
from validator.reporters.base import plural as _plural

_FRAME_LINES = 5
_NEW_ITEM = ("- ", "{", "--", "<", "]", "}")


def _source_lines(path: str, cache: dict[str, list[str]]) -> list[str]:
    if path not in cache:
        try:
            with open(path, encoding="utf-8", errors="replace", newline="") as fh:
                cache[path] = fh.read().splitlines()
        except OSError:
            cache[path] = []
    return cache[path]


def _frame(d: Diagnostic, cache: dict[str, list[str]]) -> list[str]:
    source = _source_lines(d.path, cache)
    if not 1 <= d.line <= len(source):
        return []
    # The operation's first line, then its continuation lines (indented at least as far, not
    # starting another item), up to _FRAME_LINES in all.
    numbers = [d.line]
    for n in range(d.line + 1, min(d.line + _FRAME_LINES, len(source) + 1)):
        text = source[n - 1]
        body = text.lstrip()
        indent = len(text) - len(body)
        if not body or indent < d.column - 1 or body.startswith(_NEW_ITEM):
            break
        numbers.append(n)
    width = len(str(numbers[-1]))
    gutter = " " * width
    out = [f"{gutter} |"]
    for n in numbers:
        out.append(f"{n:>{width}} | {source[n - 1].expandtabs(1)}")
        if n == d.line:
            out.append(f"{gutter} | {' ' * (d.column - 1)}^ {d.code}")
    out.append("")
    return out


def _colored(d: Diagnostic) -> str:
    import click

    code = click.style(d.code, fg="red" if d.severity == "error" else "yellow", bold=True)
    where = click.style(f"{d.path}:{d.line}:{d.column}:", bold=True)
    return f"{where} {code} {d.message}"


def render(result: LintResult, ctx: ReportContext) -> str:
    lines: list[str] = []
    cache: dict[str, list[str]] = {}
    line_of = _colored if ctx.color else Diagnostic.text
    for d in result.diagnostics:
        lines.append(line_of(d))
        if ctx.show_source:
            lines.extend(_frame(d, cache))
    if ctx.show_source and lines and not lines[-1]:
        lines.pop()
    if ctx.quiet:
        return "".join(f"{line}\n" for line in lines)
    checked = (
        f"{_plural(result.operations, 'operation')} in {_plural(result.files, 'file')}, "
        f"{ctx.mode}, against {result.source}"
    )
    if result.diagnostics:
        parts = [_plural(n, w) for n, w in ((result.errors, "error"),
                                             (result.warnings, "warning")) if n]  # fmt: skip
        found = " and ".join(parts)
        if lines:
            lines.append("")
        lines.append(f"Found {found} ({checked}).")
        codes = sorted({d.code for d in result.diagnostics})
        lines.append(f"Explain a code with `msgavail rules {codes[0]}`.")
    elif not result.failures and result.files:
        lines.append(f"All checks passed ({checked}).")
    elif not result.failures:
        lines.append("No plan found: nothing was checked.")
    if result.failures:
        n = len(result.failures)
        lines.append(f"{_plural(n, 'file')} could not be read (errors above).")
    return "\n".join(lines) + "\n"


def write(result: LintResult, ctx: ReportContext, out: t.TextIO) -> None:
    out.write(render(result, ctx))
