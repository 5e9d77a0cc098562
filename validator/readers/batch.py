"""OData ``$batch`` request bodies (multipart/mixed, changesets, Content-ID, CRLF or LF).

The file may hold the body alone (starting at the first ``--boundary`` line) or the whole
request (request line and headers first; the boundary then comes from its Content-Type).
Each ``application/http`` part is one operation, positioned at its request line. Mapping:

===========================================  ===================================================
request                                      operation
===========================================  ===================================================
``POST set``                                 Create
``PATCH set(key)``                           Update with ``If-Match``; Create with
                                             ``If-None-Match: *``; otherwise the Web API upserts:
                                             Upsert for an alternate key (``set(name='x')``),
                                             and for a GUID key when the data has an Upsert
                                             message (a harvest; the published 9.0 table has
                                             none, so Update there)
``PUT set(key)/column``                      Update
``DELETE set(key)``                          Delete (``DELETE set(key)/column``: Update)
``POST set(key)/nav/$ref``, ``PUT .../$ref`` Associate
``DELETE set(key)/nav[(key)]/$ref``          Disassociate
``POST set[(key)]/Microsoft.Dynamics.CRM.X`` message X bound to the set's table
``POST /X``, ``GET /X(...)``                 unbound message X
``GET set(key)``, ``GET set``                Retrieve, RetrieveMultiple
===========================================  ===================================================

``$n`` at the start of a URL stands for the record created by the part with Content-ID n,
which must come earlier in the same changeset (MA008 otherwise); ``"$n"`` in an
``@odata.bind`` or ``@odata.id`` body value is a reference too.
"""

from __future__ import annotations

import json
import re
import typing as t
import urllib.parse

from metadata.errors import PlanError
from validator.plan import BIND_SUFFIX, Operation, Related, reference_label

if t.TYPE_CHECKING:
    from validator.readers import NameLookup

_BOUNDARY = re.compile(r'boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))', re.IGNORECASE)
_REQUEST_LINE = re.compile(r"^([A-Z]+)\s+(\S.*?)(?:\s+HTTP/\d(?:\.\d)?)?\s*$")
_SEGMENT = re.compile(r"^([A-Za-z_$][\w.$]*)(?:\((.*)\))?$", re.DOTALL)
_GUID = re.compile(
    r"^\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?$"
)
_API_PREFIX = re.compile(r"^(?:[a-z][a-z0-9+.-]*://[^/]+)?/?(?:api/data/v\d+(?:\.\d+)*/)?", re.I)
_ACTION_PREFIX = "Microsoft.Dynamics.CRM."


class _Line(t.NamedTuple):
    number: int
    text: str


class _Part(t.NamedTuple):
    headers: dict[str, str]
    header_line: int
    body: list[_Line]


def _lines(text: str) -> list[_Line]:
    return [
        _Line(i, line[:-1] if line.endswith("\r") else line)
        for i, line in enumerate(text.split("\n"), start=1)
    ]


def _headers(lines: list[_Line], start: int, path: str) -> tuple[dict[str, str], int]:
    """Header block from ``start`` to the blank line; returns (headers, index after blank)."""
    headers: dict[str, str] = {}
    i = start
    while i < len(lines) and lines[i].text.strip():
        line = lines[i]
        if ":" not in line.text:
            raise PlanError(
                f"expected a header line 'Name: value', got {line.text[:60]!r}",
                path=path, line=line.number, column=1,
            )  # fmt: skip
        name, _, value = line.text.partition(":")
        headers[name.strip().lower()] = value.strip()
        i += 1
    return headers, i + 1


def _boundary_of(content_type: str) -> str | None:
    m = _BOUNDARY.search(content_type)
    return (m.group(1) or m.group(2)) if m else None


def _split(lines: list[_Line], boundary: str, path: str, where: _Line) -> list[_Part]:
    """The parts between ``--boundary`` delimiters; requires the closing ``--boundary--``."""
    delim = "--" + boundary
    close = delim + "--"
    parts: list[_Part] = []
    current: list[_Line] | None = None
    closed = False
    for line in lines:
        stripped = line.text.rstrip()
        if stripped == close:
            if current is not None:
                parts.append(_part(current, path))
            closed = True
            break
        if stripped == delim:
            if current is not None:
                parts.append(_part(current, path))
            current = []
            continue
        if current is not None:
            current.append(line)
    if not closed:
        last = lines[-1] if lines else where
        raise PlanError(
            f"truncated multipart body: no closing '{close}' delimiter",
            path=path, line=last.number, column=1,
        )  # fmt: skip
    if current is None and not parts:
        raise PlanError(f"no '{delim}' part in the multipart body", path=path,
                        line=where.number, column=1)  # fmt: skip
    return parts


def _part(lines: list[_Line], path: str) -> _Part:
    if not lines:
        raise PlanError("empty multipart part", path=path)
    headers, after = _headers(lines, 0, path)
    return _Part(headers, lines[0].number, lines[after:])


