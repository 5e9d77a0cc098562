"""Findings as data: what every reporter renders and what ``lint`` returns."""

from __future__ import annotations

import typing as t

from metadata.errors import PlanError
from validator.rules.base import Severity


class Diagnostic(t.NamedTuple):
    """One finding; fields and order match the JSON contract (docs/DESIGN.md §3)."""

    path: str
    line: int
    column: int
    operation: int
    """Zero-based index of the operation in its file."""
    code: str
    severity: Severity
    message: str

    def to_json(self) -> dict[str, t.Any]:
        return self._asdict()

    def text(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.code} {self.message}"


def failure_json(exc: PlanError) -> dict[str, t.Any]:
    """A file that could not be read, as the JSON report's ``read_errors`` entries show it."""
    return {
        "path": exc.path,
        "line": exc.line,
        "column": exc.column,
        "message": exc.message,
        "text": str(exc),
    }


class LintResult(t.NamedTuple):
    """Everything one lint run found, plus the files it could not read."""

    diagnostics: tuple[Diagnostic, ...]
    files: int
    operations: int
    failures: tuple[PlanError, ...] = ()
    """Files that could not be read (exit status 2); their findings are not included."""
    source: str = ""
    """Where the availability data came from (for headers)."""

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.severity == "warning")

    def summary(self) -> dict[str, int]:
        return {
            "files": self.files,
            "operations": self.operations,
            "errors": self.errors,
            "warnings": self.warnings,
        }

    def to_json(self) -> dict[str, t.Any]:
        return {
            "version": 1,
            "diagnostics": [d.to_json() for d in self.diagnostics],
            "read_errors": [failure_json(f) for f in self.failures],
            "summary": self.summary(),
        }

    def exit_status(self, fail_on: Severity = "error") -> int:
        """0 clean, 1 a finding at or above ``fail_on``, 2 some file could not be read."""
        if self.failures:
            return 2
        if fail_on == "warning":
            return 1 if self.diagnostics else 0
        return 1 if self.errors else 0
