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

The body is read as a stream of lines, one part at a time: what is held at any moment is the
part being read (its headers and its JSON body), never the file, so memory follows the largest
operation, not the input's size or its blank lines (runs of blank lines are counted, not kept).
"""

from __future__ import annotations

import io
import itertools
import json
import operator
import re
import typing as t
import urllib.parse

from metadata.errors import PlanError
from validator.plan import BIND_SUFFIX, Operation, Related, is_guid, reference_label

if t.TYPE_CHECKING:
    from validator.readers import NameLookup

_BOUNDARY = re.compile(r'boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))', re.IGNORECASE)
_REQUEST_LINE = re.compile(r"^([A-Z]+)\s+(\S.*?)(?:\s+HTTP/\d(?:\.\d)?)?\s*$")
_SEGMENT = re.compile(r"^([A-Za-z_$][\w.$]*)(?:\((.*)\))?$", re.DOTALL)
_API_PREFIX = re.compile(r"^(?:[a-z][a-z0-9+.-]*://[^/]+)?/?(?:api/data/v\d+(?:\.\d+)*/)?", re.I)
_ACTION_PREFIX = "Microsoft.Dynamics.CRM."
_KNOWN_LINES = 1024  # distinct short header lines a file keeps split (see _multipart)
_LOOKUPS = 4096  # URL segment names whose lookups a file keeps (a hostile file has millions)
_USUAL_PREFIX = "/api/data/v9.2/"  # what _API_PREFIX removes from most URLs, without the regex
_DECODER = json.JSONDecoder()
# One JSON value from an offset, in C (what JSONDecoder.raw_decode calls; not in its stubs).
_SCAN: t.Callable[[str, int], tuple[t.Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
_new = tuple.__new__  # Operations are built positionally (see readers/structure.py)
# What a request line says: message, table, id, whether it names a record or an entity set,
# problems, references, relationship, related records, and whether that is all it depends on.
_Facts = tuple[
    str | None,
    str | None,
    str | None,
    bool,
    tuple[str, ...],
    tuple[str, ...],
    str | None,
    tuple[Related, ...],
    bool,
]

# What ended a part: the next delimiter of its multipart body, the closing one, or (inside a
# changeset) a delimiter of the enclosing batch.
_NEXT, _CLOSE, _OUTER_NEXT, _OUTER_CLOSE = "next", "close", "outer-next", "outer-close"


_BLOCK = 1 << 20  # bytes read at a time; lines are split from each block in C
_left = operator.length_hint  # lines of a block not yet produced (a list iterator knows)


class _Lines:
    """The file's lines without their line ends, numbered from 1, read a block at a time.

    Iterating a ``_Lines`` always continues the same stream, so each parsing step takes the
    lines it needs with a plain ``for`` loop and leaves the rest to the next step. The stream
    is a chain of each block's list of lines, so a line costs the consumer's loop in C; Python
    runs once per block.
    """

    def __init__(self, fh: t.BinaryIO, path: str) -> None:
        self.path = path
        self._newline_at_end = False
        self.last = 0
        """The number of the current block's last line (``number`` counts back from it)."""
        self.current: t.Iterator[str] = iter(())
        """The current block's lines (a list iterator: it knows how many are left)."""
        self.text = ""
        self.lines: list[str] = []
        self.mark = (0, 0)
        self._stream = itertools.chain.from_iterable(self._blocks(fh))

    def __iter__(self) -> t.Iterator[str]:
        return self._stream

    @property
    def number(self) -> int:
        """The number of the line most recently produced."""
        return self.last - _left(self.current)

    def _blocks(self, fh: t.BinaryIO) -> t.Iterator[t.Iterator[str]]:
        pending: list[bytes] = []  # a line longer than a block, until its end arrives
        while True:
            try:
                block = fh.read(_BLOCK)
            except OSError as exc:
                raise PlanError(f"cannot read: {exc.strerror}", path=self.path) from None
            if block:
                cut = block.rfind(b"\n") + 1
                if not cut:
                    pending.append(block)
                    continue
                data = b"".join((*pending, block[:cut])) if pending else block[:cut]
                pending = [block[cut:]] if cut < len(block) else []
            elif pending:
                data, pending = b"".join(pending), []
            else:
                return
            number = self.last
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = number + data.count(b"\n", 0, exc.start) + 1
                col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
                raise PlanError("not UTF-8 text", path=self.path, line=line,
                                column=col) from None  # fmt: skip
            del data
            if "\r" in text:
                text = text.replace("\r\n", "\n")
            lines = text.split("\n")
            self._newline_at_end = not lines[-1]
            if self._newline_at_end:
                lines.pop()
            self.last = number + len(lines)
            self.current = iter(lines)
            # Kept for the whole-part shortcut (see _fast_part): the block's text (line ends
            # as "\n") and its lines, and a line of it whose offset in the text is known.
            self.text, self.lines, self.mark = text, lines, (0, 0)
            del text, lines
            yield self.current

    @property
    def end(self) -> int:
        """The line number of the end of the file (after a final line end: the next line)."""
        number = self.number
        return number + 1 if self._newline_at_end or number == 0 else number

    def error(self, message: str, line: int | None = None) -> PlanError:
        return PlanError(message, path=self.path, line=line or self.number, column=1)


