"""Microsoft's Python SDK (powerplatform-dataverse-client) against the emulator over https:
one test per documented operation, asserting on what the SDK returns and what was stored."""

from __future__ import annotations

import ssl
import typing as t
import uuid

import httpx
import pytest

pytest.importorskip("PowerPlatform.Dataverse")  # the test extra installs it

from PowerPlatform.Dataverse.core.errors import HttpError


def _row(emu, entity_set: str, key: str) -> dict[str, t.Any]:
    row: dict[str, t.Any] = emu.store.get(entity_set, key)
    return row


def test_tls_is_verified_against_the_emulators_own_ca(sdk_emulator):
    with httpx.Client(verify=ssl.create_default_context(cafile=sdk_emulator.ca_file)) as http:
        assert http.get(sdk_emulator.api_url).status_code in (200, 401)
    with pytest.raises(httpx.ConnectError), httpx.Client() as http:  # system roots only
        http.get(sdk_emulator.api_url)
    assert sdk_emulator.url.startswith("https://127.0.0.1:")


def test_create_one_with_a_choice_label_and_retrieve_it(sdk_client, sdk_emulator):
    rid = sdk_client.records.create(
        "account", {"name": "Contoso", "industrycode": "Consulting", "telephone1": "555"}
    )
    stored = _row(sdk_emulator, "accounts", rid)
    assert (stored["name"], stored["industrycode"]) == ("Contoso", 3)  # label -> value
    # The SDK asked for the table's choice columns through the documented type cast.
    casts = sdk_emulator.requests("EntityDefinitions(LogicalName='account')/Attributes/")
    assert casts and casts[0].status == 200
    got = sdk_client.records.retrieve("account", rid, select=["name", "telephone1"])
    assert (got["name"], got["telephone1"]) == ("Contoso", "555")


def test_create_many_is_one_createmultiple(sdk_client, sdk_emulator):
    ids = sdk_client.records.create("contact", [{"lastname": "A"}, {"lastname": "B"}])
    assert [_row(sdk_emulator, "contacts", i)["lastname"] for i in ids] == ["A", "B"]
    assert sdk_emulator.count("contacts/Microsoft.Dynamics.CRM.CreateMultiple", "POST") == 1


def test_create_many_on_a_table_without_the_bulk_message_is_refused(sdk_client, sdk_emulator):
    with pytest.raises(HttpError) as err:
        sdk_client.records.create("incident", [{"title": "a"}, {"title": "b"}])
    assert err.value.status_code == 400
    assert sdk_emulator.store.counts()["incidents"] == 0


def test_update_one_and_many(sdk_client, sdk_emulator):
    a, b = sdk_client.records.create("task", [{"subject": "a"}, {"subject": "b"}])
    sdk_client.records.update("task", a, {"subject": "A"})
    sdk_client.records.update("task", [a, b], {"description": "both"})
    assert _row(sdk_emulator, "tasks", a)["subject"] == "A"
    assert {_row(sdk_emulator, "tasks", k)["description"] for k in (a, b)} == {"both"}
    assert sdk_emulator.count("tasks/Microsoft.Dynamics.CRM.UpdateMultiple", "POST") == 1
    with pytest.raises(HttpError) as err:
        sdk_client.records.update("task", str(uuid.uuid4()), {"subject": "x"})
    assert err.value.status_code == 404


def test_delete_one_and_many(sdk_client, sdk_emulator):
    ids = sdk_client.records.create("contact", [{"lastname": str(i)} for i in range(3)])
    sdk_client.records.delete("contact", ids[0])
    sdk_client.records.delete("contact", ids[1:], use_bulk_delete=False)
    assert sdk_emulator.store.counts()["contacts"] == 0
    with pytest.raises(HttpError) as err:
        sdk_client.records.delete("contact", ids[0])
    assert err.value.status_code == 404


def test_upsert_by_the_alternate_key_the_seed_declares(sdk_client, sdk_emulator):
    sdk_client.records.upsert(
        "account", [{"alternate_key": {"accountnumber": "A-1"}, "record": {"name": "first"}}]
    )
    sdk_client.records.upsert(
        "account", [{"alternate_key": {"accountnumber": "A-1"}, "record": {"name": "again"}}]
    )
    rows = [r for r in sdk_emulator.store.rows("accounts") if r.get("accountnumber") == "A-1"]
    assert [r["name"] for r in rows] == ["again"]  # one record, keyed by its real id
    uuid.UUID(rows[0]["accountid"])
    sdk_client.records.upsert(
        "account",
        [
            {"alternate_key": {"accountnumber": "A-1"}, "record": {"name": "third"}},
            {"alternate_key": {"accountnumber": "A-2"}, "record": {"name": "new"}},
        ],
    )
    by_number = {r["accountnumber"]: r["name"] for r in sdk_emulator.store.rows("accounts")}
    assert by_number == {"A-1": "third", "A-2": "new"}
    keys = sdk_emulator.requests("EntityDefinitions")  # nothing else needed
    assert all(r.status == 200 for r in keys)


