"""How playback reads each answer: done, parked, retried, or checked (reference §6-7)."""

from __future__ import annotations

import json
import typing as t

import pytest

from validator.executor.journal import Op
from validator.executor.multipart import SubResponse
from validator.executor.playback import classify, keys_of, matches_server


def _op(message: str, **kw: t.Any) -> Op:
    # only the keys these rules read
    op = {"seq": 5, "message": message, "table": "account", "id": "A", **kw}
    return t.cast(Op, op)


def _resp(status: int, code: str = "", message: str = "m") -> SubResponse:
    body = (
        json.dumps({"error": {"code": code, "message": message}}).encode() if status >= 400 else b""
    )
    return SubResponse(status, {}, body)


@pytest.mark.parametrize(
    ("message", "status", "code", "later_delete", "kind", "note"),
    [
        ("Create", 204, "", None, "done", None),
        ("Create", 412, "", None, "verify", None),  # ours from a lost answer, or a collision
        ("Update", 204, "", None, "done", None),
        ("Update", 404, "0x80040217", None, "park", None),
        ("Update", 404, "0x80040217", 9, "done", "record deleted; #9 deletes it anyway"),
        ("Update", 412, "0x80060882", None, "park", None),  # --etag: someone changed it
        ("Delete", 404, "0x80040217", None, "done", "already gone"),
        ("Disassociate", 404, "0x80040217", None, "done", "already gone"),
        ("Associate", 400, "0x80040237", None, "done", "already associated"),
        ("Associate", 400, "0x80044331", None, "park", None),
        ("Create", 403, "0x80040220", None, "park", None),
        ("Create", 500, "0x80040333", None, "park", None),  # a business error, not an outage
        ("Create", 500, "", None, "retry", None),
        ("Create", 503, "", None, "retry", None),
        ("Create", 0, "", None, "retry", None),  # the batch stopped before this part
    ],
)
def test_answers(message, status, code, later_delete, kind, note):
    outcome = classify(_op(message), _resp(status, code), later_delete)
    assert (outcome.kind, outcome.note) == (kind, note)
    if kind == "park":
        assert outcome.error is not None
        assert outcome.error["status"] == status
        assert outcome.error["message"] == "m"


def test_records_an_operation_touches_decide_what_waits_for_what():
    op = _op(
        "Create",
        id="C1",
        binds={"parentcustomerid_account": {"table": "account", "id": "A1"}},
    )
    assert keys_of(op) == {"c1", "a1"}
    rel = _op("Associate", id="A1", related={"table": "contact", "id": "C2"})
    assert keys_of(rel) == {"a1", "c2"}
    assert keys_of({"seq": 1, "message": "WhoAmI"}) == {"unbound:WhoAmI"}


def test_a_create_is_ours_when_the_server_row_holds_what_we_wrote():
    op = _op("Create", data={"name": "Contoso"}, binds={"p": {"table": "contact", "id": "X"}})
    assert matches_server(op, {"name": "CONTOSO", "_p_value": "x", "other": 1})
    assert not matches_server(op, {"name": "Fabrikam", "_p_value": "x"})
    assert not matches_server(op, {"name": "Contoso", "_p_value": "y"})