class _Request(t.NamedTuple):
    method: str
    url: str
    headers: dict[str, str]
    body: t.Any
    line: int
    column: int
    content_id: str | None
    scope: str


def _boundary_of(content_type: str) -> str | None:
    m = _BOUNDARY.search(content_type)
    return (m.group(1) or m.group(2)) if m else None


def _header(src: _Lines, text: str, headers: dict[str, str]) -> None:
    if ":" not in text:
        raise src.error(f"expected a header line 'Name: value', got {text[:60]!r}")
    name, _, value = text.partition(":")
    headers[name.strip().lower()] = value.strip()


def _header_field(
    src: _Lines, text: str, known: dict[str, tuple[str, str]]
) -> tuple[str, str] | None:
    """A header line not seen before as ``(name, value)``, remembered in ``known`` (a file
    repeats the same few header lines); None for the blank line that ends the headers."""
    name, colon, value = text.partition(":")
    if not colon:
        if not text or text.isspace():
            return None
        raise src.error(f"expected a header line 'Name: value', got {text[:60]!r}")
    field = (name.strip().lower(), value.strip())
    if len(known) < _KNOWN_LINES and len(text) < 200:
        known[text] = field
    return field


class _Stops:
    """The delimiter lines that end a part, and what each one means."""

    def __init__(self, boundary: str, outer: _Stops | None = None) -> None:
        self.delim = "--" + boundary
        self.close = self.delim + "--"
        self.meaning = {self.delim: _NEXT, self.close: _CLOSE}
        if outer is not None:
            self.meaning.setdefault(outer.delim, _OUTER_NEXT)
            self.meaning.setdefault(outer.close, _OUTER_CLOSE)

    def of(self, text: str) -> str | None:
        """What the line means when it is a delimiter line (trailing white space allowed)."""
        if text[:2] != "--":
            return None
        return self.meaning.get(text.rstrip())


def _skip_to_stop(src: _Lines, stops: _Stops) -> str | None:
    """Pass over lines that carry nothing (a preamble or an epilogue) to the next delimiter."""
    for text in src:
        stop = stops.of(text)
        if stop is not None:
            return stop
    return None


def _request_line(text: str) -> tuple[str, str] | None:
    """(method, URL) of a request line, or None when it is not one."""
    line = text.strip()
    # The usual line, "METHOD URL HTTP/1.1", read without the regular expression; anything
    # else (tabs, runs of spaces, no version, lower case) goes to it.
    if line.endswith(" HTTP/1.1"):
        method, _, url = line[:-9].partition(" ")
        if (
            url
            and method.isascii()
            and method.isalpha()
            and method.isupper()
            and not url[0].isspace()
            and not url[-1].isspace()
        ):
            return method, url
    m = _REQUEST_LINE.match(line)
    return (m.group(1), m.group(2)) if m is not None else None


def _body(src: _Lines, chunks: list[str], body_line: int) -> t.Any:
    """The JSON value of a request body: its lines, each followed by a line end (and blank runs
    as line ends)."""
    if len(chunks) == 2:
        # The usual body, one line: decoded in C; an error is explained by decode() below.
        line = chunks[0]
        try:
            value, end = _SCAN(line, 0)
        except (StopIteration, ValueError, RecursionError):
            pass
        else:
            if end == len(line) or not line[end:].strip(" \t\n\r"):  # JSON's white space
                return value
    text = "".join(chunks)
    try:
        return _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        at = body_line + exc.lineno - 1
        raise src.error(f"invalid JSON request body: {exc.msg}", at) from None
    except ValueError as exc:  # e.g. an integer longer than Python converts
        raise src.error(f"invalid JSON request body: {exc}", body_line) from None
    except RecursionError:
        raise src.error("invalid JSON request body: nested too deeply", body_line) from None


