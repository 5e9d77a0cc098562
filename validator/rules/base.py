"""What a rule is, and the per-run context rules read (one engine answer per distinct question)."""

from __future__ import annotations

import datetime as dt
import typing as t

from metadata.errors import UnknownMessageError, UnknownNameError, UnknownTableError
from metadata.model import Mode
from validator.engine import Engine, Verdict
from validator.plan import Operation

Severity = t.Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = ("warning", "error")
_new = tuple.__new__  # named tuples built positionally (a keyword-free NamedTuple call is slower)


OpCheck = t.Callable[[Operation, "Context"], t.Sequence[str] | None]
"""The part of a rule that must look at each operation: its findings' messages (None or empty:
none)."""


class Question(t.NamedTuple):
    """What an operation asks the data, as written: one ``Step`` per rule per distinct one."""

    message: str | None
    table: str | None
    secondary_table: str | None


class Step(t.NamedTuple):
    """What one rule does for every operation that asks one question (message, table, secondary
    table): the findings the question alone decides, and what is left to check per operation.

    ``when`` names an Operation field the check needs: operations where it is empty (no
    ``references``, no ``related``...) are not checked, without a call.
    """

    findings: tuple[str, ...] = ()
    check: OpCheck | None = None
    when: str | None = None


class Rule(t.NamedTuple):
    """A lint rule: stable id and name, default severity, documentation and how it decides.

    ``prepare`` is asked once per distinct question (with the engine's ``Resolution`` of it,
    None when the operation names no message) and returns the rule's ``Step`` for the operations
    asking it, or None when the rule has nothing to say about any of them. The linter keeps
    the steps per question, so a rule that depends only on the engine's answer costs nothing
    per operation, and a rule that cannot apply to a question is never called for it. Rules
    with no ``prepare`` are decided by the linter itself (MA007, MA009).
    """

    id: str
    name: str
    severity: Severity
    summary: str
    description: str
    example: str
    prepare: t.Callable[[Question, Resolution | None, Context], Step | None] | None = None

    def to_json(self) -> dict[str, str]:
        return {
            "code": self.id,
            "name": self.name,
            "severity": self.severity,
            "summary": self.summary,
            "description": self.description,
            "example": self.example,
        }


class LabelTarget(t.NamedTuple):
    """What a label names: its operation's index, table and whether it has a record id."""

    operation: int
    table: str | None
    has_id: bool


class Resolution(t.NamedTuple):
    """What the data says about one (message, table, secondary table) question."""

    message_error: UnknownMessageError | None = None
    table_errors: tuple[UnknownTableError, ...] = ()
    verdict: Verdict | None = None
    needs_table: str | None = None
    """The canonical message name when it is bound to tables and the operation gives none."""
    message: str | None = None
    """The canonical message name (None: unknown)."""


def supported(verdict: Verdict) -> bool:
    """Supported for the table, counting a custom-table rule that depends on ownership."""
    return verdict.supported or (
        verdict.basis == "custom-table rule" and verdict.filter_availability is not None
    )


def plain_reason(verdict: Verdict) -> str:
    # Verdict reasons end with " [<source>]"; lint output names the source once, not per line.
    reason = verdict.reason
    suffix = f" [{verdict.source.describe()}]"
    reason = reason[: -len(suffix)] if reason.endswith(suffix) else reason
    # A plan cannot pass an ownership the way `msgavail check --ownership` can.
    return reason.replace(
        "; pass the table's ownership to decide",
        "; lint against a harvest or snapshot of the org, which records ownership",
    )