class _Request(t.NamedTuple):
    method: str
    url: str
    headers: dict[str, str]
    body: t.Any
    line: int
    column: int
    content_id: str | None
    scope: str


def _request(part: _Part, scope: str, path: str) -> _Request:
    lines = part.body
    i = 0
    while i < len(lines) and not lines[i].text.strip():
        i += 1
    if i >= len(lines):
        raise PlanError("an application/http part has no request line", path=path,
                        line=part.header_line, column=1)  # fmt: skip
    first = lines[i]
    m = _REQUEST_LINE.match(first.text.strip())
    if m is None:
        raise PlanError(
            f"expected a request line 'METHOD URL HTTP/1.1', got {first.text.strip()[:60]!r}",
            path=path, line=first.number, column=1,
        )  # fmt: skip
    headers, after = _headers(lines, i + 1, path)
    body_text = "\n".join(ln.text for ln in lines[after:]).strip()
    body: t.Any = None
    if body_text:
        try:
            body = json.loads(body_text)
        except (json.JSONDecodeError, RecursionError) as exc:
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            at = lines[after].number if after < len(lines) else first.number
            if isinstance(exc, json.JSONDecodeError):
                at += exc.lineno - 1
            raise PlanError(f"invalid JSON request body: {msg}", path=path, line=at,
                            column=1) from None  # fmt: skip
    cid = part.headers.get("content-id") or headers.get("content-id")
    column = len(first.text) - len(first.text.lstrip()) + 1
    return _Request(m.group(1), m.group(2), headers, body, first.number, column, cid, scope)


def _requests(text: str, path: str) -> list[_Request]:
    lines = _lines(text)
    i = 0
    while i < len(lines) and not lines[i].text.strip():
        i += 1
    if i >= len(lines):
        raise PlanError("the file is empty (expected a multipart/mixed $batch body)", path=path,
                        line=1, column=1)  # fmt: skip
    first = lines[i]
    if first.text.startswith("--"):
        boundary = first.text.strip()[2:]
        body = lines[i:]
    else:
        start = i + 1 if _REQUEST_LINE.match(first.text.strip()) else i
        headers, after = _headers(lines, start, path)
        boundary = _boundary_of(headers.get("content-type", "")) or ""
        if not boundary:
            raise PlanError(
                "expected a $batch body starting with '--boundary', or request headers with "
                "Content-Type: multipart/mixed; boundary=...",
                path=path, line=first.number, column=1,
            )  # fmt: skip
        body = lines[after:]
    out: list[_Request] = []
    for part in _split(body, boundary, path, first):
        ctype = part.headers.get("content-type", "")
        if ctype.lower().startswith("multipart/mixed"):
            inner = _boundary_of(ctype)
            if not inner:
                raise PlanError("a changeset's Content-Type has no boundary", path=path,
                                line=part.header_line, column=1)  # fmt: skip
            for sub in _split(part.body, inner, path, _Line(part.header_line, "")):
                sub_type = sub.headers.get("content-type", "").lower()
                if sub_type.startswith("multipart/"):
                    raise PlanError("changesets cannot be nested", path=path,
                                    line=sub.header_line, column=1)  # fmt: skip
                out.append(_request(sub, inner, path))
        else:
            out.append(_request(part, "", path))
    return out


def _segments(path: str) -> list[str]:
    """URL path split on '/' outside parentheses and quotes."""
    segs: list[str] = []
    depth = 0
    quoted = False
    cur: list[str] = []
    for ch in path:
        if ch == "'" and depth:
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth = max(depth - 1, 0)
        if ch == "/" and not depth and not quoted:
            segs.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    segs.append("".join(cur))
    return [s for s in segs if s]


class _Target(t.NamedTuple):
    table: str | None
    key: str | None


def _body_refs(body: t.Any) -> list[str]:
    found: list[str] = []
    if isinstance(body, dict):
        for k, v in body.items():
            if isinstance(k, str) and (k.endswith(BIND_SUFFIX) or k == "@odata.id"):
                ref = reference_label(v)
                if ref:
                    found.append(ref)
    return found


def _related_from(body: t.Any) -> tuple[Related, ...]:
    if not isinstance(body, dict) or not isinstance(body.get("@odata.id"), str):
        return ()
    value = body["@odata.id"]
    segs = _segments(_API_PREFIX.sub("", value, count=1))
    if not segs:
        return ()
    m = _SEGMENT.match(segs[-1])
    if m is None or not m.group(2):
        return ()
    return (Related(m.group(1), m.group(2).strip("{}")),)


def iter_batch(text: str, path: str, *, names: NameLookup | None = None) -> t.Iterator[Operation]:
    """Operations of a $batch body in order; raises PlanError (with position) on bad input."""
    requests = _requests(text, path)
    tables_by_cid: dict[tuple[str, str], str | None] = {}
    for index, req in enumerate(requests):
        op = _operation(index, req, path, names, tables_by_cid)
        if req.content_id:
            tables_by_cid[(req.scope, req.content_id)] = op.table
        yield op


