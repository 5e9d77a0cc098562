"""``path:line:col: CODE message`` lines, then a one-line summary (ruff's shape)."""

from __future__ import annotations

from validator.linter.diagnostics import LintResult
from validator.reporters.base import ReportContext


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render(result: LintResult, ctx: ReportContext) -> str:
    lines = [d.text() for d in result.diagnostics]
    checked = (
        f"{_plural(result.operations, 'operation')} in {_plural(result.files, 'file')}, "
        f"{ctx.mode}, against {result.source}"
    )
    if result.diagnostics:
        found = _plural(result.errors, "error")
        if result.warnings:
            found += f" and {_plural(result.warnings, 'warning')}"
        if lines:
            lines.append("")
        lines.append(f"Found {found} ({checked}).")
        codes = sorted({d.code for d in result.diagnostics})
        lines.append(f"Explain a code with `msgavail rules {codes[0]}`.")
    elif not result.failures:
        lines.append(f"All checks passed ({checked}).")
    if result.failures:
        n = len(result.failures)
        lines.append(f"{_plural(n, 'file')} could not be read (errors above).")
    return "\n".join(lines) + "\n"