# The usual application/http part, from the line after its delimiter through the next
# delimiter line, in the block's text (line ends are "\n" there): header lines (each starting
# with a letter; _head_fields requires a ":" in each), a blank line, "METHOD URL HTTP/1.1",
# header lines, a blank line, at most one body line (not starting with "-"), a delimiter line.
# Anything else (blank lines that are spaces, more blank lines, bodies over several lines,
# spaces in the URL, a part that crosses the block's end, an error) is left to the line loops.
_PART = re.compile(
    r"((?:[A-Za-z][^\n]*\n)*)\n"
    r"([A-Z]+) ([!-~]+) HTTP/1\.1\n"
    r"((?:[A-Za-z][^\n]*\n)*)\n"
    r"(?:([^\n-][^\n]*|)\n)?"
    r"(--[^\n]*)"
)
_HeadCache = dict[str, dict[str, str]]
_MULTIPART = "\n"  # a key no header line has: in _head_fields' answer for a changeset's head


def _head_fields(block: str, cache: _HeadCache, part: bool = False) -> dict[str, str] | None:
    """The header lines of ``block`` (each ending in "\n") as the line loops read them, or None
    when one is not a header line (no ":"); each block is split once per file (callers copy
    what they hand on). ``part``: a part's own headers, marked when they open a changeset."""
    fields: dict[str, str] = {}
    for text in block.split("\n")[:-1]:
        name, colon, value = text.partition(":")
        if not colon:
            return None
        fields[name.strip().lower()] = value.strip()
    if part and fields.get("content-type", "").lower().startswith("multipart/"):
        fields[_MULTIPART] = ""  # a changeset's part (what _fast_part leaves to the loops)
    if len(cache) < _KNOWN_LINES and len(block) < 1000:
        cache[block] = fields
    return fields


def _fast_part(
    src: _Lines, meaning: dict[str, str], scope: str, parts: _HeadCache, cache: _HeadCache
) -> tuple[_Request, str] | None:
    """The next part read whole with ``_PART`` (and the delimiter that ends it) when it has the
    usual shape; None, having read nothing, otherwise. What it answers is what the line loops
    of ``_multipart`` answer for the same lines (tests/unit/lint/test_batch_fast_paths.py)."""
    lines = src.lines
    at = len(lines) - _left(src.current)  # the index of the next line in the block
    known, offset = src.mark
    if at != known:
        if at < known:
            known = offset = 0
        offset += sum(map(len, lines[known:at])) + at - known
    m = _PART.match(src.text, offset)
    if m is None:
        src.mark = (at, offset)
        return None
    part_block, method, url, head_block, body_text, delimiter = m.groups()
    stop = meaning.get(delimiter.rstrip())
    if stop is not _NEXT and stop is not _CLOSE:  # a body line, or the enclosing batch's
        src.mark = (at, offset)
        return None
    part = parts.get(part_block)
    if part is None:
        part = _head_fields(part_block, parts, True)
    request = cache.get(head_block)
    if request is None:
        request = _head_fields(head_block, cache)
    if part is None or request is None or _MULTIPART in part:  # not headers, or a changeset
        src.mark = (at, offset)
        return None
    headers = dict(request)
    part_lines = part_block.count("\n")
    number = src.last - len(lines) + at + part_lines + 2  # the request line's
    head_lines = head_block.count("\n")
    body: t.Any = None
    if body_text and not body_text.isspace():
        try:  # the usual JSON body, decoded in C (as _body does first)
            body, end = _SCAN(body_text, 0)
        except (StopIteration, ValueError, RecursionError):
            end = -1
        if end != len(body_text):
            try:
                body = _body(src, [body_text, "\n"], number + head_lines + 2)
            except PlanError:  # the line loops explain it
                src.mark = (at, offset)
                return None
    used = part_lines + head_lines + 4 + (body_text is not None)
    # On past the delimiter: a list iterator's index set (its pickle support), in C.
    src.current.__setstate__(at + used)  # type: ignore[attr-defined]
    src.mark = (at + used, m.end() + 1)
    cid = part.get("content-id") or request.get("content-id")
    return _new(_Request, (method, url, headers, body, number, 1, cid, scope)), stop


