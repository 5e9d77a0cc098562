"""The lint run: read each file once, ask the engine once per distinct question, collect data."""

from __future__ import annotations

import datetime as dt
import os
import typing as t

from metadata.errors import PlanError
from validator.engine import Engine
from validator.linter.config import LintConfig
from validator.linter.diagnostics import Diagnostic, LintResult
from validator.plan import Operation, PlanKind
from validator.readers import NameLookup, expand_paths, iter_operations
from validator.rules import RULES
from validator.rules.base import Context, OpCheck, Question, Rule, parse_timestamp

_OP_RULES: tuple[Rule, ...] = tuple(r for r in RULES.values() if r.prepare is not None)

_Plan = tuple[
    str | None, bool, tuple[tuple[Rule, tuple[str, ...], OpCheck | None, int | None], ...]
]
"""For one question: its canonical message name, whether it creates a record (so a label on it
names a record even without an id), and each enabled rule's step for it, in code order (rules
with nothing to say about the question are left out): its findings, its check and the index of
the Operation field the check needs (None: every operation is checked)."""
_FIELD = {name: i for i, name in enumerate(Operation._fields)}


def _reader_failure(path: str, exc: Exception) -> PlanError:
    detail = str(exc).splitlines()[0] if str(exc) else ""
    return PlanError(
        f"internal error while reading this file ({type(exc).__name__}"
        + (f": {detail[:200]}" if detail else "")
        + "); the other files were still linted; please report this",
        path=path,
    )


class _Names:
    """NameLookup over the engine's resolver, for $batch readers (its plain lookups, bound)."""

    def __init__(self, engine: Engine) -> None:
        names = engine.names
        self.table: t.Callable[[str], str | None] = names.lookup_table
        self.message: t.Callable[[str], str | None] = names.lookup_message


def name_lookup(engine: Engine) -> NameLookup:
    return _Names(engine)


def stale_message(engine: Engine, max_age: dt.timedelta | None, now: dt.datetime) -> str | None:
    """MA007's message when the data is older than ``max_age`` (None: fresh or no age)."""
    stamp = engine.source.harvested_at
    if max_age is None or not stamp:
        return None
    when = parse_timestamp(stamp)
    if when is None:
        return f"metadata harvest time {stamp!r} cannot be read, so its age is unknown"
    age = now - when
    if age <= max_age:
        return None
    return (
        f"metadata harvested {_days(age)} ago ({stamp}) is older than the maximum age of "
        f"{_days(max_age)}; refresh it with `msgavail harvest`"
    )


