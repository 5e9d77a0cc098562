"""The $batch reader's shortcuts for the usual input agree with the general way of reading it:
the request line without its regular expression, a one-line body without JSONDecoder.decode, URL
paths split without walking each character, and a request line read once per file only where
nothing else decides what it means."""

from __future__ import annotations

import io
import json
import typing as t

from hypothesis import given, settings
from hypothesis import strategies as st

from metadata.errors import PlanError
from validator.api import default_engine
from validator.linter import name_lookup
from validator.readers import NameLookup, batch

G = "2b6c1d9e-1111-4f5e-9a7b-000000000001"

LINE_PIECES = ["POST", "GET", "PATCH", "get", "PÖST", " ", "  ", "\t", "\u00a0", "HTTP/1.1",
               " HTTP/1.1", "HTTP/1.0", "HTTP/2", "accounts", "/api/data/v9.2/", "(", ")", "$1",
               "?$select=name", "x", ""]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(LINE_PIECES), max_size=8))
def test_request_line_shortcut_agrees_with_the_pattern(pieces: list[str]) -> None:
    text = "".join(pieces)
    m = batch._REQUEST_LINE.match(text.strip())
    assert batch._request_line(text) == ((m.group(1), m.group(2)) if m else None)


BODY_PIECES = ['{"a": 1}', "[1, 2]", "{", "}", " ", "\u00a0", "\x0c", "\t", '"x"', "{}", "1e999",
               '{"a": 1}{"b": 2}', "nul", "null", "[", "]", ",", '"\\u12"', "9" * 30]  # fmt: skip


def _decoded(run: object) -> object:
    try:
        return ("value", run())  # type: ignore[operator]
    except PlanError as exc:
        return ("error", str(exc))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(BODY_PIECES), min_size=1, max_size=5))
def test_one_line_body_shortcut_agrees_with_decode(pieces: list[str]) -> None:
    line = "".join(pieces)
    src = batch._Lines(io.BytesIO(b""), "b.batch")
    fast = _decoded(lambda: batch._body(src, [line, "\n"], 3))

    def general() -> object:
        try:
            return json.JSONDecoder().decode(line + "\n")
        except json.JSONDecodeError as exc:
            raise src.error(f"invalid JSON request body: {exc.msg}", 3 + exc.lineno - 1) from None
        except ValueError as exc:
            raise src.error(f"invalid JSON request body: {exc}", 3) from None

    assert fast == _decoded(general)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "/", "(", ")", "'", "$ref", "x(1)", "(guid)"]),
                max_size=10))  # fmt: skip
def test_path_split_shortcuts_agree_with_walking_it(pieces: list[str]) -> None:
    path = "".join(pieces)
    assert batch._segments(path) == batch._walk_segments(path)


def _part(request: str, *headers: str, body: str = "", cid: str | None = None) -> str:
    head = "Content-Type: application/http\n" + (f"Content-ID: {cid}\n" if cid else "")
    return f"{head}\n{request} HTTP/1.1\n" + "".join(h + "\n" for h in headers) + f"\n{body}\n"


def test_a_request_line_means_what_its_own_part_says_each_time() -> None:
    """The same request line in different parts: headers, bodies and Content-IDs still decide
    (a request line is remembered only where nothing else does)."""
    changeset = (
        "Content-Type: multipart/mixed; boundary=c{n}\n\n--c{n}\n{create}--c{n}\n{get}--c{n}--\n"
    )
    parts = [
        _part(f"PATCH accounts({G})", "If-Match: *", body="{}"),
        _part(f"PATCH accounts({G})", "If-None-Match: *", body="{}"),
        _part(f"PATCH accounts({G})", body="{}"),  # the published data has no Upsert
        _part("GET accounts(1)/x/$ref", body='{"@odata.id": "contacts(4)"}'),
        _part("GET accounts(1)/x/$ref", body='{"@odata.id": "leads(5)"}'),
        _part("POST accounts", body='{"a@odata.bind": "$9"}'),
        _part("POST accounts", body="{}"),
    ]
    text = "".join(f"--b\n{p}" for p in parts)
    for n, table in ((1, "accounts"), (2, "contacts")):
        create = _part(f"POST {table}", body="{}", cid="1")
        text += "--b\n" + changeset.format(n=n, create=create, get=_part("GET $1"))
    text += "--b--\n"
    found = list(batch.iter_batch(text, "b.batch", names=name_lookup(default_engine())))
    assert [(op.message, op.table) for op in found] == [
        ("Update", "account"), ("Create", "account"), ("Update", "account"),
        (None, "account"), (None, "account"), ("Create", "account"), ("Create", "account"),
        ("Create", "account"), ("Retrieve", "account"), ("Create", "contact"),
        ("Retrieve", "contact"),
    ]  # fmt: skip
    assert [op.related for op in found[3:5]] == [(("contacts", "4"),), (("leads", "5"),)]
    assert [op.references for op in found[5:7]] == [("9",), ()]


