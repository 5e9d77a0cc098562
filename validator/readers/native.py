"""The native plan in JSON or YAML, every operation with its line and column.

JSON: the stdlib decoder does the parsing (C speed). The top level of the document is walked
here only far enough to find where each element of ``"operations"`` starts; each element is then
decoded by ``JSONDecoder.raw_decode`` from that offset, so positions cost one pass over the
top-level structure, and operations are produced one at a time (a large plan is never held twice).

YAML: PyYAML's composer keeps a start mark on every node (libyaml's C loader when installed).
Inline suppressions are comments, ``# msgavail: ignore[MA005]``: a comment on a line of its own
applies to the next operation, a comment after content applies to the operation on that line.
"""

from __future__ import annotations

import bisect
import json
import re
import typing as t
from json.decoder import scanstring  # type: ignore[attr-defined]

from metadata.errors import PlanError
from validator.plan import Operation
from validator.readers.structure import build_operation, document_problem

_WS = re.compile(r"[ \t\n\r]*")
_SUPPRESS = re.compile(r"#\s*msgavail:\s*ignore(?:\[([^\]]*)\])?", re.IGNORECASE)


def _skip(text: str, i: int) -> int:
    m = _WS.match(text, i)
    return m.end() if m else i


class _Lines:
    """Offset -> (line, column) for offsets that only move forward."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.line_start = 0

    def at(self, pos: int) -> tuple[int, int]:
        if pos < self.pos:  # only on errors: start over
            self.pos, self.line, self.line_start = 0, 1, 0
        text = self.text
        n = text.count("\n", self.pos, pos)
        if n:
            self.line += n
            self.line_start = text.rfind("\n", self.pos, pos) + 1
        self.pos = pos
        return self.line, pos - self.line_start + 1


def _json_error(path: str, lines: _Lines, pos: int, what: str) -> PlanError:
    line, col = lines.at(min(pos, len(lines.text)))
    return PlanError(f"invalid JSON: {what}", path=path, line=line, column=col)


def iter_json(text: str, path: str) -> t.Iterator[Operation]:
    """Operations of a JSON plan in order; raises PlanError (with position) on bad input."""
    if text.startswith("\ufeff"):
        text = text[1:]
    decoder = json.JSONDecoder()
    lines = _Lines(text)
    end = len(text)
    i = _skip(text, 0)
    if i >= end:
        raise _json_error(path, lines, 0, "the file is empty (expected a plan object)")
    if text[i] != "{":
        try:
            doc, _ = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            raise _json_error(path, lines, exc.pos, exc.msg) from None
        except RecursionError:
            raise _json_error(path, lines, i, "nested too deeply") from None
        raise PlanError(document_problem(doc) or "not a plan", path=path, line=1, column=1)
    top: dict[str, t.Any] = {}
    ops_seen = False
    ops_pos = 0
    index = 0
    i = _skip(text, i + 1)
    if i < end and text[i] == "}":
        i += 1
    else:
        while True:
            if i >= end or text[i] != '"':
                raise _json_error(path, lines, i, "expected a property name in double quotes")
            try:
                key, i = scanstring(text, i + 1)
            except json.JSONDecodeError as exc:
                raise _json_error(path, lines, exc.pos, exc.msg) from None
            i = _skip(text, i)
            if i >= end or text[i] != ":":
                raise _json_error(path, lines, i, "expected ':' after a property name")
            i = _skip(text, i + 1)
            if key == "operations":
                ops_pos = i
            if key == "operations" and i < end and text[i] == "[":
                if ops_seen:
                    raise _json_error(path, lines, i, 'duplicate "operations"')
                ops_seen = True
                top[key] = []
                i = _skip(text, i + 1)
                if i < end and text[i] == "]":
                    i += 1
                else:
                    while True:
                        start = i
                        try:
                            value, i = decoder.raw_decode(text, i)
                        except json.JSONDecodeError as exc:
                            raise _json_error(path, lines, exc.pos, exc.msg) from None
                        except RecursionError:
                            raise _json_error(path, lines, start, "nested too deeply") from None
                        line, col = lines.at(start)
                        yield build_operation(index, value, path=path, line=line, column=col)
                        index += 1
                        i = _skip(text, i)
                        if i < end and text[i] == ",":
                            i = _skip(text, i + 1)
                            continue
                        if i < end and text[i] == "]":
                            i += 1
                            break
                        raise _json_error(path, lines, i, "expected ',' or ']' between operations")
            else:
                try:
                    top[key], i = decoder.raw_decode(text, i)
                except json.JSONDecodeError as exc:
                    raise _json_error(path, lines, exc.pos, exc.msg) from None
                except RecursionError:
                    raise _json_error(path, lines, i, "nested too deeply") from None
            i = _skip(text, i)
            if i < end and text[i] == ",":
                i = _skip(text, i + 1)
                continue
            if i < end and text[i] == "}":
                i += 1
                break
            raise _json_error(path, lines, i, "expected ',' or '}' after a property value")
    i = _skip(text, i)
    if i < end:
        raise _json_error(path, lines, i, "extra data after the plan object")
    problem = document_problem(top)
    if problem:
        line, col = lines.at(ops_pos) if problem.startswith('"operations"') else (1, 1)
        raise PlanError(problem, path=path, line=line, column=col)


def _yaml_loader() -> t.Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _suppression_comments(text: str) -> list[tuple[int, int, bool, tuple[str, ...]]]:
    """(line, column, own line?, codes) for every ``# msgavail: ignore[...]`` comment."""
    found: list[tuple[int, int, bool, tuple[str, ...]]] = []
    if "msgavail" not in text:
        return found
    for lineno, line in enumerate(text.splitlines(), start=1):
        m = _SUPPRESS.search(line)
        if m is None:
            continue
        codes = tuple(c.strip().upper() for c in (m.group(1) or "").split(",") if c.strip())
        own_line = not line[: m.start()].strip()
        found.append((lineno, m.start() + 1, own_line, codes))
    return found


