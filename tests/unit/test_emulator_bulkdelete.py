"""The emulator's BulkDelete action: the SDK's delete of many ids (over https) deletes exactly
the records its QuerySet selects and answers the JobId of a completed bulk delete job; what the
emulator does not emulate is a 400 that deletes nothing."""

from __future__ import annotations

import ssl
import typing as t
import uuid

import httpx
import pytest

pytest.importorskip("PowerPlatform.Dataverse")  # the test extra installs it

from fixtures.emulator import Emulator, writes
from tests.emulator_fixtures import EMULATOR_TOKEN


def _http(emu: Emulator) -> httpx.Client:
    assert emu.ca_file is not None
    return httpx.Client(
        base_url=emu.api_url,
        headers={"Authorization": f"Bearer {EMULATOR_TOKEN}"},
        verify=ssl.create_default_context(cafile=emu.ca_file),
    )


def _job(query: dict[str, t.Any], **overrides: t.Any) -> dict[str, t.Any]:
    body = {
        "JobName": "clean up",
        "SendEmailNotification": False,
        "ToRecipients": [],
        "CCRecipients": [],
        "RecurrencePattern": "",
        "StartDateTime": "2026-01-01T00:00:00Z",
        "QuerySet": [{"@odata.type": "Microsoft.Dynamics.CRM.QueryExpression", **query}],
    }
    body.update(overrides)
    return body


def _condition(column: str, operator: str, *values: t.Any) -> dict[str, t.Any]:
    return {
        "AttributeName": column,
        "Operator": operator,
        "Values": [{"Value": v, "Type": "System.String"} for v in values],
    }


def test_sdk_delete_of_many_ids_deletes_them_and_returns_the_jobs_id(sdk_client, sdk_emulator):
    ids = sdk_client.records.create("contact", [{"lastname": str(i)} for i in range(4)])
    job = sdk_client.records.delete("contact", ids[:3])
    assert sdk_emulator.count("BulkDelete", "POST") == 1  # one request, the documented action
    assert [r["contactid"] for r in sdk_emulator.store.rows("contacts")] == [ids[3]]
    # The JobId is the bulk delete job's asyncoperation, completed, with its counts.
    with _http(sdk_emulator) as http:
        op = http.get(f"asyncoperations({job})").json()
        counts = http.get(
            "bulkdeleteoperations", params={"$filter": f"_asyncoperationid_value eq {job}"}
        ).json()["value"]
    assert (op["operationtype"], op["statecode"], op["statuscode"]) == (13, 3, 30)
    assert op["name"].startswith("Bulk delete contact records")
    assert [(c["successcount"], c["failurecount"]) for c in counts] == [(3, 0)]
    assert sdk_client.records.retrieve("contact", ids[0]) is None  # the SDK's 404
    assert sdk_client.records.retrieve("contact", ids[3]) is not None


def test_sdk_batch_delete_of_many_ids_is_a_bulkdelete_part(sdk_client, sdk_emulator):
    ids = sdk_client.records.create("task", [{"subject": s} for s in "abc"])
    batch = sdk_client.batch.new()
    batch.records.delete("task", ids[1:])
    (answer,) = batch.execute().responses
    assert answer.status_code == 200
    uuid.UUID(answer.data["JobId"])
    assert [r["taskid"] for r in sdk_emulator.store.rows("tasks")] == [ids[0]]


def test_query_set_filters_with_and_or_and_nested_filters(sdk_emulator):
    writes.ensure_user_sets(sdk_emulator.store)
    for name, city in (("a", "Oslo"), ("b", "Rome"), ("c", "Oslo"), ("d", None)):
        sdk_emulator.store.insert("accounts", {"name": name, "address1_city": city})
    criteria = {
        "FilterOperator": "Or",
        "Conditions": [_condition("name", "Equal", "B")],  # case-insensitive, as on an org
        "Filters": [
            {
                "FilterOperator": "And",
                "Conditions": [
                    _condition("address1_city", "In", "oslo", "paris"),
                    _condition("name", "NotEqual", "a"),
                ],
            },
            {"Conditions": [_condition("address1_city", "Null")]},
        ],
    }
    with _http(sdk_emulator) as http:
        resp = http.post("BulkDelete", json=_job({"EntityName": "account", "Criteria": criteria}))
    assert resp.status_code == 200, resp.text
    assert resp.json()["@odata.context"].endswith("#Microsoft.Dynamics.CRM.BulkDeleteResponse")
    assert [r["name"] for r in sdk_emulator.store.rows("accounts")] == ["a"]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (_job({"EntityName": "account", "Criteria": {"Conditions": [
            _condition("name", "Like", "%a%")]}}), "ConditionOperator 'Like' is not emulated"),
        (_job({"EntityName": "account", "LinkEntities": [{"LinkToEntityName": "contact"}]}),
         "LinkEntities in a QueryExpression are not emulated"),
        (_job({"EntityName": "nosuchtable"}), "'nosuchtable' was not found"),
        ({k: v for k, v in _job({"EntityName": "account"}).items() if k != "JobName"},
         "required parameter 'JobName' is missing"),
        (_job({"EntityName": "account"}, QuerySet=[]), "'QuerySet' is empty"),
    ],
)  # fmt: skip
def test_what_is_not_emulated_is_a_clear_400_that_deletes_nothing(sdk_emulator, body, expected):
    writes.ensure_user_sets(sdk_emulator.store)
    sdk_emulator.store.insert("accounts", {"name": "keep me"})
    with _http(sdk_emulator) as http:
        resp = http.post("BulkDelete", json=body)
    assert resp.status_code == 400
    assert expected in resp.json()["error"]["message"]
    assert [r["name"] for r in sdk_emulator.store.rows("accounts")] == ["keep me"]
    assert sdk_emulator.store.rows("asyncoperations") == []


def test_a_refused_table_makes_the_job_fail_and_deletes_nothing(sdk_client, sdk_emulator):
    ids = sdk_client.records.create("contact", [{"lastname": "x"}, {"lastname": "y"}])
    writes.state(sdk_emulator.store).reject(
        "contacts", 403, "0x80040220", "Principal user is missing prvDeleteContact privilege."
    )
    job = sdk_client.records.delete("contact", ids)
    assert len(sdk_emulator.store.rows("contacts")) == 2
    op = sdk_emulator.store.get("asyncoperations", job)
    assert (op["statecode"], op["statuscode"]) == (3, 31)
    assert "prvDeleteContact" in op["message"]
    (counts,) = sdk_emulator.store.rows("bulkdeleteoperations")
    assert (counts["successcount"], counts["failurecount"]) == (0, 2)
