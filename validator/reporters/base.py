"""What every reporter gets: the result, the rules, and where paths are relative to."""

from __future__ import annotations

import os
import typing as t

from validator.linter.diagnostics import LintResult
from validator.rules import RULES, Rule


class ReportContext(t.NamedTuple):
    root: str = "."
    """Repository root: SARIF and CI annotations use paths relative to it."""
    rules: t.Mapping[str, Rule] = RULES
    mode: str = "offline"
    version: str = ""
    show_source: bool = False
    """Text format: show each finding's source line under it, with a caret at the column."""


Reporter = t.Callable[[LintResult, ReportContext], str]


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
