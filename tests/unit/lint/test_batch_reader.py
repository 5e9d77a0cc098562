"""$batch bodies: the method/URL mapping, changesets and Content-ID, CRLF or LF."""

from __future__ import annotations

import os
import typing as t

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metadata.errors import PlanError
from validator.api import load_engine
from validator.linter import name_lookup
from validator.plan import Related
from validator.readers import read_plan

SNAPSHOT = os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "fixtures", "lint", "contoso-snapshot.json"
)


def body(*parts: str, boundary: str = "batch_1") -> str:
    out = []
    for p in parts:
        out.append(f"--{boundary}\nContent-Type: application/http\n\n{p}\n")
    return "".join(out) + f"--{boundary}--\n"


def ops(tmp_path: t.Any, text: str, *, crlf: bool = False, names: bool = True) -> list[t.Any]:
    path = os.path.join(tmp_path, "b.batch")
    with open(path, "w", newline="") as fh:
        fh.write(text.replace("\n", "\r\n") if crlf else text)
    lookup = name_lookup(load_engine(snapshot=SNAPSHOT)) if names else None
    return list(read_plan(path, names=lookup).operations)


G = "2b6c1d9e-1111-4f5e-9a7b-000000000001"
H = "2b6c1d9e-1111-4f5e-9a7b-000000000002"


@pytest.mark.parametrize("crlf", [False, True])
@pytest.mark.parametrize(
    ("request_text", "message", "table", "ident"),
    [
        ("POST /api/data/v9.2/accounts HTTP/1.1\n\n{}", "Create", "account", None),
        (
            "POST https://x.crm.dynamics.com/api/data/v9.2/contacts HTTP/1.1",
            "Create",
            "contact",
            None,
        ),
        (f"PATCH accounts({G}) HTTP/1.1\nIf-Match: *\n\n{{}}", "Update", "account", G),
        (f"PATCH accounts({G}) HTTP/1.1\n\n{{}}", "Upsert", "account", G),  # data has Upsert
        (f"PATCH accounts({G}) HTTP/1.1\nIf-None-Match: *\n\n{{}}", "Create", "account", G),
        (
            "PATCH contacts(emailaddress1='a@b.c') HTTP/1.1\n\n{}",
            "Upsert",
            "contact",
            "emailaddress1='a@b.c'",
        ),
        (f"PUT accounts({G})/name HTTP/1.1\n\n{{}}", "Update", "account", G),
        (f"DELETE accounts({G}) HTTP/1.1", "Delete", "account", G),
        (f"DELETE accounts({G})/telephone1 HTTP/1.1", "Update", "account", G),
        (f"GET accounts({G})?$select=name HTTP/1.1", "Retrieve", "account", G),
        ("GET accounts?$filter=name eq 'a/b' HTTP/1.1", "RetrieveMultiple", "account", None),
        (
            f"POST accounts({G})/Microsoft.Dynamics.CRM.Assign HTTP/1.1\n\n{{}}",
            "Assign",
            "account",
            G,
        ),
        ("GET /api/data/v9.2/WhoAmI HTTP/1.1", "WhoAmI", None, None),
        ("POST /api/data/v9.2/new_Recalculate HTTP/1.1\n\n{}", "new_Recalculate", None, None),
        ("POST /api/data/v9.2/new_projectses HTTP/1.1\n\n{}", "Create", "new_project", None),
    ],
)
def test_request_mapping(
    tmp_path: t.Any, crlf: bool, request_text: str, message: str, table: str | None,
    ident: str | None,
) -> None:  # fmt: skip
    (op,) = ops(tmp_path, body(request_text), crlf=crlf)
    assert (op.message, op.table, op.id) == (message, table, ident)
    assert op.problems == ()
    assert op.line == 4 and op.column == 1


def test_associate_and_disassociate(tmp_path: t.Any) -> None:
    a, d1, d2 = ops(
        tmp_path,
        body(
            f"POST accounts({G})/contact_customer_accounts/$ref HTTP/1.1\n\n"
            f'{{"@odata.id": "https://x/api/data/v9.2/contacts({H})"}}',
            f"DELETE accounts({G})/contact_customer_accounts/$ref?$id=contacts({H}) HTTP/1.1",
            f"DELETE accounts({G})/contact_customer_accounts({H})/$ref HTTP/1.1",
        ),
    )
    assert (a.message, a.table, a.relationship, a.related) == (
        "Associate", "account", "contact_customer_accounts", (Related("contacts", H),)
    )  # fmt: skip
    assert (d1.message, d1.related) == ("Disassociate", (Related("contacts", H),))
    assert (d2.message, d2.relationship) == ("Disassociate", "contact_customer_accounts")


def test_content_ids_and_changesets(tmp_path: t.Any) -> None:
    text = (
        "--b\nContent-Type: multipart/mixed; boundary=cs1\n\n"
        "--cs1\nContent-Type: application/http\nContent-ID: 1\n\n"
        "POST accounts HTTP/1.1\n\n{}\n"
        "--cs1\nContent-Type: application/http\nContent-ID: 2\n\n"
        'POST contacts HTTP/1.1\n\n{"parentcustomerid_account@odata.bind": "$1"}\n'
        "--cs1\nContent-Type: application/http\n\n"
        "PATCH $1 HTTP/1.1\n\n{}\n"
        "--cs1--\n"
        "--b--\n"
    )
    first, second, third = ops(tmp_path, text)
    assert (first.label, first.scope) == ("1", "cs1")
    assert second.references == ("1",)
    assert (third.message, third.table, third.references) == ("Upsert", "account", ("1",))
    assert (first.line, third.line) == (8, 21)


