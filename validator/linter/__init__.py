"""The linter as a library: ``lint(paths, engine=..., config=...) -> LintResult`` (data only).

>>> from validator.linter import lint
>>> result = lint(["plans/"])                    # doctest: +SKIP
>>> [d.text() for d in result.diagnostics]       # doctest: +SKIP
"""

from __future__ import annotations

from validator.linter.config import LintConfig, load_config
from validator.linter.core import Linter, lint, name_lookup
from validator.linter.diagnostics import Diagnostic, LintResult

__all__ = ["Diagnostic", "LintConfig", "LintResult", "Linter", "lint", "load_config", "name_lookup"]
