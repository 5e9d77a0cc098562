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
from metadata.jsonpos import Positions, entries, find_duplicate_key
from metadata.jsonpos import skip as _skip
from validator.plan import Operation
from validator.readers.structure import build_operation, document_problem

_COMMA = re.compile(r"[ \t\n\r]*(,?)[ \t\n\r]*")
_SUPPRESS = re.compile(r"#\s*msgavail:\s*ignore(?:\[([^\]]*)\])?", re.IGNORECASE)


def _json_error(path: str, lines: Positions, pos: int, what: str) -> PlanError:
    line, col = lines.at(min(pos, len(lines.text)))
    return PlanError(f"invalid JSON: {what}", path=path, line=line, column=col)


def iter_json(text: str, path: str) -> t.Iterator[Operation]:
    """Operations of a JSON plan in order; raises PlanError (with position) on bad input."""
    if text.startswith("\ufeff"):
        text = text[1:]
    decoder = json.JSONDecoder()
    lines = Positions(text)
    end = len(text)
    i = _skip(text, 0)
    if i >= end:
        raise _json_error(path, lines, 0, "the file is empty (expected a plan object)")
    if text[i] != "{":
        doc, _ = _decode(decoder, text, i, path, lines)
        raise PlanError(document_problem(doc) or "not a plan", path=path, line=1, column=1)
    top: dict[str, t.Any] = {}
    keys: dict[str, int] = {}
    ops_pos = 0
    index = 0
    i = _skip(text, i + 1)
    if i < end and text[i] == "}":
        i += 1
    else:
        while True:
            if i >= end or text[i] != '"':
                raise _json_error(path, lines, i, "expected a property name in double quotes")
            at = i
            try:
                key, i = scanstring(text, i + 1)
            except json.JSONDecodeError as exc:
                raise _json_error(path, lines, exc.pos, exc.msg) from None
            if key in keys:
                raise _duplicate_error(path, lines, key, at, keys[key])
            keys[key] = at
            i = _skip(text, i)
            if i >= end or text[i] != ":":
                raise _json_error(path, lines, i, "expected ':' after a property name")
            i = _skip(text, i + 1)
            if key == "operations":
                ops_pos = i
            if key == "operations" and i < end and text[i] == "[":
                top[key] = []
                i = _skip(text, i + 1)
                if i < end and text[i] == "]":
                    i += 1
                else:
                    while True:
                        start = i
                        try:
                            value, i = decoder.raw_decode(text, i)
                        except ValueError:  # JSONDecodeError, or an integer too long
                            value, i = _decode(decoder, text, i, path, lines)
                        except RecursionError:
                            raise _json_error(path, lines, start, "nested too deeply") from None
                        # A repeated key decodes to one entry: a second "table" would hide
                        # the first. Every pair has a ':', so equal counts prove there is none.
                        if text.count(":", start, i) != entries(value):
                            _refuse_duplicates(text, start, path, lines)
                        line, col = lines.at(start)
                        yield build_operation(index, value, path=path, line=line, column=col)
                        index += 1
                        sep = _COMMA.match(text, i)  # white space, a comma, white space
                        i = sep.end()  # type: ignore[union-attr]  # the pattern always matches
                        if sep.group(1):  # type: ignore[union-attr]
                            continue
                        if i < end and text[i] == "]":
                            i += 1
                            break
                        raise _json_error(path, lines, i, "expected ',' or ']' between operations")
            else:
                start = i
                top[key], i = _decode(decoder, text, i, path, lines)
                if text.count(":", start, i) != entries(top[key]):
                    _refuse_duplicates(text, start, path, lines)
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


def _decode(
    decoder: json.JSONDecoder, text: str, i: int, path: str, lines: Positions
) -> tuple[t.Any, int]:
    """The JSON value at ``i`` and the offset after it; PlanError (positioned) if invalid."""
    try:
        return decoder.raw_decode(text, i)
    except json.JSONDecodeError as exc:
        raise _json_error(path, lines, exc.pos, exc.msg) from None
    except ValueError as exc:  # e.g. "Exceeds the limit (4300 digits) for integer string"
        raise _json_error(path, lines, i, str(exc)) from None
    except RecursionError:
        raise _json_error(path, lines, i, "nested too deeply") from None


def _duplicate_error(path: str, lines: Positions, key: str, at: int, first: int) -> PlanError:
    fl, fc = lines.at(first)
    line, col = lines.at(at)
    return PlanError(
        f"duplicate key {json.dumps(key)} (first at line {fl}, column {fc}): each key may "
        "appear once in an object, and a JSON reader keeps only the last",
        path=path, line=line, column=col,
    )  # fmt: skip


def _refuse_duplicates(text: str, start: int, path: str, lines: Positions) -> None:
    dup = find_duplicate_key(text, start)
    if dup is not None:
        raise _duplicate_error(path, lines, dup.key, dup.offset, dup.first)


_LOADER: t.Any = None


class _AliasUsed(Exception):
    """Raised while constructing: a node is about to be built a second time (an alias)."""


def _yaml_loader() -> t.Any:
    """PyYAML's safe loader (libyaml's C parser when installed), refusing what hides content.

    Aliases: ``*name`` reuses an anchored node, so nine lines of nine aliases each make a
    billion operations from a few hundred bytes, and ``&a [*a]`` a list that contains itself.
    The composed tree shares the anchored node, so the reuse shows when construction meets a
    node it has already built (or is building); a plan has no need for it. Duplicate keys:
    a second ``operations:`` or ``table:`` silently replaces the first.
    """
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml
    from yaml.constructor import ConstructorError

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class PlanLoader(base):  # type: ignore[misc, valid-type]
        def construct_object(self, node: t.Any, deep: bool = False) -> t.Any:
            if node in self.constructed_objects or node in self.recursive_objects:
                raise _AliasUsed()
            return super().construct_object(node, deep)

        def construct_mapping(self, node: t.Any, deep: bool = False) -> t.Any:
            if isinstance(node, yaml.MappingNode):
                seen: dict[tuple[str, str], t.Any] = {}
                for key_node, _ in node.value:
                    if not isinstance(key_node, yaml.ScalarNode):
                        continue
                    key = (key_node.tag, key_node.value)
                    first = seen.get(key)
                    if first is not None:
                        raise ConstructorError(
                            None, None,
                            f"duplicate key {key_node.value!r} (first at line "
                            f"{first.line + 1}, column {first.column + 1}): each key may "
                            "appear once in a mapping, and a YAML reader keeps only the last",
                            key_node.start_mark,
                        )  # fmt: skip
                    seen[key] = key_node.start_mark
            return super().construct_mapping(node, deep)

    _LOADER = PlanLoader
    return _LOADER


def _alias_error(text: str, path: str) -> PlanError:
    """Where the first alias is (found again by the parser's events: only on this error)."""
    import yaml

    loader = _yaml_loader()(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                return PlanError(
                    f"YAML aliases are not allowed in a plan (*{event.anchor} reuses the node "
                    f"anchored as &{event.anchor}): write each operation out in full",
                    path=path,
                    line=mark.line + 1 if mark else None,
                    column=mark.column + 1 if mark else None,
                )
    except yaml.YAMLError:  # pragma: no cover - the text was parsed once already
        pass
    finally:
        loader.dispose()
    return PlanError("YAML aliases are not allowed in a plan", path=path)  # pragma: no cover


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
        except _AliasUsed:
            alias = True
        else:
            alias = False
    finally:
        loader.dispose()
    if alias:
        raise _alias_error(text, path)
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
