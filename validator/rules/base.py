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


class Rule(t.NamedTuple):
    """A lint rule: stable id and name, default severity, documentation and its check.

    ``check`` yields one message per finding on an operation; rules with no ``check`` are
    decided by the linter itself (file-level and suppression rules).
    """

    id: str
    name: str
    severity: Severity
    summary: str
    description: str
    example: str
    check: t.Callable[[Operation, Context], t.Iterable[str]] | None = None

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
        self._messages: dict[str, str | None] = {}

    def start_file(self) -> None:
        self.labels = {}
        self.all_labels = {}
        self.records = {}
        self.label_tables = {}

    def message_name(self, op: Operation) -> str | None:
        """The canonical message name of ``op`` (None: no message, or an unknown one)."""
        name = op.message
        if name is None:
            return None
        try:
            return self._messages[name]
        except KeyError:
            pass
        try:
            found: str | None = self.engine.names.message(name)
        except UnknownMessageError:
            found = None
        self._messages[name] = found
        return found

    def related_table_errors(self, op: Operation) -> t.Iterator[UnknownTableError]:
        """Unknown tables among ``op``'s related records (custom-looking names allowed)."""
        names = self.engine.names
        for rel in op.related:
            if names.lookup_table(rel.table) is not None or names.is_presumed_custom(rel.table):
                continue
            try:
                names.table(rel.table)
            except UnknownTableError as exc:
                yield exc

    def define(self, op: Operation) -> None:
        """Record ``op``'s label once the rules have seen it (later operations may refer to it).

        A Create always has a record id (the executor generates one when the plan gives none);
        any other operation has one only when it names its record.
        """
        assert op.label is not None
        self.labels.setdefault(op.scope, set()).add(op.label)
        has_id = op.id is not None or (self.message_name(op) or "").lower() == "create"
        self.records[(op.scope, op.label)] = LabelTarget(op.index, op.table, has_id)

    def resolve(self, op: Operation) -> Resolution | None:
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
            return Resolution(msg_error, tuple(table_errors))
        if table is None:
            if secondary is not None:
                return Resolution()
            snap = self.engine.snapshot
            if snap.filters_for(canonical) and snap.filter(canonical, None, None) is None:
                return Resolution(needs_table=canonical)
        try:
            verdict = self.engine.check(
                canonical, table, secondary, self.mode, profile=self.profile
            )
        except UnknownNameError as exc:  # pragma: no cover - names were checked above
            if isinstance(exc, UnknownTableError):
                return Resolution(table_errors=(exc,))
            raise
        return Resolution(verdict=verdict)


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
