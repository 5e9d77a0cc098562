"""CreateMultiple / UpdateMultiple / UpsertMultiple as docs/reference/service-limits.md §4 and
dataverse-webapi.md §7 describe them: all or nothing, only where sdkmessagefilters has them."""

from __future__ import annotations

import typing as t
import uuid

import httpx
import pytest

from fixtures.emulator import start, writes

NS = "Microsoft.Dynamics.CRM."


@pytest.fixture
def emu():
    with start(token=None) as e:
        yield e


@pytest.fixture
def http(emu):
    with httpx.Client(base_url=emu.api_url) as c:
        yield c


def _id() -> str:
    return str(uuid.uuid4())


def _targets(table: str, rows: list[dict[str, t.Any]]) -> dict[str, t.Any]:
    return {"Targets": [{"@odata.type": NS + table, **row} for row in rows]}


def test_create_multiple_answers_the_ids_in_order_and_stores_every_target(emu, http):
    given = _id()
    resp = http.post(
        "accounts/Microsoft.Dynamics.CRM.CreateMultiple",
        json=_targets("account", [{"name": "A"}, {"name": "B", "accountid": given}]),
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["@odata.context"].endswith("#Microsoft.Dynamics.CRM.CreateMultipleResponse")
    ids = body["Ids"]
    assert len(ids) == 2 and ids[1] == given
    assert [http.get(f"accounts({i})").json()["name"] for i in ids] == ["A", "B"]
    assert all(writes.state(emu.store).creates[("accounts", i)] == 1 for i in ids)


def test_create_multiple_is_all_or_nothing(emu, http):
    taken = _id()
    http.post("accounts", json={"accountid": taken, "name": "exists"})
    before = emu.store.counts()["accounts"]
    fresh = _id()
    resp = http.post(
        "accounts/Microsoft.Dynamics.CRM.CreateMultiple",
        json=_targets("account", [{"accountid": fresh, "name": "new"}, {"accountid": taken}]),
    )
    assert resp.status_code == 412
    assert resp.json()["error"]["code"] == "0x80040237"
    assert emu.store.counts()["accounts"] == before
    assert http.get(f"accounts({fresh})").status_code == 404
    assert writes.state(emu.store).creates[("accounts", fresh)] == 0


def test_update_multiple_changes_every_target_or_none(emu, http):
    a, b = _id(), _id()
    for key in (a, b):
        http.post("contacts", json={"contactid": key, "lastname": "old"})
    ok = http.post(
        "contacts/Microsoft.Dynamics.CRM.UpdateMultiple",
        json=_targets("contact", [{"contactid": a, "lastname": "A"}, {"contactid": b}]),
    )
    assert (ok.status_code, ok.content) == (204, b"")
    assert http.get(f"contacts({a})").json()["lastname"] == "A"
    gone = http.post(
        "contacts/Microsoft.Dynamics.CRM.UpdateMultiple",
        json=_targets("contact", [{"contactid": b, "lastname": "B"}, {"contactid": _id()}]),
    )
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "0x80040217")
    assert http.get(f"contacts({b})").json()["lastname"] == "old"  # rolled back


def test_upsert_multiple_by_primary_and_alternate_key(emu, http):
    a = _id()
    http.post("accounts", json={"accountid": a, "name": "old", "accountnumber": "N-1"})
    resp = http.post(
        "accounts/Microsoft.Dynamics.CRM.UpsertMultiple",
        json=_targets(
            "account",
            [
                {"@odata.id": "accounts(accountnumber='N-1')", "name": "by key"},
                {"@odata.id": "accounts(accountnumber='N-2')", "name": "created"},
                {"accountid": (b := _id()), "name": "by id"},
            ],
        ),
    )
    assert resp.status_code == 204
    assert http.get(f"accounts({a})").json()["name"] == "by key"
    created = http.get("accounts(accountnumber='N-2')").json()
    assert created["name"] == "created" and created["accountnumber"] == "N-2"
    assert http.get(f"accounts({b})").json()["name"] == "by id"
    undeclared = http.post(
        "accounts/Microsoft.Dynamics.CRM.UpsertMultiple",
        json=_targets("account", [{"@odata.id": "accounts(name='x')"}]),
    )
    assert undeclared.status_code == 400


def test_only_tables_whose_filters_have_the_message(http):
    resp = http.post(
        "incidents/Microsoft.Dynamics.CRM.CreateMultiple",
        json=_targets("incident", [{"title": "t"}]),
    )
    assert resp.status_code == 400
    assert "does not support entities of type 'incident'" in resp.json()["error"]["message"]
    assert http.get("incidents").json()["value"] == []


def test_every_target_needs_its_odata_type(http):
    untyped = http.post(
        "accounts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": [{"name": "A"}]}
    )
    assert untyped.status_code == 400 and "@odata.type" in untyped.json()["error"]["message"]
    wrong = http.post(
        "accounts/Microsoft.Dynamics.CRM.CreateMultiple", json=_targets("contact", [{}])
    )
    assert wrong.status_code == 400
    assert http.get("accounts").json()["value"] == []


def test_a_lost_acknowledgement_applies_once_and_the_replay_is_refused_whole(emu, http):
    ids = [_id(), _id()]
    body = _targets("task", [{"taskid": i, "subject": "s"} for i in ids])
    emu.faults.lose_response(path="Microsoft.Dynamics.CRM.CreateMultiple")
    with pytest.raises(httpx.TransportError):
        http.post("tasks/Microsoft.Dynamics.CRM.CreateMultiple", json=body)
    assert [r.fault for r in emu.requests("tasks/Microsoft")] == ["lost_ack"]
    replay = http.post("tasks/Microsoft.Dynamics.CRM.CreateMultiple", json=body)
    assert (replay.status_code, replay.json()["error"]["code"]) == (412, "0x80040237")
    assert {writes.state(emu.store).creates[("tasks", i)] for i in ids} == {1}
