"""The JSON contract: ``{"version": 1, "diagnostics": [...], "summary": {...}}``."""

from __future__ import annotations

import json

from validator.linter.diagnostics import LintResult
from validator.reporters.base import ReportContext


def render(result: LintResult, ctx: ReportContext) -> str:
    return json.dumps(result.to_json(), indent=2) + "\n"
