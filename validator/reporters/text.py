"""``path:line:col: CODE message`` lines, then a one-line summary (ruff's shape)."""

from __future__ import annotations

from validator.linter.diagnostics import Diagnostic, LintResult
from validator.reporters.base import ReportContext


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


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


def render(result: LintResult, ctx: ReportContext) -> str:
    lines: list[str] = []
    cache: dict[str, list[str]] = {}
    for d in result.diagnostics:
        lines.append(d.text())
        if ctx.show_source:
            lines.extend(_frame(d, cache))
    if ctx.show_source and lines and not lines[-1]:
        lines.pop()
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
    elif not result.failures:
        lines.append(f"All checks passed ({checked}).")
    if result.failures:
        n = len(result.failures)
        lines.append(f"{_plural(n, 'file')} could not be read (errors above).")
    return "\n".join(lines) + "\n"
