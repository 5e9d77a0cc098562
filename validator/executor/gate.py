"""The offline gate: read a plan and lint it in offline mode before anything is queued.

The linter decides (the same rules and messages as ``msgavail lint --mode offline``), with two
differences that make the gate strict: inline suppressions are not honoured (an operation that
cannot run offline must not be queued, whatever the file says) and no project configuration
can deselect a rule.
"""

from __future__ import annotations

import typing as t

from validator.linter.diagnostics import Diagnostic
from validator.plan import Operation

if t.TYPE_CHECKING:
    from validator.engine import Engine

UNAVAILABLE_CODES = frozenset({"MA003", "MA004", "MA005"})


class LintOutcome(t.NamedTuple):
    operations: tuple[Operation, ...]
    findings: tuple[Diagnostic, ...]


def lint_offline(path: str, engine: Engine) -> LintOutcome:
    """Read the plan at ``path`` (native, $batch or ExecuteMultiple) and lint it offline."""
    from validator.linter import LintConfig, lint, name_lookup
    from validator.readers import read_plan

    plan = read_plan(path, names=name_lookup(engine))
    ops = tuple(op._replace(suppressions=None) for op in plan.operations)
    result = lint(engine=engine, config=LintConfig(mode="offline"), operations=ops, path=path)
    return LintOutcome(ops, result.diagnostics)