def _operation(
    index: int,
    req: _Request,
    path: str,
    names: NameLookup | None,
    tables_by_cid: dict[tuple[str, str], str | None],
) -> Operation:
    url = urllib.parse.urlsplit(req.url) if "://" in req.url else None
    raw_path = url.path if url else req.url.split("?", 1)[0]
    rel = _API_PREFIX.sub("", raw_path, count=1)
    segs = _segments(urllib.parse.unquote(rel))
    method = req.method.upper()
    refs: list[str] = []
    problems: list[str] = []
    message: str | None = None
    table: str | None = None
    ident: str | None = None
    relationship: str | None = None
    related: tuple[Related, ...] = ()
    raw = {"method": method, "url": req.url, "headers": req.headers, "body": req.body,
           "content_id": req.content_id}  # fmt: skip

    def table_name(name: str) -> str:
        found = names.table(name) if names else None
        return found or name

    head: _Target | None = None
    rest = segs[1:]
    if not segs:
        problems.append(f"{method} {req.url}: no entity set or action in the URL")
    else:
        first = segs[0]
        label = reference_label(first)
        if label is not None:
            refs.append(label)
            head = _Target(tables_by_cid.get((req.scope, label)), first)
            ident = first
        else:
            m = _SEGMENT.match(first)
            if m is None:
                problems.append(f"{method} {req.url}: cannot read the URL segment {first!r}")
            else:
                name, key = m.group(1), m.group(2)
                is_table = names.table(name) is not None if names else key is not None
                # Without the data: actions are PascalCase (WhoAmI), entity sets lower case.
                is_message = names.message(name) is not None if names else False
                if not is_table and not is_message:  # unknown either way: guess by spelling
                    is_message = name[:1].isupper()
                if key is None and not rest and not is_table and is_message:
                    message = names.message(name) if names else name
                    message = message or name
                else:
                    head = _Target(table_name(name), key)
                    if key is not None:
                        ident = key.strip("{}") if _GUID.match(key) else key
    if head is not None:
        table = head.table
        nav = rest[0] if rest else None
        tail = rest[-1] if rest else None
        action = next((s for s in rest if s.startswith(_ACTION_PREFIX)), None)
        if action is not None:
            message = _SEGMENT.match(action[len(_ACTION_PREFIX) :]).group(1)  # type: ignore[union-attr]
            if names:
                message = names.message(message) or message
        elif tail == "$ref":
            if method in ("POST", "PUT"):
                message = "Associate"
            elif method == "DELETE":
                message = "Disassociate"
            if nav:
                relationship = _SEGMENT.match(nav).group(1) if _SEGMENT.match(nav) else nav  # type: ignore[union-attr]
            related = _related_from(req.body)
            if method == "DELETE" and not related:
                query = url.query if url else (req.url.split("?", 1)[1] if "?" in req.url else "")
                target = urllib.parse.parse_qs(query).get("$id", [None])[0]
                if target:
                    related = _related_from({"@odata.id": target})
        elif method == "GET":
            message = "Retrieve" if head.key is not None and not rest else "RetrieveMultiple"
        elif method == "POST":
            if head.key is None and not rest:
                message = "Create"
            else:
                problems.append(
                    f"POST {req.url}: creating through a navigation property is not checked; "
                    "post to the related entity set instead"
                )
        elif method == "PATCH":
            if head.key is None:
                problems.append(f"PATCH {req.url}: no record key in the URL")
            elif req.headers.get("if-none-match", "").strip() == "*":
                message = "Create"
            elif "if-match" in req.headers:
                message = "Update"
            elif ident is not None and not _GUID.match(ident) and reference_label(ident) is None:
                message = "Upsert"  # an alternate key: the documented way to upsert
            else:
                # No If-Match: the Web API upserts. Data that knows the Upsert message (a
                # harvest) checks Upsert; the published 9.0 table has none, so Update it is.
                knows_upsert = names is not None and names.message("Upsert") is not None
                message = "Upsert" if knows_upsert else "Update"
        elif method == "PUT":
            message = "Update"
        elif method == "DELETE":
            message = "Update" if rest else "Delete"
        else:
            problems.append(f"{method} {req.url}: method not mapped to a message")
    elif message is None and not problems:
        problems.append(f"{method} {req.url}: cannot tell which message this is")
    refs.extend(_body_refs(req.body))
    data = req.body if isinstance(req.body, dict) else None
    return Operation(
        index=index,
        message=message,
        table=table,
        id=ident,
        data=data if message not in ("Associate", "Disassociate") else None,
        parameters=data if head is None else None,
        label=req.content_id,
        relationship=relationship,
        related=related,
        line=req.line,
        column=req.column,
        path=path,
        raw=raw,
        problems=tuple(problems),
        references=tuple(dict.fromkeys(refs)),
        scope=req.scope,
    )
