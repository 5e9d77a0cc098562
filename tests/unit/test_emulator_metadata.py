"""EntityDefinitions(...)/Attributes and /Keys, IsPrivate, and learnt columns (reference §3.1)."""

from __future__ import annotations

import httpx
import pytest

from fixtures.emulator import start


@pytest.fixture
def http():
    with start(token=None) as emu, httpx.Client(base_url=emu.api_url) as c:
        yield c


def test_attributes_type_cast_keys_and_single_attribute(http):
    base = "EntityDefinitions(LogicalName='account')"
    picklists = http.get(
        base + "/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
        params={"$select": "LogicalName", "$expand": "OptionSet($select=Options)"},
    ).json()["value"]
    assert [p["LogicalName"] for p in picklists] == ["industrycode"]
    labels = [
        o["Label"]["LocalizedLabels"][0]["Label"] for o in picklists[0]["OptionSet"]["Options"]
    ]
    assert labels == ["Accounting", "Agriculture", "Consulting"]
    strings = http.get(
        base + "/Attributes",
        params={"$filter": "AttributeType eq Microsoft.Dynamics.CRM.AttributeTypeCode'String'"},
    ).json()["value"]
    assert {"name", "accountnumber", "telephone1"} <= {a["LogicalName"] for a in strings}
    one = http.get(base + "/Attributes(LogicalName='name')").json()
    assert one["IsPrimaryName"] is True
    assert http.get(base + "/Attributes(LogicalName='nope')").status_code == 404
    keys = http.get(base + "/Keys").json()["value"]
    assert [k["KeyAttributes"] for k in keys] == [["accountnumber"]]
    assert http.get("EntityDefinitions(LogicalName='nope')/Keys").status_code == 404


def test_entity_definitions_hide_collections_and_answer_is_private(http):
    rows = http.get("EntityDefinitions", params={"$filter": "IsPrivate eq false"}).json()["value"]
    assert {"account", "sdkmessage", "sdkmessagefilter"} <= {r["LogicalName"] for r in rows}
    assert all("Attributes" not in r and "Keys" not in r for r in rows)


def test_columns_are_learnt_from_writes(http):
    assert http.get("tasks", params={"$select": "contoso_mood"}).status_code == 400
    http.post("tasks", json={"subject": "s", "contoso_mood": "fine"})
    rows = http.get("tasks", params={"$filter": "contoso_mood eq 'fine'"}).json()["value"]
    assert [r["contoso_mood"] for r in rows] == ["fine"]
    attrs = http.get("EntityDefinitions(LogicalName='task')/Attributes").json()["value"]
    assert {"contoso_mood": "String"}.items() <= {
        a["LogicalName"]: a["AttributeType"] for a in attrs
    }.items()


def test_fetchxml_refuses_what_it_does_not_emulate(http):
    for xml in (
        "<fetch aggregate='true'><entity name='task'/></fetch>",
        "<fetch><entity name='task'><filter><condition attribute='subject' "
        "operator='begins-with' value='a'/></filter></entity></fetch>",
    ):
        resp = http.get("tasks", params={"fetchXml": xml})
        assert resp.status_code == 400
        assert "does not support" in resp.json()["error"]["message"]
    assert (
        http.get(
            "tasks", params={"fetchXml": "<fetch><entity name='account'/></fetch>"}
        ).status_code
        == 400
    )