# Whole parts read with one pattern (batch._fast_part) against the line loops alone: the same
# operations (every field, positions included) or the same error, for usual and odd batches.
PART_HEADS = ["Content-Type: application/http", "Content-Transfer-Encoding: binary",
              "Content-ID: 1", "Content-ID: 2", "content-id:3", "X-Extra: a:b", "NoColon",
              "Content-Type: multipart/mixed; boundary=c", " ", "--b", "--c"]  # fmt: skip
REQUEST_LINES = ["POST /api/data/v9.2/accounts HTTP/1.1", f"GET accounts({G}) HTTP/1.1",
                 f"PATCH accounts({G}) HTTP/1.1", f"DELETE /api/data/v9.2/contacts({G}) HTTP/1.1",
                 "PATCH $1 HTTP/1.1", "GET accounts(1)/x/$ref HTTP/1.1", "get accounts HTTP/1.1",
                 "POST  accounts HTTP/1.1", "POST accounts", "GET a b HTTP/1.1", "",
                 "POST accounts(1)/Microsoft.Dynamics.CRM.Assign HTTP/1.1"]  # fmt: skip
REQUEST_HEADS = ["Content-Type: application/json; type=entry", "If-Match: *",
                 "If-None-Match: *", "Content-ID: 9", "Prefer: return=representation",
                 "Bad header", "--b", "\t"]  # fmt: skip
BODIES = ['{"name": "x"}', '{"a@odata.bind": "$1"}', '{"@odata.id": "contacts(4)"}', "",
          "  ", '{"s": "--b"}', "--b", "--c--", "-1", '{"a": 1', "[1,", "2]", "{}  ", '"x"',
          '{"a": 1}{"b": 2}', "\u00a0"]  # fmt: skip


@st.composite
def odd_parts(draw: st.DrawFn) -> str:
    """A part, usually of the usual shape; about one in four has one odd thing in it."""
    odd = draw(st.integers(0, 23))
    heads = draw(st.lists(st.sampled_from(PART_HEADS[:6]), max_size=4))
    if odd == 1:
        heads.insert(draw(st.integers(0, len(heads))), draw(st.sampled_from(PART_HEADS[6:])))
    request = draw(st.sampled_from(REQUEST_LINES[:6] if odd != 2 else REQUEST_LINES[6:]))
    req_heads = draw(st.lists(st.sampled_from(REQUEST_HEADS[:5]), max_size=3))
    if odd == 3:
        req_heads.append(draw(st.sampled_from(REQUEST_HEADS[5:])))
    body = [draw(st.sampled_from(BODIES[:4]))] if draw(st.booleans()) else []
    if odd == 4:
        body = draw(st.lists(st.sampled_from(BODIES), max_size=3))
    blanks = draw(st.sampled_from(["", "\n\n", " \n", "\t\n"])) if odd == 5 else "\n"
    if odd == 6:
        request = " " + request
    text = "".join(h + "\n" for h in heads) + ("\n" if odd != 7 else "\n\n") + request + "\n"
    text += "".join(h + "\n" for h in req_heads) + blanks
    return text + "".join(b + "\n" for b in body)


@st.composite
def odd_batches(draw: st.DrawFn) -> str:
    out = []
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.integers(0, 2)) == 0:
            out.append("--b\nContent-Type: multipart/mixed; boundary=c\n\n")
            for _ in range(draw(st.integers(0, 3))):
                out.append("--c\n" + draw(odd_parts()))
            out.append(draw(st.sampled_from(["--c--\n"] * 8 + ["", "--c--  \n", "--c"])))
        else:
            out.append("--b\n" + draw(odd_parts()))
    out.append(draw(st.sampled_from(["--b--\n"] * 6 + ["--b--", "--b-- \n", "", "--b"])))
    text = "".join(out)
    return text.replace("\n", "\r\n") if draw(st.booleans()) else text