def _multipart(src: _Lines, batch: _Stops, opened: bool, where: int) -> t.Iterator[_Request]:
    """The requests of a batch body and of the changesets in it, in order.

    One loop over the lines for the whole body (not a generator per multipart level, nor a call
    per part): ``stops`` are the delimiters of the body being read, the batch's or (inside a
    changeset, ``scope`` its boundary) the changeset's. ``opened``: the batch's first delimiter
    has been read.
    """
    stops = batch
    scope = ""
    # Header lines repeat from part to part (Content-Type: application/http, Content-ID: 1):
    # each distinct one is split once. Blank lines are never kept (they end the headers).
    known: dict[str, tuple[str, str]] = {}
    stop = _NEXT if opened else _skip_to_stop(src, stops)
    if stop == _CLOSE:
        raise src.error(f"no '{stops.delim}' part in the multipart body", where)
    heads: _HeadCache = {}
    part_heads: _HeadCache = {}
    while True:
        while stop == _NEXT:
            fast = _fast_part(src, stops.meaning, scope, part_heads, heads)
            if fast is None:
                break
            req, stop = fast
            yield req
        if stop != _NEXT:
            if stop == _CLOSE and scope:  # the changeset is closed: on with the batch
                scope, stops = "", batch
                stop = _skip_to_stop(src, stops)  # the changeset's epilogue
                continue
            if stop is None:
                raise src.error(
                    f"truncated multipart body: no closing '{stops.close}' delimiter", src.end
                )
            return
        meaning = stops.meaning
        # The part's own headers, up to the blank line.
        part_headers: dict[str, str] = {}
        header_line = src.last - _left(src.current) + 1  # src.number + 1, without the call
        for text in src:
            if text[:2] == "--" and text.rstrip() in meaning:
                what = "has no request line" if part_headers else "is empty"
                raise src.error(f"a multipart part {what}", header_line)
            field = known.get(text) or _header_field(src, text, known)
            if field is None:
                break
            part_headers[field[0]] = field[1]
        ctype = part_headers.get("content-type", "")
        if ctype.lower().startswith("multipart/"):
            if scope or not ctype.lower().startswith("multipart/mixed"):
                raise src.error("changesets cannot be nested" if scope else
                                f"unsupported part type {ctype[:60]!r}", header_line)  # fmt: skip
            inner = _boundary_of(ctype)
            if not inner:
                raise src.error("a changeset's Content-Type has no boundary", header_line)
            inner_stops = _Stops(inner, stops)
            for text in src:  # the changeset's own blank line, preamble, first delimiter
                stop = inner_stops.of(text)
                if stop == _NEXT:
                    break
                if stop is not None:
                    if stop == _CLOSE:
                        raise src.error(
                            f"no '{inner_stops.delim}' part in the changeset", header_line
                        )
                    raise src.error(
                        f"truncated changeset: no closing '{inner_stops.close}' delimiter"
                    )
            else:
                raise src.error(
                    f"truncated multipart body: no closing '{inner_stops.close}' delimiter",
                    src.end,
                )
            scope, stops = inner, inner_stops
            continue
        # An application/http part: blank lines, then the request line.
        request_line: str | None = None
        number = 0
        stop = None
        for text in src:
            if text[:2] == "--":
                stop = meaning.get(text.rstrip())
                if stop is not None:
                    break
            if text and not text.isspace():
                request_line, number = text, src.last - _left(src.current)  # src.number
                break
        if request_line is None:
            raise src.error("an application/http part has no request line", header_line)
        parsed = _request_line(request_line)
        if parsed is None:
            raise src.error(
                f"expected a request line 'METHOD URL HTTP/1.1', got {request_line.strip()[:60]!r}"
            )
        headers: dict[str, str] = {}
        stop = None
        for text in src:  # the request's headers, up to the blank line
            if text[:2] == "--":
                stop = meaning.get(text.rstrip())
                if stop is not None:
                    break
            field = known.get(text) or _header_field(src, text, known)
            if field is None:
                break
            headers[field[0]] = field[1]
        body: t.Any = None
        if stop is None:
            chunks: list[str] = []
            body_line = 0
            blanks = 0
            for text in src:  # the body, up to the next delimiter; blank runs are counted
                if text[:2] == "--":
                    stop = meaning.get(text.rstrip())
                    if stop is not None:
                        break
                if not text or text.isspace():
                    blanks += 1
                    continue
                if not chunks:
                    body_line = src.last - _left(src.current)  # src.number
                elif blanks:
                    chunks.append("\n" * blanks)
                blanks = 0
                chunks.append(text)
                chunks.append("\n")
            if chunks:
                body = _body(src, chunks, body_line)
                del chunks
        cid = part_headers.get("content-id") or headers.get("content-id")
        column = len(request_line) - len(request_line.lstrip()) + 1
        yield _new(_Request, (*parsed, headers, body, number, column, cid, scope))
        if stop in (_OUTER_NEXT, _OUTER_CLOSE):
            raise src.error(f"truncated changeset: no closing '{stops.close}' delimiter")


