"""SOAP ExecuteMultiple request XML (the Organization Service's batch), read with lxml.

The parser is hardened (metadata/xmlsafe.py): no entity resolution, no DTD loading, no network,
no huge trees; and a document with a DOCTYPE is refused, in whatever encoding it comes, so
neither an entity-expansion bomb nor an external entity is ever used. Each
``OrganizationRequest`` under ``Requests`` is one operation: the message from ``RequestName``
(or the ``i:type`` ``XRequest``), the table from the ``Target`` (Entity or EntityReference
``LogicalName``), ``EntityMoniker`` or a query's ``EntityName``. lxml gives lines, not columns;
the column is that of the element's tag on its line.
"""

from __future__ import annotations

import re
import typing as t

from metadata import xmlsafe
from metadata.errors import PlanError
from validator.plan import Operation, Related, is_guid

_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_LIBXML_POSITION = re.compile(r"(?:,?\s*line \d+)?,?\s*line \d+(?:, column \d+)?\s*$")
_EMPTY_GUID = "00000000-0000-0000-0000-000000000000"
_TABLE_PARAMETERS = ("Target", "EntityMoniker", "Query", "EntityName", "Entity")


def _local(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _child(el: t.Any, name: str) -> t.Any | None:
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _text(el: t.Any | None) -> str | None:
    if el is None or el.text is None:
        return None
    text: str = el.text.strip()
    return text or None


def _parse(raw: bytes, path: str) -> t.Any:
    from lxml import etree  # type: ignore[import-untyped, unused-ignore]

    try:
        return xmlsafe.parse(raw)
    except xmlsafe.DoctypeError as exc:
        raise PlanError(
            "DOCTYPE and entity declarations are not allowed in an ExecuteMultiple request "
            "(refused to protect against entity expansion and external entities)",
            path=path, line=exc.line, column=exc.column,
        ) from None  # fmt: skip
    except etree.XMLSyntaxError as exc:
        line, col = exc.position if exc.position else (1, 1)
        text = str(exc.msg or exc).strip()
        msg = _LIBXML_POSITION.sub("", text.splitlines()[0] if text else "not well-formed")
        raise PlanError(f"invalid XML: {msg}", path=path, line=line, column=col) from None


def _parameters(request: t.Any) -> dict[str, t.Any]:
    """Parameter name -> its ``value`` element."""
    params: dict[str, t.Any] = {}
    box = _child(request, "Parameters")
    if box is None:
        return params
    for pair in box:
        key = _text(_child(pair, "key"))
        value = _child(pair, "value")
        if key is not None and value is not None:
            params[key] = value
    return params


def _table_and_id(value: t.Any) -> tuple[str | None, str | None]:
    """(LogicalName, Id) of an Entity / EntityReference, or EntityName of a query."""
    logical = _text(_child(value, "LogicalName")) or _text(_child(value, "EntityName"))
    if logical is None and len(value) == 0:
        logical = _text(value)  # a plain string parameter such as EntityName
    ident = _text(_child(value, "Id"))
    if ident == _EMPTY_GUID:
        ident = None
    return logical, ident


def _line_columns(text: str) -> t.Callable[[int], int]:
    """Column of the next ``OrganizationRequest`` tag on a line (several may share one line)."""
    lines = text.split("\n")
    used: dict[int, int] = {}
    tag = re.compile(r"<(?:[\w.-]+:)?(?:OrganizationRequest|Request)\b")

    def column(line: int) -> int:
        if not 1 <= line <= len(lines):
            return 1
        text = lines[line - 1]
        start = used.get(line, 0)
        m = tag.search(text, start)
        if m is None:
            return 1
        used[line] = m.end()
        return m.start() + 1

    return column


def _requests(root: t.Any) -> list[t.Any]:
    """The OrganizationRequest elements of ExecuteMultiple's Requests parameter, in order."""
    found: list[t.Any] = []
    for el in root.iter():
        name = _local(el.tag)
        if name == "key" and _text(el) == "Requests":  # Parameters: key/value pairs
            value = el.getnext()
            if value is not None and _local(value.tag) == "value":
                found.extend(c for c in value if isinstance(c.tag, str))
        elif name == "Requests":  # ExecuteMultipleRequest serialized with named members
            found.extend(c for c in el if isinstance(c.tag, str))
    return found


def iter_soap(raw: bytes, path: str) -> t.Iterator[Operation]:
    """Operations of an ExecuteMultiple request in order; raises PlanError on bad input."""
    root = _parse(raw, path)
    if _local(root.tag) != "Envelope" and not any(
        _local(e.tag) in ("ExecuteMultipleRequest", "Execute") for e in root.iter()
    ):
        raise PlanError("not a SOAP ExecuteMultiple request (no Envelope/Execute element)",
                        path=path, line=root.sourceline, column=1)  # fmt: skip
    requests = _requests(root)
    if not requests:
        raise PlanError("no Requests parameter holding OrganizationRequest elements "
                        "(expected an ExecuteMultipleRequest)", path=path,
                        line=root.sourceline, column=1)  # fmt: skip
    # Columns are counted in characters of the decoded text, whatever the encoding.
    column = _line_columns(xmlsafe.decode(raw, root.getroottree().docinfo.encoding))
    for index, req in enumerate(requests):
        yield _operation(index, req, path, column)


def _operation(index: int, req: t.Any, path: str, column: t.Callable[[int], int]) -> Operation:
    line = req.sourceline or 1
    problems: list[str] = []
    message = _text(_child(req, "RequestName"))
    if message is None:
        xsi = req.get(_XSI_TYPE) or ""
        local = xsi.rsplit(":", 1)[-1]
        if local.endswith("Request") and local != "OrganizationRequest":
            message = local[: -len("Request")]
    if message is None:
        problems.append("an OrganizationRequest without RequestName (or a typed XRequest)")
    params = _parameters(req)
    table: str | None = None
    ident: str | None = None
    for name in _TABLE_PARAMETERS:
        if name in params:
            table, ident = _table_and_id(params[name])
            if table:
                break
    relationship = None
    if "Relationship" in params:
        relationship = _text(_child(params["Relationship"], "SchemaName"))
    related: list[Related] = []
    if "RelatedEntities" in params:
        for ref in params["RelatedEntities"]:
            logical, rid = _table_and_id(ref)
            if logical and rid:
                related.append(Related(logical, rid))
    if ident is not None and not is_guid(ident):
        problems.append(f"Id {ident!r} is not a GUID")
    return Operation(
        index=index,
        message=message,
        table=table,
        id=ident,
        relationship=relationship,
        related=tuple(related),
        line=line,
        column=column(line),
        path=path,
        raw={"request": message, "parameters": sorted(params)},
        problems=tuple(problems),
    )