def _read(text: str, block: int, *, fast: bool) -> object:
    saved = batch._BLOCK, batch._fast_part
    batch._BLOCK = block
    if not fast:
        batch._fast_part = lambda *a: None
    try:
        names = name_lookup(default_engine())
        return ("ops", list(batch.iter_batch(text.encode("utf-8"), "b.batch", names=names)))
    except PlanError as exc:
        return ("error", str(exc))
    finally:
        batch._BLOCK, batch._fast_part = saved


@settings(max_examples=600, deadline=None)
@given(odd_batches(), st.sampled_from([1 << 20, 64, 200]))
def test_whole_part_pattern_agrees_with_the_line_loops(text: str, block: int) -> None:
    assert _read(text, block, fast=True) == _read(text, block, fast=False)


def test_the_usual_parts_are_read_whole() -> None:
    """The shortcut is taken for the usual shape (else the agreement above proves little)."""
    calls: list[bool] = []
    real = batch._fast_part

    def counted(*args: t.Any) -> t.Any:
        found = real(*args)
        calls.append(found is not None)
        return found

    text = "--b\n" + _part("POST accounts", body='{"name": "x"}', cid="1")
    text += "--b\n" + _part(f"GET accounts({G})") + "--b--\n"
    batch._fast_part = counted  # type: ignore[assignment]
    try:
        found = list(batch.iter_batch(text.replace("\n", "\r\n"), "b.batch"))
    finally:
        batch._fast_part = real
    assert calls == [True, True]
    assert [(op.message, op.line, op.data) for op in found] == [
        ("Create", 5, {"name": "x"}), ("Retrieve", 11, None)]  # fmt: skip


# Request lines mapped once per URL shape (a GUID key as a placeholder, a PATCH's If-Match and
# If-None-Match, the table of a leading "$n" looked up each time) against mapping every one.
G2 = "{2B6C1D9E-2222-4F5E-9A7B-000000000002}"
SHAPED = [f"GET accounts({G})", f"GET accounts({G2})", f"GET contacts({G})?$select=name",
          f"DELETE /api/data/v9.2/accounts({G2})", f"DELETE accounts({G})/name",
          f"PATCH accounts({G})", f"PATCH accounts({G2})", f"PATCH accounts({G})/x",
          "PATCH accounts(name='a')", "PATCH $1", "GET $1", "DELETE $2", "PATCH $1/name",
          f"POST accounts({G})/Microsoft.Dynamics.CRM.Assign", f"POST accounts({G2})/x",
          f"GET accounts({G})/x/$ref", f"GET nosuchset({G})", f"POST WhoAmI({G})",
          f"GET accounts({G[:-1]}x)", "POST accounts", "POST contacts"]  # fmt: skip


@st.composite
def shaped_batches(draw: st.DrawFn) -> str:
    out = []
    for n in range(draw(st.integers(1, 4))):
        out.append(f"--b\nContent-Type: multipart/mixed; boundary=c{n}\n\n")
        for cid in range(1, draw(st.integers(1, 5)) + 1):
            heads = draw(st.lists(st.sampled_from(["If-Match: *", "If-None-Match: *"]),
                                  max_size=1))  # fmt: skip
            body = draw(st.sampled_from(["{}", "", '{"a@odata.bind": "$1"}']))
            out.append(f"--c{n}\n" + _part(draw(st.sampled_from(SHAPED)), *heads, body=body,
                                           cid=str(cid)))  # fmt: skip
        out.append(f"--c{n}--\n")
    return "".join(out) + "--b--\n"


class _KnowsUpsert:
    """Data that knows the Upsert message (a harvest): a PATCH without If-Match upserts."""

    def __init__(self, names: NameLookup) -> None:
        self.names = names

    def table(self, name: str) -> str | None:
        return self.names.table(name)

    def message(self, name: str) -> str | None:
        return "Upsert" if name == "Upsert" else self.names.message(name)


@settings(max_examples=300, deadline=None)
@given(shaped_batches(), st.booleans())
def test_request_lines_mapped_by_shape_agree_with_mapping_each(text: str, upsert: bool) -> None:
    names: NameLookup = name_lookup(default_engine())
    if upsert:
        names = _KnowsUpsert(names)
    shaped = list(batch.iter_batch(text, "b.batch", names=names))
    saved = batch._LOOKUPS
    batch._LOOKUPS = 0  # nothing kept: every request line mapped on its own
    try:
        each = list(batch.iter_batch(text, "b.batch", names=names))
    finally:
        batch._LOOKUPS = saved
    assert shaped == each