def _requests(src: _Lines) -> t.Iterator[_Request]:
    """The requests of the file: its head read here (raising what is wrong with it), the body
    by ``_multipart``. Called while iterating ``iter_batch``, so errors raise then."""
    first = ""
    for text in src:
        if text.strip():
            first = text
            break
    else:
        raise src.error("the file is empty (expected a multipart/mixed $batch body)", 1)
    where = src.number
    if first.startswith("--"):
        return _multipart(src, _Stops(first.strip()[2:]), True, where)
    headers: dict[str, str] = {}
    if not _REQUEST_LINE.match(first.strip()):
        _header(src, first, headers)
    for text in src:
        if not text.strip():
            break
        _header(src, text, headers)
    boundary = _boundary_of(headers.get("content-type", ""))
    if not boundary:
        raise src.error(
            "expected a $batch body starting with '--boundary', or request headers with "
            "Content-Type: multipart/mixed; boundary=...",
            where,
        )
    return _multipart(src, _Stops(boundary), False, where)


def _one_key(piece: str) -> bool:
    """True when ``piece`` has no parentheses, or one "(" before one ")" (nothing to join)."""
    opening = piece.find("(")
    if opening < 0:
        return ")" not in piece
    closing = piece.find(")")
    return closing > opening and piece.count("(") == 1 and piece.count(")") == 1


def _split(path: str) -> list[str]:
    """The non-empty pieces of ``path`` between its '/'."""
    pieces = path.split("/")
    return [s for s in pieces if s] if "" in pieces else pieces


def _segments(path: str) -> list[str]:
    """URL path split on '/' outside parentheses and quotes."""
    if "(" not in path:  # quotes only matter inside parentheses
        return _split(path)
    if "'" not in path:  # the usual key, set(guid): each piece holds at most one "(...)"
        if path.count("(") == 1 and path.count(")") == 1:  # one key: is it in one piece?
            opening = path.find("(")
            closing = path.find(")")
            if opening < closing and "/" not in path[opening:closing]:
                return _split(path)
        pieces = path.split("/")
        if all(_one_key(p) for p in pieces):
            return [s for s in pieces if s]
    return _walk_segments(path)


def _walk_segments(path: str) -> list[str]:
    """What ``_segments`` answers, one character at a time (its shortcuts must agree)."""
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


def iter_batch(
    source: t.BinaryIO | bytes | str, path: str, *, names: NameLookup | None = None
) -> t.Iterator[Operation]:
    """Operations of a $batch body (a binary file, or the whole text), in order; raises
    PlanError (with position) on bad input."""
    if isinstance(source, str):
        source = io.BytesIO(source.encode("utf-8"))
    elif isinstance(source, bytes):
        source = io.BytesIO(source)
    tables_by_cid: dict[tuple[str, str], str | None] = {}
    scope = ""
    knows_upsert = names is not None and names.message("Upsert") is not None
    lookups: dict[str, tuple[str | None, str | None]] = {}
    urls: dict[tuple[str, ...], _Facts] = {}
    for index, req in enumerate(_requests(_Lines(source, path))):
        if req.scope != scope:
            # A Content-ID is visible only inside its changeset, and a changeset's parts are
            # contiguous: forget the last one's ids (memory follows a changeset, not the file).
            if scope:
                tables_by_cid = {k: v for k, v in tables_by_cid.items() if not k[0]}
            scope = req.scope
        op = _operation(index, req, path, names, tables_by_cid, knows_upsert, lookups, urls)
        if req.content_id:
            tables_by_cid[(req.scope, req.content_id)] = op.table
        yield op