def test_without_data_names_pass_through(tmp_path: t.Any) -> None:
    a, b = ops(tmp_path, body("POST accounts HTTP/1.1\n\n{}", "GET WhoAmI HTTP/1.1"),
               names=False)  # fmt: skip
    assert (a.message, a.table) == ("Create", "accounts")
    assert (b.message, b.table) == ("WhoAmI", None)


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("--b\nContent-Type: application/http\n\nGET accounts HTTP/1.1\n", ":5:1:", "truncated"),
        ("", ":1:1:", "empty"),
        ("--b\nContent-Type: application/http\n\n\n--b--\n", ":2:1:", "no request line"),
        ("--b\nnot a header\n\nGET a HTTP/1.1\n--b--\n", ":2:1:", "header"),
        ("--b\nContent-Type: multipart/mixed\n\n--b--\n", ":2:1:", "no boundary"),
        (
            "--b\nContent-Type: multipart/mixed; boundary=c\n\n--c\n"
            "Content-Type: multipart/mixed; boundary=d\n\n--d--\n--c--\n--b--\n",
            ":5:1:",
            "nested",
        ),
    ],
)
def test_malformed_batches(tmp_path: t.Any, text: str, where: str, what: str) -> None:
    with pytest.raises(PlanError) as info:
        ops(tmp_path, text)
    assert where in str(info.value) and what in str(info.value)


def test_plain_patch_is_update_when_the_data_has_no_upsert(tmp_path: t.Any) -> None:
    from validator.api import default_engine

    path = os.path.join(tmp_path, "b.batch")
    with open(path, "w") as fh:
        fh.write(body(f"PATCH accounts({G}) HTTP/1.1\n\n{{}}"))
    (op,) = read_plan(path, names=name_lookup(default_engine())).operations
    assert op.message == "Update"


# issue 13 scope 4: every segment the reader meets is handled (these raised AttributeError or
# ValueError: "internal error" in lint, and the other files' findings were lost).
@pytest.mark.parametrize(
    ("request_text", "problem"),
    [
        (f"POST accounts({G})/Microsoft.Dynamics.CRM. HTTP/1.1\n\n{{}}", "action segment"),
        (f"POST accounts({G})/Microsoft.Dynamics.CRM.%20 HTTP/1.1\n\n{{}}", "action segment"),
        ("GET http://[::1/api/data/v9.2/accounts HTTP/1.1", "URL cannot be read"),
        ("GET /api/data/v9.2/-x HTTP/1.1", "cannot read the URL segment"),
    ],
)
def test_segments_it_cannot_read_are_findings(
    tmp_path: t.Any, request_text: str, problem: str
) -> None:
    for names in (True, False):
        (op,) = ops(tmp_path, body(request_text), names=names)
        assert op.problems and problem in op.problems[0]


def test_a_body_number_python_cannot_convert_is_a_read_error(tmp_path: t.Any) -> None:
    text = body('POST accounts HTTP/1.1\n\n{"n": ' + "1" * 5000 + "}")
    with pytest.raises(PlanError, match=r":6:1: invalid JSON request body: .*digits"):
        ops(tmp_path, text)


def test_memory_follows_the_parts_not_the_blank_lines(tmp_path: t.Any) -> None:
    # issue 13 scope 5: 20 MB of blank lines peaked at 2.58 GB (a tuple per line, all kept).
    import tracemalloc

    path = os.path.join(tmp_path, "b.batch")
    blank = 2**20
    with open(path, "w", newline="") as fh:
        fh.write("--b\r\nContent-Type: application/http\r\n\r\nPOST accounts HTTP/1.1\r\n\r\n")
        fh.write('{"name":\r\n' + "\r\n" * (blank // 4) + '"x"}' + "\r\n" * (blank // 4))
        fh.write("--b\r\nContent-Type: application/http\r\n\r\nGET WhoAmI HTTP/1.1\r\n--b--\r\n")
    tracemalloc.start()
    try:
        found = list(read_plan(path).operations)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [op.message for op in found] == ["Create", "WhoAmI"]
    assert found[0].data == {"name": "x"} and found[1].line == blank // 2 + 10
    assert peak < 8 * 2**20, peak  # a few 1 MiB blocks at a time, whatever the input size


def test_a_line_longer_than_a_block_and_no_final_line_end(tmp_path: t.Any) -> None:
    big = "x" * (3 * 2**20)
    text = body(f'POST accounts HTTP/1.1\n\n{{"name": "{big}"}}').rstrip("\n")
    (op,) = ops(tmp_path, text, crlf=True)
    assert op.data == {"name": big}


def test_text_and_bytes_are_read_as_files_are(tmp_path: t.Any) -> None:
    from validator.readers.batch import iter_batch

    text = body("POST accounts HTTP/1.1\n\n{}", "GET WhoAmI HTTP/1.1")
    from_file = [op._replace(path="x") for op in ops(tmp_path, text, names=False)]
    assert list(iter_batch(text, "x")) == from_file
    assert list(iter_batch(text.encode(), "x")) == from_file


def _slow_segments(path: str) -> list[str]:
    segs: list[str] = []
    cur: list[str] = []
    depth, quoted = 0, False
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


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab/()'$", max_size=16))
def test_url_segments_fast_path_is_exact(path: str) -> None:
    from validator.readers.batch import _segments

    assert _segments(path) == _slow_segments(path)