class Context:
    """Shared by the rules during one lint run: the engine, the mode and a cache of answers."""

    def __init__(self, engine: Engine, mode: Mode = "offline", profile: str | None = None) -> None:
        self.engine = engine
        self.mode: Mode = mode
        # Mode mobile: resolve the profile once (unknown, missing or ambiguous raise here, before
        # any file is read); the canonical name is passed to every engine question.
        chosen = engine.resolve_profile(profile, required=mode == "mobile")
        self.profile: str | None = chosen.name if chosen is not None else None
        self.label_tables: dict[tuple[str | None, str], str | None] = {}
        """(scope, label) -> the table of the operation that defined it, for labels of records
        outside the profile (MA013)."""
        self.outside_profile: dict[str, str | None] = {}
        """Table name as written -> its logical name when not in the profile, else None."""
        self._cache: dict[tuple[str, str | None, str | None], Resolution] = {}
        self.labels: dict[str | None, set[str]] = {}
        """Labels defined so far in the current file, by scope (reset per file)."""
        self.all_labels: dict[str, str | None] = {}
        """Every label of the current file and its scope (to explain a forward reference)."""
        self.records: dict[tuple[str | None, str], LabelTarget] = {}
        """What each label defined so far names, by (scope, label) (reset per file)."""
        self.flawed = False
        """A label defined in this file names an operation without a record id or a table
        (until then no reference can be one MA014 reports)."""

    def start_file(self) -> None:
        self.labels = {}
        self.all_labels = {}
        self.records = {}
        self.flawed = False
        self.label_tables = {}

    def related_table_errors(self, op: Operation) -> list[UnknownTableError]:
        """Unknown tables among ``op``'s related records (custom-looking names allowed)."""
        names = self.engine.names
        found: list[UnknownTableError] = []
        for rel in op.related:
            if names.lookup_table(rel.table) is not None or names.is_presumed_custom(rel.table):
                continue
            try:
                names.table(rel.table)
            except UnknownTableError as exc:
                found.append(exc)
        return found

    def define(self, op: Operation, creates: bool) -> None:
        """Record ``op``'s label once the rules have seen it (later operations may refer to it).

        ``creates``: its message is Create, which always has a record id (the executor
        generates one when the plan gives none); any other operation has one only when it
        names its record.
        """
        assert op.label is not None
        scope = op.scope
        defined = self.labels.get(scope)
        if defined is None:
            defined = self.labels[scope] = set()
        defined.add(op.label)
        has_id = op.id is not None or creates
        self.records[(scope, op.label)] = _new(LabelTarget, (op.index, op.table, has_id))
        if not has_id or op.table is None:
            self.flawed = True

    def resolve(self, op: Operation) -> Resolution | None:
        """The engine's answer to ``op``'s question (None: it names no message); kept per
        question."""
        if op.message is None:
            return None
        key = (op.message, op.table, op.secondary_table)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._resolve(*key)
        return found

    def _resolve(self, message: str, table: str | None, secondary: str | None) -> Resolution:
        names = self.engine.names
        msg_error: UnknownMessageError | None = None
        canonical: str | None = None
        try:
            canonical = names.message(message)
        except UnknownMessageError as exc:
            msg_error = exc
        table_errors: list[UnknownTableError] = []
        for name, custom_ok in ((table, True), (secondary, False)):
            if name is None or names.lookup_table(name) is not None:
                continue
            if custom_ok and names.is_presumed_custom(name):
                continue
            try:
                names.table(name)
            except UnknownTableError as exc:
                table_errors.append(exc)
        if msg_error is not None or table_errors or canonical is None:
            return Resolution(msg_error, tuple(table_errors), message=canonical)
        if table is None:
            if secondary is not None:
                return Resolution(message=canonical)
            snap = self.engine.snapshot
            if snap.filters_for(canonical) and snap.filter(canonical, None, None) is None:
                return Resolution(needs_table=canonical, message=canonical)
        try:
            verdict = self.engine.check(
                canonical, table, secondary, self.mode, profile=self.profile
            )
        except UnknownNameError as exc:  # pragma: no cover - names were checked above
            if isinstance(exc, UnknownTableError):
                return Resolution(table_errors=(exc,), message=canonical)
            raise
        return Resolution(verdict=verdict, message=canonical)


def parse_timestamp(value: str) -> dt.datetime | None:
    """An ISO 8601 time (``Z`` allowed), as aware UTC; None when it cannot be read."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc)