def _url_facts(
    method: str,
    url: str,
    scope: str,
    headers: dict[str, str],
    body: t.Any,
    names: NameLookup | None,
    tables_by_cid: dict[tuple[str, str], str | None],
    knows_upsert: bool,
    lookups: dict[str, tuple[str | None, str | None]],
) -> _Facts:
    """What the request line says (see the module's mapping), and whether that is all it
    depends on besides the table of a Content-ID it starts with and, for a PATCH, its
    If-Match and If-None-Match headers (``cacheable``: no $ref, whose body names the related
    record; see _operation)."""
    if "://" in url:  # absolute: the path of the URL
        try:
            parts = urllib.parse.urlsplit(url)
        except ValueError:  # e.g. an unclosed "[" in the host
            query: str | None = None
            raw_path = url
        else:
            query, raw_path = parts.query, parts.path
    else:
        raw_path, _, query = url.partition("?")
    if raw_path.startswith(_USUAL_PREFIX):
        rel = raw_path[len(_USUAL_PREFIX) :]
    else:
        rel = raw_path[_API_PREFIX.match(raw_path).end() :]  # type: ignore[union-attr]  # or ""
    segs = _segments(urllib.parse.unquote(rel) if "%" in rel else rel)
    cacheable = True
    refs: list[str] = []
    problems: list[str] = []
    message: str | None = None
    table: str | None = None
    ident: str | None = None
    relationship: str | None = None
    related: tuple[Related, ...] = ()
    head = False  # the URL names a record or an entity set: (table, key) below
    key: str | None = None
    rest = segs[1:]
    if query is None:
        problems.append(f"{method} {url}: the URL cannot be read")
    elif not segs:
        problems.append(f"{method} {url}: no entity set or action in the URL")
    else:
        first = segs[0]
        label = reference_label(first) if first[:1] == "$" else None
        if label is not None:
            refs.append(label)
            head, table, key = True, tables_by_cid.get((scope, label)), first
            ident = first
        else:
            m = _SEGMENT.match(first)
            if m is None:
                problems.append(f"{method} {url}: cannot read the URL segment {first!r}")
            else:
                name, key = m.group(1), m.group(2)
                if names:
                    known = lookups.get(name)
                    if known is None:
                        found = names.table(name)
                        known = (found, names.message(name) if found is None else None)
                        if len(lookups) < _LOOKUPS:
                            lookups[name] = known
                    found_table, found_message = known
                    is_table = found_table is not None
                else:
                    found_table = found_message = None
                    is_table = key is not None
                # Without the data: actions are PascalCase (WhoAmI), entity sets lower case.
                is_message = found_message is not None
                if not is_table and not is_message:  # unknown either way: guess by spelling
                    is_message = name[:1].isupper()
                if key is None and not rest and not is_table and is_message:
                    message = found_message or name
                else:
                    head, table = True, found_table or name
                    if key is not None:
                        ident = key.strip("{}") if is_guid(key) else key
    if head:
        action: str | None = None
        for seg in rest:
            if seg.startswith(_ACTION_PREFIX):
                action = seg
                break
        if action is not None:
            m = _SEGMENT.match(action[len(_ACTION_PREFIX) :])
            if m is None:
                problems.append(f"{method} {url}: cannot read the action segment {action!r}")
            else:
                message = m.group(1)
                if names:
                    message = names.message(message) or message
        elif rest and rest[-1] == "$ref":
            cacheable = False  # the related record may be in the body
            if method in ("POST", "PUT"):
                message = "Associate"
            elif method == "DELETE":
                message = "Disassociate"
            nav = rest[0]
            if nav:
                nm = _SEGMENT.match(nav)
                relationship = nm.group(1) if nm else nav
            related = _related_from(body)
            if method == "DELETE" and not related:
                target = urllib.parse.parse_qs(query or "").get("$id", [None])[0]
                if target:
                    related = _related_from({"@odata.id": target})
        elif method == "GET":
            message = "Retrieve" if key is not None and not rest else "RetrieveMultiple"
        elif method == "POST":
            if key is None and not rest:
                message = "Create"
            else:
                problems.append(
                    f"POST {url}: creating through a navigation property is not checked; "
                    "post to the related entity set instead"
                )
        elif method == "PATCH":
            if key is None:
                problems.append(f"PATCH {url}: no record key in the URL")
            elif headers.get("if-none-match", "").strip() == "*":
                message = "Create"
            elif "if-match" in headers:
                message = "Update"
            elif ident is not None and not is_guid(ident) and reference_label(ident) is None:
                message = "Upsert"  # an alternate key: the documented way to upsert
            else:
                # No If-Match: the Web API upserts. Data that knows the Upsert message (a
                # harvest) checks Upsert; the published 9.0 table has none, so Update it is.
                message = "Upsert" if knows_upsert else "Update"
        elif method == "PUT":
            message = "Update"
        elif method == "DELETE":
            message = "Update" if rest else "Delete"
        else:
            problems.append(f"{method} {url}: method not mapped to a message")
    elif message is None and not problems:
        problems.append(f"{method} {url}: cannot tell which message this is")
    return (message, table, ident, head, tuple(problems), tuple(refs), relationship, related,
            cacheable)  # fmt: skip


