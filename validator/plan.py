"""The plan model: operations as every reader produces them, with where they came from.

A plan is a file of operations to run against Dataverse: the native JSON/YAML plan, an OData
``$batch`` body or a SOAP ExecuteMultiple request. Readers turn each into a ``PlanFile`` of
``Operation`` records; the linter and the executor only ever see these.

References: an operation may name itself with ``label`` and later operations refer to it by the
string ``"$label"`` in ``id``, in ``related[].id`` or as the value of a ``data`` key ending in
``@odata.bind``. In a ``$batch`` body the Content-ID plays the label's part (``$1``) and is
scoped to its changeset, as the Web API scopes it.
"""

from __future__ import annotations

import re
import typing as t

# A record id: a GUID, braces allowed, any case ("{2B6C1D9E-...}"). The one pattern for it in
# the code base (the plan schema's "id" pattern spells the same; a test keeps them equal).
GUID_PATTERN = r"\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?"
_GUID = re.compile(GUID_PATTERN)
# A reference is "$" + a label; labels are identifiers (Content-IDs may also be plain numbers).
LABEL_PATTERN = r"[A-Za-z0-9_][A-Za-z0-9_.\-]*"
_REFERENCE = re.compile(r"^\$(" + LABEL_PATTERN + r")$")
BIND_SUFFIX = "@odata.bind"
# An @odata.bind value may also name the label inside an OData path: "/accounts($acme)".
_BIND_PATH_REFERENCE = re.compile(r"^/?[A-Za-z_][A-Za-z0-9_]*\(\$(" + LABEL_PATTERN + r")\)$")

PlanKind = t.Literal["plan", "batch", "soap"]


class Related(t.NamedTuple):
    """One record on the other side of an Associate / Disassociate."""

    table: str
    id: str


class Operation(t.NamedTuple):
    """One planned operation and its position (1-based line and column) in its file."""

    index: int  # type: ignore[assignment]  # shadows tuple.index on purpose: the contract's name
    """Zero-based position of the operation in its file (the JSON output's ``operation``)."""
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
    raw: t.Any = None
    """What the reader saw: the operation's JSON/YAML value, or the $batch/SOAP part as a dict."""
    problems: tuple[str, ...] = ()
    """Ways the operation breaks the plan schema (reported as MA006)."""
    references: tuple[str, ...] = ()
    """Labels (or Content-IDs) this operation refers to, in order of appearance."""
    scope: str | None = None
    """Where its label is visible: None for a whole plan, a changeset id inside $batch."""
    suppressions: tuple[str, ...] | None = None
    """Codes suppressed inline for this operation (empty tuple: all codes); None: none."""
    suppression_line: int | None = None
    suppression_column: int | None = None


class PlanFile(t.NamedTuple):
    """A read plan: its operations in order, and what kind of file it was."""

    path: str
    kind: PlanKind
    operations: tuple[Operation, ...]


def is_guid(value: str) -> bool:
    """True when ``value`` is a record id: a GUID, in braces or not, in any case."""
    return _GUID.fullmatch(value) is not None


def reference_label(value: object) -> str | None:
    """The label a ``"$label"`` string refers to, or None when ``value`` is not a reference."""
    if isinstance(value, str) and value.startswith("$"):
        m = _REFERENCE.match(value)
        if m:
            return m.group(1)
    return None


def bind_reference(value: object) -> str | None:
    """The label an ``@odata.bind`` value refers to: ``"$acme"`` or ``"/accounts($acme)"``."""
    label = reference_label(value)
    if label is None and isinstance(value, str):
        m = _BIND_PATH_REFERENCE.match(value)
        if m:
            label = m.group(1)
    return label


def find_references(
    id: object = None,
    data: object = None,
    related: t.Iterable[Related] = (),
) -> tuple[str, ...]:
    """The labels referred to by an operation's id, ``@odata.bind`` values and related ids."""
    found: list[str] = []
    ref = reference_label(id)
    if ref:
        found.append(ref)
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str) and key.endswith(BIND_SUFFIX):
                ref = bind_reference(value)
                if ref:
                    found.append(ref)
    for rel in related:
        ref = reference_label(rel.id)
        if ref:
            found.append(ref)
    return tuple(found)


__all__ = [
    "BIND_SUFFIX",
    "GUID_PATTERN",
    "LABEL_PATTERN",
    "Operation",
    "PlanFile",
    "PlanKind",
    "Related",
    "bind_reference",
    "find_references",
    "is_guid",
    "reference_label",
]
