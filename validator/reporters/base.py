"""What every reporter gets: the result, the rules, and where paths are relative to."""

from __future__ import annotations

import os
import typing as t

from validator.linter.diagnostics import LintResult

if t.TYPE_CHECKING:
    from validator.rules import Rule


class ReportContext(t.NamedTuple):
    root: str = "."
    """Repository root: SARIF and CI annotations use paths relative to it."""
    rules: t.Mapping[str, Rule] | None = None
    """The rules to describe (SARIF, CI titles); None: every rule (``rule_table``)."""
    mode: str = "offline"
    version: str = ""
    show_source: bool = False
    """Text format: show each finding's source line under it, with a caret at the column."""
    quiet: bool = False
    """Text format: the findings only (no summary lines)."""
    color: bool = False
    """Text format: ANSI colour (the CLI sets it on a terminal without NO_COLOR)."""

    def rule_table(self) -> t.Mapping[str, Rule]:
        if self.rules is not None:
            return self.rules
        from validator.rules import RULES

        return RULES


Reporter = t.Callable[[LintResult, ReportContext, t.TextIO], None]
"""``write(result, ctx, out)``: write the report to ``out``."""


def write_list(out: t.TextIO, items: t.Iterable[t.Any], *, depth: int) -> None:
    """A JSON array at ``depth`` levels of 2-space indent, one item at a time.

    Writes what ``json.dumps(list(items), indent=2)`` nested ``depth`` levels deep would, without
    ever holding the list's text: ``[]`` when empty, else ``[`` newline items ``]``.
    """
    import json

    pad = "\n" + "  " * (depth + 1)
    first = True
    for item in items:
        out.write(("[" if first else ",") + pad + json.dumps(item, indent=2).replace("\n", pad))
        first = False
    out.write("[]" if first else "\n" + "  " * depth + "]")


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary_line(result: LintResult, mode: str) -> str:
    """The closing line of the CI formats (github, azure)."""
    return (
        f"msgavail: {plural(result.errors, 'error')}, {plural(result.warnings, 'warning')} in "
        f"{plural(result.operations, 'operation')} ({plural(result.files, 'file')}, {mode})"
    )


def relative(path: str, root: str) -> str:
    """``path`` relative to ``root`` with forward slashes (as given when outside the root)."""
    absolute = os.path.abspath(path)
    base = os.path.abspath(root)
    try:
        rel = os.path.relpath(absolute, base)
    except ValueError:  # another drive on Windows
        return path.replace(os.sep, "/")
    if rel.startswith(".."):
        return path.replace(os.sep, "/")
    return rel.replace(os.sep, "/")