def _days(delta: dt.timedelta) -> str:
    if delta >= dt.timedelta(days=1):
        n = delta.days
        return f"{n} day{'s' if n != 1 else ''}"
    hours = int(delta.total_seconds() // 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}"


class Linter:
    """Lints many files against one engine; reuse it to keep the engine's answers cached."""

    def __init__(
        self,
        engine: Engine,
        config: LintConfig | None = None,
        *,
        now: dt.datetime | None = None,
    ) -> None:
        self.engine = engine
        self.config = config or LintConfig()
        self.context = Context(engine, self.config.mode, self.config.profile)
        self.names = name_lookup(engine)
        self.now = now or dt.datetime.now(dt.timezone.utc)
        self._stale = stale_message(engine, self.config.max_metadata_age, self.now)
        """MA007's message until it is reported: once per run, at the first operation linted."""
        cfg = self.config
        self._enabled = {code: cfg.enabled(code) for code in RULES}
        self._plans: dict[tuple[str, ...], dict[tuple[str | None, ...], _Plan]] = {}
        """Per set of enabled rules: the plan of each question met so far (kept across files;
        a plan holds no file's state)."""

    def lint_operations(self, path: str, operations: t.Iterable[Operation]) -> list[Diagnostic]:
        """Diagnostics for one file's operations, in order (raises what the reader raises)."""
        return self._lint(path, operations, None)[0]

    def _lint(
        self, path: str, operations: t.Iterable[Operation], reader: str | None
    ) -> tuple[list[Diagnostic], int]:
        """(diagnostics, operation count) for one file's operations.

        Each distinct question (message, table, secondary table) is planned once: every rule
        decides what the question alone decides and which check, if any, is left for each
        operation asking it. Findings come out per operation in rule code order. ``reader``
        (the file's path): an exception other than PlanError raised while reading is a reader's
        bug, reported as this file's failure so the other files are still linted.
        """
        ctx = self.context
        ctx.start_file()
        file_ignored = self.config.ignored_for(path) if self.config.per_file_ignores else None
        enabled = self._enabled
        if file_ignored:
            enabled = {c: on and not any(c.startswith(i) for i in file_ignored)
                       for c, on in enabled.items()}  # fmt: skip
        rules = tuple(r for r in _OP_RULES if enabled[r.id])
        codes = tuple(r.id for r in rules)
        plans = self._plans.get(codes)
        if plans is None:
            plans = self._plans[codes] = {}
        all_labels = ctx.all_labels
        define = ctx.define
        diag = Diagnostic
        out: list[Diagnostic] = []
        stale = self._stale if enabled["MA007"] else None
        count = 0
        ops = iter(operations)
        while True:
            # next() by hand, not a for loop: only the reader's own exceptions are its failure
            try:
                op = next(ops)
            except StopIteration:
                break
            except PlanError:
                raise
            except Exception as exc:
                if reader is None:
                    raise
                raise _reader_failure(reader, exc) from exc
            count += 1
            label = op.label
            if label is not None:
                all_labels.setdefault(label, op.scope)
            key = (op.message, op.table, op.secondary_table)
            plan = plans.get(key)
            if plan is None:
                plan = plans[key] = self._plan(Question(*key), op, rules)
            found: list[Diagnostic] | None = None
            if stale is not None:
                found = [self._diag(op, RULES["MA007"], stale)]
                stale = self._stale = None
            for rule, messages, check, when in plan[2]:
                if messages:
                    if found is None:
                        found = []
                    for message in messages:
                        found.append(diag(op.path, op.line, op.column, op.index, rule.id,
                                          rule.severity, message))  # fmt: skip
                if check is not None and (when is None or op[when]):
                    more = check(op, ctx)
                    if more:
                        if found is None:
                            found = []
                        for message in more:
                            found.append(diag(op.path, op.line, op.column, op.index, rule.id,
                                              rule.severity, message))  # fmt: skip
            if label is not None:
                define(op, plan[1])
            if op.suppressions is not None:
                found = self._suppress(op, found or [], enabled)
            if found:
                out.extend(found)
        return out, count

    def _plan(self, question: Question, op: Operation, rules: tuple[Rule, ...]) -> _Plan:
        """Each rule's step for ``question`` (``op`` is the first operation asking it)."""
        ctx = self.context
        res = ctx.resolve(op)
        steps = []
        for rule in rules:
            assert rule.prepare is not None
            step = rule.prepare(question, res, ctx)
            if step is not None and (step.findings or step.check is not None):
                when = _FIELD[step.when] if step.when is not None else None
                steps.append((rule, step.findings, step.check, when))
        message = res.message if res is not None else None
        return message, (message or "").lower() == "create", tuple(steps)

    def _diag(self, op: Operation, rule: Rule, message: str) -> Diagnostic:
        return Diagnostic(op.path, op.line, op.column, op.index, rule.id, rule.severity, message)

    def _suppress(
        self, op: Operation, found: list[Diagnostic], enabled: t.Mapping[str, bool]
    ) -> list[Diagnostic]:
        codes = op.suppressions or ()
        if not codes:  # a bare "ignore": everything on this operation
            kept = []
            used = bool(found)
            unused: list[str] = [] if used else ["(all codes)"]
        else:
            kept = [d for d in found if d.code not in codes]
            present = {d.code for d in found}
            unused = [c for c in codes if c not in present]
        if unused and enabled["MA009"]:
            rule = RULES["MA009"]
            line = op.suppression_line or op.line
            col = op.suppression_column or op.column
            kept.append(
                Diagnostic(
                    op.path,
                    line,
                    col,
                    op.index,
                    rule.id,
                    rule.severity,
                    f"unused suppression: {', '.join(map(_shown, unused))}",
                )
            )
        return kept

    def lint_file(self, path: str) -> tuple[list[Diagnostic], int]:
        """(diagnostics, operation count) for one file; raises PlanError if unreadable."""
        try:
            _, ops = iter_operations(path, names=self.names)
        except PlanError:
            raise
        except Exception as exc:  # a reader's bug: this file fails, the others go on
            raise _reader_failure(path, exc) from exc
        return self._lint_counted(path, ops)

    def lint_data(self, data: bytes, path: str) -> tuple[list[Diagnostic], int]:
        """(diagnostics, operation count) for a plan given as bytes (standard input).

        ``path`` names it in findings and per-file ignores; its extension chooses the reader,
        and without a known one the content does (``<``: ExecuteMultiple, ``--``: $batch,
        ``{``: JSON, else YAML).
        """
        from validator.readers import decode, kind_of

        kind = kind_of(path) or _sniff(data)
        if kind == "soap":
            from validator.readers.soap import iter_soap

            return self._lint_counted(path, iter_soap(data, path))
        text = decode(data, path)
        if kind == "batch":
            from validator.readers.batch import iter_batch

            return self._lint_counted(path, iter_batch(text, path, names=self.names))
        from validator.readers import native

        json_like = path.lower().endswith(".json") or (
            not path.lower().endswith((".yaml", ".yml")) and text.lstrip().startswith("{")
        )
        ops = native.iter_json(text, path) if json_like else native.iter_yaml(text, path)
        return self._lint_counted(path, ops)

    def _lint_counted(self, path: str, ops: t.Iterable[Operation]) -> tuple[list[Diagnostic], int]:
        return self._lint(path, ops, path)

    def lint(
        self, paths: t.Iterable[str | os.PathLike[str]], *, skip_non_plans: bool = False
    ) -> LintResult:
        """Lint files and directories (see ``expand_paths`` for which files are read)."""
        files = expand_paths((os.fspath(p) for p in paths), skip_non_plans=skip_non_plans)
        diagnostics: list[Diagnostic] = []
        failures: list[PlanError] = []
        operations = 0
        for path in files:
            try:
                diags, count = self.lint_file(path)
            except PlanError as exc:
                failures.append(exc)
                continue
            diagnostics.extend(diags)
            operations += count
        return LintResult(
            tuple(diagnostics),
            len(files),
            operations,
            tuple(failures),
            self.engine.source.describe(),
        )

    def lint_input(self, data: bytes, path: str) -> LintResult:
        """Lint one plan given as bytes (``lint -``), named ``path``; unreadable: a failure."""
        try:
            diags, count = self.lint_data(data, path)
        except PlanError as exc:
            return LintResult((), 1, 0, (exc,), self.engine.source.describe())
        return LintResult(tuple(diags), 1, count, (), self.engine.source.describe())


def _shown(code: str) -> str:
    # An entry that is no code (MA006 reports it) is quoted when it would break the line.
    return code if code.isprintable() else repr(code)


def _sniff(data: bytes) -> PlanKind:
    head = data.lstrip()[:2]
    if head.startswith(b"<"):
        return "soap"
    if head == b"--":
        return "batch"
    return "plan"


def lint(
    paths: t.Iterable[str | os.PathLike[str]] | None = None,
    *,
    engine: Engine | None = None,
    config: LintConfig | None = None,
    operations: t.Iterable[Operation] | None = None,
    path: str = "<operations>",
    now: dt.datetime | None = None,
) -> LintResult:
    """Lint plan files (or already-read ``operations``) and return the findings as data.

    ``engine`` defaults to the published default; ``config`` to the defaults (offline, every
    rule). Unreadable files are returned in ``failures``, not raised; a path that does not
    exist raises PlanError. With ``operations``, ``path`` names them for per-file ignores.
    """
    if engine is None:
        from validator.api import default_engine

        engine = default_engine()
    linter = Linter(engine, config, now=now)
    if operations is not None:
        ops = list(operations)
        diags = linter.lint_operations(ops[0].path if ops else path, ops)
        return LintResult(tuple(diags), 1, len(ops), (), engine.source.describe())
    return linter.lint(paths or ())
