"""The plan schema as plain Python: fast enough for 100,000 operations, and kept equal to it.

``validator/schemas/plan.schema.json`` is the published contract (editors use it through
``$schema``). Running jsonschema over every operation of a large plan costs more than the whole
lint budget, so readers check each operation with ``operation_problems`` instead; the test suite
checks that the two agree (valid for one iff valid for the other) on a corpus and on generated
operations.
"""

from __future__ import annotations

import re
import typing as t

from validator.plan import (
    BIND_SUFFIX,
    GUID_PATTERN,
    LABEL_PATTERN,
    Operation,
    Related,
    find_references,
)

_NAME_FIELDS = ("message", "table", "entity", "secondary_table", "relationship")
KNOWN_FIELDS = frozenset(
    (*_NAME_FIELDS, "id", "data", "parameters", "label", "related", "x-msgavail-ignore")
)
_GUID_OR_REF = re.compile(f"^({GUID_PATTERN}|\\${LABEL_PATTERN})$")
_LABEL = re.compile(f"^{LABEL_PATTERN}$")
_CODE = re.compile(r"^MA[0-9]{3}$")
IGNORE_FIELD = "x-msgavail-ignore"
_MISSING = object()


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__  # YAML dates and the like


def _pattern_match(pattern: re.Pattern[str], value: str) -> bool:
    # JSON Schema's "$" is end of string; Python's also matches before a final newline, which
    # fullmatch does not accept.
    return pattern.fullmatch(value) is not None


def _id_problem(where: str, value: object) -> str | None:
    if not isinstance(value, str):
        return f'{where} must be a string (a GUID or "$label"), not {_type_name(value)}'
    if not _pattern_match(_GUID_OR_REF, value):
        return f'{where} must be a GUID or "$label", not {value!r}'
    return None


def operation_problems(value: object) -> list[str]:
    """Every way ``value`` breaks the plan schema's operation definition (empty when valid)."""
    if not isinstance(value, dict):
        return [f"an operation must be an object, not {_type_name(value)}"]
    problems: list[str] = []
    if not value.keys() <= KNOWN_FIELDS:  # a set comparison in C: the usual entry passes
        for key in value:
            if key not in KNOWN_FIELDS and not (isinstance(key, str) and key.startswith("x-")):
                problems.append(f"unknown field {key!r}")
    if "message" not in value:
        problems.append('missing required field "message"')
    get = value.get
    for key in _NAME_FIELDS:
        v = get(key, _MISSING)
        if v is not _MISSING:
            if type(v) is not str and not isinstance(v, str):
                problems.append(f'"{key}" must be a string, not {_type_name(v)}')
            elif not v:
                problems.append(f'"{key}" must not be empty')
    if "table" in value and "entity" in value:
        problems.append('give "table" or its synonym "entity", not both')
    if "secondary_table" in value and "table" not in value and "entity" not in value:
        problems.append('"secondary_table" needs "table"')
    if "id" in value:
        p = _id_problem('"id"', value["id"])
        if p:
            problems.append(p)
    for key in ("data", "parameters"):
        if key in value and not isinstance(value[key], dict):
            problems.append(f'"{key}" must be an object, not {_type_name(value[key])}')
    if "label" in value:
        label = value["label"]
        if not isinstance(label, str):
            problems.append(f'"label" must be a string, not {_type_name(label)}')
        elif not _pattern_match(_LABEL, label):
            problems.append(f'"label" must be letters, digits, "_", "." or "-", not {label!r}')
    if "related" in value:
        problems.extend(_related_problems(value["related"]))
    if IGNORE_FIELD in value:
        codes = value[IGNORE_FIELD]
        if not isinstance(codes, list) or not codes:
            problems.append(f'"{IGNORE_FIELD}" must be a non-empty array of codes such as "MA005"')
        else:
            for c in codes:
                if not isinstance(c, str) or not _pattern_match(_CODE, c):
                    problems.append(f'"{IGNORE_FIELD}" entries must be codes such as "MA005"')
                    break
    return problems


def _related_problems(related: object) -> list[str]:
    if not isinstance(related, list):
        return [f'"related" must be an array, not {_type_name(related)}']
    if not related:
        return ['"related" must not be empty']
    problems: list[str] = []
    for i, item in enumerate(related):
        where = f'"related"[{i}]'
        if not isinstance(item, dict):
            problems.append(f"{where} must be an object, not {_type_name(item)}")
            continue
        for key in item:
            if key not in ("table", "id"):
                problems.append(f"{where} has unknown field {key!r}")
        if "table" not in item:
            problems.append(f'{where} is missing "table"')
        elif not isinstance(item["table"], str) or not item["table"]:
            problems.append(f"{where}.table must be a non-empty string")
        if "id" not in item:
            problems.append(f'{where} is missing "id"')
        else:
            p = _id_problem(f"{where}.id", item["id"])
            if p:
                problems.append(p)
    return problems


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


