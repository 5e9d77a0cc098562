"""The emulator's RetrieveMetadataChanges: the SDK's typed column reads (over https) get the
table's attributes with their typed properties; what is not emulated is a 400 saying so."""

from __future__ import annotations

import json
import ssl
import typing as t

import httpx
import pytest

pytest.importorskip("PowerPlatform.Dataverse")  # the test extra installs it

from fixtures.emulator import Emulator
from tests.emulator_fixtures import EMULATOR_TOKEN


def _call(emu: Emulator, query: dict[str, t.Any], **more: t.Any) -> httpx.Response:
    assert emu.ca_file is not None
    args = ",".join(["Query=@p1", *(f"{k}=@{k}" for k in more)])
    params = {"@p1": json.dumps(query), **{f"@{k}": json.dumps(v) for k, v in more.items()}}
    with httpx.Client(verify=ssl.create_default_context(cafile=emu.ca_file)) as http:
        return http.get(
            f"{emu.api_url}RetrieveMetadataChanges({args})",
            params=params,
            headers={"Authorization": f"Bearer {EMULATOR_TOKEN}"},
        )


def _logical(name: str) -> dict[str, t.Any]:
    return {
        "PropertyName": "LogicalName",
        "ConditionOperator": "Equals",
        "Value": {"Type": "System.String", "Value": name},
    }


def test_sdk_typed_list_columns_and_get_column(sdk_client, sdk_emulator):
    columns = sdk_client.tables.list_columns("account", typed=True)
    by_name = {c["LogicalName"]: c for c in columns}
    assert by_name["name"]["AttributeType"] == "String"
    assert by_name["name"]["MaxLength"] == 160  # a typed property, no type cast needed
    assert set(by_name["name"]) <= {
        "@odata.type", "MetadataId", "HasChanged", "LogicalName", "SchemaName", "AttributeType",
        "AttributeTypeName", "DisplayName", "RequiredLevel", "MaxLength", "Format",
        "FormatName", "MinValue", "MaxValue", "Precision",
    }  # fmt: skip
    one = sdk_client.tables.get_column("account", "name", typed=True)
    assert one is not None and (one["LogicalName"], one["MaxLength"]) == ("name", 160)
    assert sdk_client.tables.get_column("account", "no_such_column", typed=True) is None
    assert sdk_emulator.count("RetrieveMetadataChanges", "GET") == 3
    assert all(r.status == 200 for r in sdk_emulator.requests("RetrieveMetadataChanges"))


def test_columns_learnt_from_writes_are_listed_too(sdk_client, sdk_emulator):
    sdk_client.records.create("contoso_inspection", {"name": "i", "contoso_score": 4})
    names = {
        c["LogicalName"] for c in sdk_client.tables.list_columns("contoso_inspection", typed=True)
    }
    assert "contoso_score" in names


def test_criteria_or_in_and_properties_choose_tables_and_what_they_carry(sdk_emulator):
    query = {
        "Criteria": {
            "FilterOperator": "Or",
            "Conditions": [_logical("contact")],
            "Filters": [{"Conditions": [{
                "PropertyName": "LogicalName", "ConditionOperator": "In",
                "Value": {"Type": "System.String[]", "Value": ["task", "nosuch"]},
            }]}],
        },
        "Properties": {"PropertyNames": ["LogicalName", "EntitySetName"]},
    }  # fmt: skip
    resp = _call(sdk_emulator, query)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["@odata.context"].endswith(
        "#Microsoft.Dynamics.CRM.RetrieveMetadataChangesResponse"
    )
    assert body["ServerVersionStamp"]
    got = sorted((e["LogicalName"], e["EntitySetName"]) for e in body["EntityMetadata"])
    assert got == [("contact", "contacts"), ("task", "tasks")]
    assert all("Attributes" not in e and "ObjectTypeCode" not in e for e in body["EntityMetadata"])


@pytest.mark.parametrize(
    ("query", "more", "expected"),
    [
        ({"Criteria": {"Conditions": [_logical("account")]}}, {"ClientVersionStamp": "1!x"},
         "'ClientVersionStamp' (changes since an earlier call) is not emulated"),
        ({"KeyQuery": {"Properties": {"AllProperties": True}}}, {},
         "'KeyQuery' in the EntityQueryExpression is not emulated"),
        ({"Criteria": {"Conditions": [{**_logical("account"), "ConditionOperator": "Like"}]}},
         {}, "ConditionOperator 'Like' is not emulated"),
    ],
)  # fmt: skip
def test_what_is_not_emulated_is_a_clear_400(sdk_emulator, query, more, expected):
    resp = _call(sdk_emulator, query, **more)
    assert resp.status_code == 400
    assert expected in resp.json()["error"]["message"]
