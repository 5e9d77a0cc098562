"""The offline gate: lint a plan in offline mode before anything is queued.

``lint_offline`` is the one place the executor asks the linter. Until the linter's library
call is on this branch this module holds a thin stand-in that reads native JSON/YAML plans and
reports the same codes; swapping it is a one-line change in ``lint_offline``.
"""

from __future__ import annotations

import typing as t

from metadata.errors import PlanError, UnknownMessageError, UnknownTableError

if t.TYPE_CHECKING:
    from validator.engine import Engine

UNAVAILABLE_CODES = frozenset({"MA003", "MA004", "MA005"})


class Related(t.NamedTuple):
    table: str
    id: str


class PlanOp(t.NamedTuple):
    """The fields of the linter's plan ``Operation`` the executor reads."""

    index: int  # type: ignore[assignment]
    message: str | None
    table: str | None = None
    secondary_table: str | None = None
    id: str | None = None
    data: t.Mapping[str, t.Any] | None = None
    parameters: t.Mapping[str, t.Any] | None = None
    label: str | None = None
    relationship: str | None = None
    related: tuple[Related, ...] = ()
    line: int = 1
    column: int = 1
    path: str = "<input>"


class Finding(t.NamedTuple):
    path: str
    line: int
    column: int
    operation: int
    code: str
    severity: t.Literal["error", "warning"]
    message: str

    def render(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.code} {self.message}"


class LintOutcome(t.NamedTuple):
    operations: tuple[PlanOp, ...]
    findings: tuple[Finding, ...]

    def errors_for(self, index: int) -> list[Finding]:
        return [f for f in self.findings if f.operation == index and f.severity == "error"]


def lint_offline(path: str, engine: Engine) -> LintOutcome:
    """Read the plan at ``path`` and lint every operation for offline mode."""
    return _standin_lint(path, engine)


# -- stand-in until the linter lands ---------------------------------------------------------
def _standin_read(path: str) -> tuple[PlanOp, ...]:
    import json

    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise PlanError(f"cannot read the plan: {exc.strerror}", path=path) from exc
    try:
        if path.endswith((".yaml", ".yml")):
            import yaml

            doc = yaml.safe_load(text)
        else:
            doc = json.loads(text)
    except (ValueError, Exception) as exc:
        raise PlanError(f"not a readable plan: {exc}", path=path) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("operations"), list):
        raise PlanError('expected an object with an "operations" list', path=path, line=1)
    ops: list[PlanOp] = []
    for i, raw in enumerate(doc["operations"]):
        if not isinstance(raw, dict):
            raise PlanError(f"operation {i} is not an object", path=path)
        related = tuple(
            Related(str(r.get("table")), str(r.get("id")))
            for r in raw.get("related") or ()
            if isinstance(r, dict)
        )
        ops.append(
            PlanOp(
                index=i,
                message=raw.get("message"),
                table=raw.get("table", raw.get("entity")),
                secondary_table=raw.get("secondary_table"),
                id=raw.get("id"),
                data=raw.get("data"),
                parameters=raw.get("parameters"),
                label=raw.get("label"),
                relationship=raw.get("relationship"),
                related=related,
                path=path,
            )
        )
    return tuple(ops)


def _standin_lint(path: str, engine: Engine) -> LintOutcome:
    ops = _standin_read(path)
    findings: list[Finding] = []
    labels: set[str] = set()

    def add(op: PlanOp, code: str, message: str) -> None:
        findings.append(Finding(op.path, op.line, op.column, op.index, code, "error", message))

    for op in ops:
        if not isinstance(op.message, str) or not op.message:
            add(op, "MA006", 'the operation has no "message"')
            continue
        refs = [op.id, *(r.id for r in op.related)]
        refs += [v for k, v in (op.data or {}).items() if k.endswith("@odata.bind")]
        for ref in refs:
            if isinstance(ref, str) and ref.startswith("$") and ref[1:] not in labels:
                add(op, "MA008", f"{ref} is not defined by an earlier operation's label")
        if op.label:
            labels.add(op.label)
        try:
            verdict = engine.check(op.message, op.table, op.secondary_table, "offline")
        except UnknownMessageError as exc:
            add(op, "MA001", str(exc))
            continue
        except UnknownTableError as exc:
            add(op, "MA002", str(exc))
            continue
        if verdict.available:
            continue
        if not verdict.supported:
            code = "MA003"
        elif verdict.message_availability not in ("Client", "All"):
            code = "MA004"
        else:
            code = "MA005"
        add(op, code, verdict.reason)
    return LintOutcome(ops, tuple(findings))