# Operations are built positionally: a 20-keyword NamedTuple call costs about seven times a
# plain tuple.__new__, and a large plan builds one per entry (tests/unit/lint/
# test_native_reader.py checks the result against the keyword-built Operation).
_new = tuple.__new__


# What the fast path (``_plainly_valid``) knows how to check, by field: the usual entry has only
# these, each well-formed; anything else takes ``operation_problems``, the reference.
_NAME, _ID, _OBJECT, _LABEL_KIND = 0, 1, 2, 3
_FAST_KINDS: dict[str, int] = {
    **{k: _NAME for k in _NAME_FIELDS},
    "id": _ID,
    "data": _OBJECT,
    "parameters": _OBJECT,
    "label": _LABEL_KIND,
}


def _plainly_valid(value: dict[t.Any, t.Any]) -> bool:
    """True only for entries ``operation_problems`` finds nothing wrong with (a quick pass
    over the common shape; False means "ask operation_problems", not "invalid")."""
    kinds = _FAST_KINDS
    for key, v in value.items():
        kind = kinds.get(key)
        if kind is None:
            return False
        if kind in (_NAME, _LABEL_KIND):
            if type(v) is not str or not v:
                return False
            if kind == _LABEL_KIND and _LABEL.fullmatch(v) is None:
                return False
        elif kind == _ID:
            if type(v) is not str or _GUID_OR_REF.fullmatch(v) is None:
                return False
        elif type(v) is not dict:
            return False
    return (
        "message" in value
        and not ("table" in value and "entity" in value)
        and ("secondary_table" not in value or "table" in value or "entity" in value)
    )


def build_operation(
    index: int,
    value: object,
    *,
    path: str,
    line: int,
    column: int,
    suppressions: tuple[str, ...] | None = None,
    suppression_line: int | None = None,
    suppression_column: int | None = None,
) -> Operation:
    """An Operation from a native plan entry; what breaks the schema goes to ``problems``."""
    if type(value) is dict and _plainly_valid(value):
        # Every field present is a non-empty string or an object of the right kind.
        get = value.get
        ident = get("id")
        data = get("data")
        if (ident is not None and ident[0] == "$") or (data and _may_bind(data)):
            references = find_references(ident, data, ())
        else:
            references = ()
        return _new(Operation, (  # the order of Operation's fields
            index, get("message"), get("table") or get("entity"), get("secondary_table"),
            ident, data, get("parameters"), get("label"), get("relationship"), (), line,
            column, path, value, (), references, None, suppressions, suppression_line,
            suppression_column,
        ))  # fmt: skip
    problems = tuple(operation_problems(value))
    if not isinstance(value, dict):
        return Operation(index, None, line=line, column=column, path=path, raw=value,
                         problems=problems)  # fmt: skip
    get = value.get
    related: tuple[Related, ...] = ()
    rel = get("related")
    if isinstance(rel, list):
        related = tuple(
            Related(r["table"], r["id"])
            for r in rel
            if isinstance(r, dict) and isinstance(r.get("table"), str)
            and isinstance(r.get("id"), str)
        )  # fmt: skip
    ident = _str(get("id"))
    data = get("data")
    if not isinstance(data, dict):
        data = None
    params = get("parameters")
    if not isinstance(params, dict):
        params = None
    codes = get(IGNORE_FIELD)
    if isinstance(codes, list) and suppressions is None:
        suppressions = tuple(c for c in codes if isinstance(c, str))
        suppression_line, suppression_column = line, column
    return _new(Operation, (  # the order of Operation's fields
        index, _str(get("message")), _str(get("table")) or _str(get("entity")),
        _str(get("secondary_table")), ident, data, params, _str(get("label")),
        _str(get("relationship")), related, line, column, path, value, problems,
        find_references(ident, data, related), None, suppressions, suppression_line,
        suppression_column,
    ))  # fmt: skip


def _may_bind(data: dict[t.Any, t.Any]) -> bool:
    for key in data:  # noqa: SIM110 - a loop, not any(): this runs for most operations
        if type(key) is str and key.endswith(BIND_SUFFIX):
            return True
    return False


def document_problem(doc: object) -> str | None:
    """Why a whole document is not a plan (the reader then fails with exit status 2)."""
    if not isinstance(doc, dict):
        return f'expected an object with an "operations" array, not {_type_name(doc)}'
    if "operations" not in doc:
        return 'expected an object with an "operations" array; "operations" is missing'
    if not isinstance(doc["operations"], list):
        return f'"operations" must be an array, not {_type_name(doc["operations"])}'
    for key in doc:
        if key not in ("operations", "$schema") and not (
            isinstance(key, str) and key.startswith("x-")
        ):
            return f'unknown top-level field {key!r} (expected "operations", "$schema", x-...)'
    if "$schema" in doc and not isinstance(doc["$schema"], str):
        return '"$schema" must be a string'
    return None
