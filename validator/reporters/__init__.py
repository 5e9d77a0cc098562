"""Reporters: a registry of modules rendering a LintResult for one audience.

Each reporter module has ``write(result, ctx, out)``, which writes the report to a text stream
as it goes (the JSON and SARIF reporters never hold the whole document: a report of 500,000
findings costs the findings, not several copies of them). Modules are imported only when their
format is used, so ``msgavail lint`` pays for one reporter, not all of them.

``REPORTERS[name](result, ctx) -> str`` renders to a string (tests, small reports);
``REPORTERS[name].write(result, ctx, out)`` streams. The CLI picks one by ``--format`` (or
github under ``GITHUB_ACTIONS=true``, azure under ``TF_BUILD``).
"""

from __future__ import annotations

import importlib
import io
import os
import typing as t

from validator.reporters.base import ReportContext, Reporter, relative

if t.TYPE_CHECKING:
    from validator.linter.diagnostics import LintResult

_MODULES: t.Mapping[str, str] = {
    "text": "validator.reporters.text",
    "json": "validator.reporters.json_",
    "sarif": "validator.reporters.sarif",
    "github": "validator.reporters.github",
    "azure": "validator.reporters.azure",
    "junit": "validator.reporters.junit",
}
FORMATS: tuple[str, ...] = tuple(_MODULES)


class LazyReporter:
    """One format: its module is imported on first use."""

    def __init__(self, name: str, module: str) -> None:
        self.name = name
        self._module = module

    def write(self, result: LintResult, ctx: ReportContext, out: t.TextIO) -> None:
        writer: Reporter = importlib.import_module(self._module).write
        writer(result, ctx, out)

    def __call__(self, result: LintResult, ctx: ReportContext) -> str:
        buf = io.StringIO()
        self.write(result, ctx, buf)
        return buf.getvalue()


REPORTERS: t.Mapping[str, LazyReporter] = {n: LazyReporter(n, m) for n, m in _MODULES.items()}


def default_format(environ: t.Mapping[str, str] | None = None) -> str:
    """github inside GitHub Actions, azure inside Azure Pipelines, else text."""
    env = os.environ if environ is None else environ
    if env.get("GITHUB_ACTIONS", "").lower() == "true":
        return "github"
    if env.get("TF_BUILD", "").lower() == "true":
        return "azure"
    return "text"


__all__ = [
    "FORMATS",
    "REPORTERS",
    "LazyReporter",
    "ReportContext",
    "Reporter",
    "default_format",
    "relative",
]