def iter_yaml(text: str, path: str) -> t.Iterator[Operation]:
    """Operations of a YAML plan in order; raises PlanError (with position) on bad input."""
    import yaml

    loader = _yaml_loader()(text)
    try:
        try:
            root = loader.get_single_node()
            doc = loader.construct_document(root) if root is not None else None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            what = exc.problem or exc.context or "not valid YAML"
            raise PlanError(
                f"invalid YAML: {what}",
                path=path,
                line=mark.line + 1 if mark else None,
                column=mark.column + 1 if mark else None,
            ) from None
        except yaml.YAMLError as exc:
            raise PlanError(f"invalid YAML: {str(exc).splitlines()[0]}", path=path) from None
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. a malformed !!timestamp
            raise PlanError(f"invalid YAML value: {exc}", path=path) from None
        except RecursionError:
            raise PlanError("invalid YAML: nested too deeply", path=path) from None
    finally:
        loader.dispose()
    problem = document_problem(doc)
    if problem:
        where = root
        if problem.startswith('"operations"') and root is not None:
            where = next(v for k, v in root.value if k.value == "operations")
        line = where.start_mark.line + 1 if where is not None else 1
        col = where.start_mark.column + 1 if where is not None else 1
        raise PlanError(problem, path=path, line=line, column=col)
    assert isinstance(doc, dict)
    op_nodes: list[t.Any] = []
    for key_node, value_node in root.value:
        if key_node.value == "operations":
            op_nodes = value_node.value
    starts = [n.start_mark.line + 1 for n in op_nodes]
    ends = [n.end_mark.line + 1 for n in op_nodes]
    by_op: dict[int, tuple[int, int, tuple[str, ...]]] = {}
    for line, col, own_line, codes in _suppression_comments(text):
        if own_line:  # the next operation starting after this line
            k = bisect.bisect_right(starts, line)
        else:  # the operation whose lines hold this one
            k = bisect.bisect_right(starts, line) - 1
            if k >= 0 and line > ends[k]:
                k = -1
        if 0 <= k < len(starts):
            old = by_op.get(k)
            merged = codes if old is None else (() if not old[2] or not codes else old[2] + codes)
            by_op[k] = (line, col, merged)
    for index, (node, value) in enumerate(zip(op_nodes, doc["operations"], strict=True)):
        sup = by_op.get(index)
        yield build_operation(
            index,
            value,
            path=path,
            line=node.start_mark.line + 1,
            column=node.start_mark.column + 1,
            suppressions=sup[2] if sup else None,
            suppression_line=sup[0] if sup else None,
            suppression_column=sup[1] if sup else None,
        )
