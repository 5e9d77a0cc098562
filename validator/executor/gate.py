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

# What --skip-unavailable skips: the operation cannot run offline (in mode mobile: MA011 the
# table is not in the profile, MA012 the mobile client does not run the message offline).
UNAVAILABLE_CODES = frozenset({"MA003", "MA004", "MA005", "MA011", "MA012"})


class LintOutcome(t.NamedTuple):
    operations: tuple[Operation, ...]
    findings: tuple[Diagnostic, ...]


def lint_offline(
    path: str,
    engine: Engine,
    *,
    mode: t.Literal["offline", "mobile"] = "offline",
    profile: str | None = None,
) -> LintOutcome:
    """Read the plan at ``path`` (native, $batch or ExecuteMultiple) and lint it offline.

    ``mode="mobile"`` lints for the Power Apps mobile client and ``profile`` (MA011-MA013)."""
    from validator.linter import LintConfig, lint, name_lookup
    from validator.readers import read_plan

    plan = read_plan(path, names=name_lookup(engine))
    ops = tuple(op._replace(suppressions=None) for op in plan.operations)
    config = LintConfig(mode=mode, profile=profile)
    result = lint(engine=engine, config=config, operations=ops, path=path)
    return LintOutcome(ops, result.diagnostics)
