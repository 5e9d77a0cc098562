"""The $batch reader's shortcuts for the usual input agree with the general way of reading it:
the request line without its regular expression, a one-line body without JSONDecoder.decode, URL
paths split without walking each character, and a request line read once per file only where
nothing else decides what it means."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from metadata.errors import PlanError
from validator.api import default_engine
from validator.linter import name_lookup
from validator.readers import batch

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