def _operation(
    index: int,
    req: _Request,
    path: str,
    names: NameLookup | None,
    tables_by_cid: dict[tuple[str, str], str | None],
    knows_upsert: bool,
    lookups: dict[str, tuple[str | None, str | None]],
    urls: dict[tuple[str, ...], _Facts],
) -> Operation:
    """``req`` as an operation; ``knows_upsert``: the data has an Upsert message; ``lookups``:
    (table, message) by URL segment name, ``urls``: what each request line said, for this file
    (a request line that depends on nothing else is read once)."""
    method, url, headers, body, line, column, content_id, scope = req
    method = method.upper()
    # What a request line means is kept per file by its shape: the URL with a GUID key as a
    # placeholder (entity set and key form, not the record), and for a PATCH the two headers
    # that decide its message; the table of a leading "$n" is looked up each time.
    guid: str | None = None
    opening = url.find("(")
    if opening > 0:
        closing = url.find(")", opening)
        if closing - opening in (37, 39) and is_guid(url[opening + 1 : closing]):
            guid = url[opening + 1 : closing].strip("{}")
            shape = url[: opening + 1] + "\x00" + url[closing:]
    key: tuple[str, ...] = (method, shape if guid is not None else url)
    if method == "PATCH":
        key += (str(headers.get("if-none-match", "").strip() == "*"), str("if-match" in headers))
    facts = urls.get(key)
    if facts is None:
        facts = _url_facts(method, url, scope, headers, body, names, tables_by_cid,
                           knows_upsert, lookups)  # fmt: skip
        if (
            facts[8]
            and len(urls) < _LOOKUPS
            and (guid is None or (facts[2] == guid and not facts[4]))  # GUID: just the id
        ):
            urls[key] = facts
    else:
        if guid is not None:
            facts = (*facts[:2], guid, *facts[3:])
        if facts[5]:  # a "$n" URL: the table of the part with that Content-ID
            facts = (facts[0], tables_by_cid.get((scope, facts[5][0])), *facts[2:])
    message, table, ident, head, problems, url_refs, relationship, related, _ = facts
    raw = {"method": method, "url": url, "headers": headers, "body": body,
           "content_id": content_id}  # fmt: skip
    refs: t.Sequence[str] = url_refs
    data: dict[str, t.Any] | None = None
    if isinstance(body, dict):
        data = body
        for k, v in body.items():
            if (
                type(v) is str
                and v[:1] == "$"
                and isinstance(k, str)
                and (k.endswith(BIND_SUFFIX) or k == "@odata.id")
            ):
                ref = reference_label(v)
                if ref:
                    refs = (*refs, ref)
    return _new(Operation, (  # the order of Operation's fields
        index, message, table, None, ident,
        data if message not in ("Associate", "Disassociate") else None,
        data if not head else None, content_id, relationship, related, line, column, path,
        raw, problems, tuple(dict.fromkeys(refs)) if len(refs) > 1 else refs, scope, None,
        None, None,
    ))  # fmt: skip