def test_list_select_filter_orderby_top_count_and_paging(sdk_client, sdk_emulator):
    assert list(sdk_client.records.list("contoso_region")) == []  # empty table: empty page
    sdk_client.records.create(
        "contoso_inspection", [{"name": f"i{n:02d}", "contoso_score": n} for n in range(12)]
    )
    result = sdk_client.records.list(
        "contoso_inspection",
        select=["name", "contoso_score"],
        filter="contoso_score ge 3",
        orderby=["contoso_score desc"],
        page_size=4,
    )
    names = [r["name"] for r in result]
    assert names == [f"i{n:02d}" for n in range(11, 2, -1)]
    pages = sdk_emulator.requests("contoso_inspections", "GET")
    assert (
        len(pages) == 3
        and "$skiptoken=%3Ccookie%20pagenumber=%222%22%20pagingcookie=%22%253Ccookie"
        in pages[1].query
    )
    top = sdk_client.records.list("contoso_inspection", select=["name"], top=2, count=True)
    assert len(list(top)) == 2
    with pytest.raises(HttpError) as err:
        sdk_client.records.list("contoso_inspection", select=["never_written"])
    assert err.value.status_code == 400


def test_tables_get_list_and_columns(sdk_client, sdk_emulator):
    info = sdk_client.tables.get("account")
    assert (info.entity_set_name, info.primary_id_attribute) == ("accounts", "accountid")
    names = {t["LogicalName"] for t in sdk_client.tables.list()}
    assert {"account", "contoso_inspection", "sdkmessage", "sdkmessagefilter"} <= names
    sdk_client.records.create("account", {"name": "x", "contoso_learnt": True})
    columns = {
        c["LogicalName"]: c["AttributeType"] for c in sdk_client.tables.list_columns("account")
    }
    assert columns["industrycode"] == "Picklist" and columns["contoso_learnt"] == "Boolean"
    assert sdk_client.tables.get("no_such_table") is None


def test_fetchxml_subset_and_a_clear_refusal_for_the_rest(sdk_client):
    sdk_client.records.create("contact", [{"lastname": n, "firstname": "x"} for n in "abcde"])
    xml = (
        "<fetch count='2'><entity name='contact'><attribute name='lastname'/>"
        "<order attribute='lastname' descending='true'/>"
        "<filter type='or'><condition attribute='lastname' operator='in'><value>a</value>"
        "<value>c</value><value>e</value></condition>"
        "<condition attribute='lastname' operator='like' value='b%'/></filter>"
        "</entity></fetch>"
    )
    rows = [r["lastname"] for r in sdk_client.query.fetchxml(xml).execute()]
    assert rows == ["e", "c", "b", "a"]  # paged two at a time through the paging cookie
    joined = (
        "<fetch><entity name='contact'><link-entity name='account' from='accountid' "
        "to='parentcustomerid'/></entity></fetch>"
    )
    with pytest.raises(HttpError) as err:
        sdk_client.query.fetchxml(joined).execute()
    assert err.value.status_code == 400 and "link-entity" in str(err.value)


def test_batch_with_a_changeset_as_the_sdk_sends_it(sdk_client, sdk_emulator):
    batch = sdk_client.batch.new()
    batch.records.create("account", {"name": "outside"})
    with batch.changeset() as cs:
        ref = cs.records.create("account", {"name": "parent"})
        cs.records.create(
            "contact", {"lastname": "child", "parentcustomerid_account@odata.bind": ref}
        )
    result = batch.execute()
    assert [r.status_code for r in result.responses] == [204, 204, 204]
    child = next(r for r in sdk_emulator.store.rows("contacts") if r.get("lastname") == "child")
    parent = _row(sdk_emulator, "accounts", child["_parentcustomerid_account_value"])
    assert parent["name"] == "parent"

    failing = sdk_client.batch.new()
    with failing.changeset() as cs:
        cs.records.create("account", {"name": "rolled back"})
        cs.records.update("account", str(uuid.uuid4()), {"name": "missing"})
    outcome = failing.execute(continue_on_error=True)
    assert [r.status_code for r in outcome.responses] == [404]
    assert all(r.get("name") != "rolled back" for r in sdk_emulator.store.rows("accounts"))
