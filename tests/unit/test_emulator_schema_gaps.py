"""What the emulator does not emulate answers a clear 400 through the SDK (over https), never a
silent wrong answer: the SDK's SQL queries, schema changes and RelationshipDefinitions; and a
table the SDK deletes is gone (its records and message filters too)."""

from __future__ import annotations

import pytest

pytest.importorskip("PowerPlatform.Dataverse")  # the test extra installs it

from PowerPlatform.Dataverse.core.errors import HttpError


def test_sql_query_is_refused_not_answered_with_every_row(sdk_client, sdk_emulator):
    sdk_client.records.create("account", [{"name": "a"}, {"name": "b"}])
    with pytest.raises(HttpError) as err:
        sdk_client.query.sql("SELECT name FROM account WHERE name = 'a'")
    assert err.value.status_code == 400
    assert "does not support the 'sql' query" in str(err.value)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (lambda c: c.tables.create("new_Widget", {"new_size": "int"}), "schema changes"),
        (lambda c: c.tables.add_columns("contoso_inspection", {"contoso_note": "string"}),
         "schema changes"),
        (lambda c: c.tables.create_alternate_key("contact", "contact_ln", ["lastname"]),
         "schema changes"),
        (lambda c: c.tables.update_column("account", "name", {"max_length": 200}),
         "schema changes"),
        (lambda c: c.tables.list_relationships(), "RelationshipDefinitions"),
    ],
)  # fmt: skip
def test_schema_changes_and_relationships_are_a_400_that_says_so(
    sdk_client, sdk_emulator, call, expected
):
    before = sdk_emulator.store.rows("EntityDefinitions")
    with pytest.raises(HttpError) as err:
        call(sdk_client)
    assert err.value.status_code == 400
    assert f"does not emulate {expected}" in str(err.value) and "seed" in str(err.value)
    assert sdk_emulator.store.rows("EntityDefinitions") == before  # nothing half-stored


def test_a_deleted_table_is_gone_with_its_records_and_filters(sdk_client, sdk_emulator):
    sdk_client.records.create("contoso_region", {"contoso_name": "North"})
    assert sdk_client.tables.get("contoso_region") is not None
    sdk_client.tables.delete("contoso_region")
    assert sdk_client.tables.get("contoso_region") is None
    assert "contoso_regions" not in sdk_emulator.store.tables
    filters = sdk_emulator.store.rows("sdkmessagefilters")
    assert not [f for f in filters if f.get("primaryobjecttypecode") == "contoso_region"]
    assert [f for f in filters if f.get("primaryobjecttypecode") == "account"]
    with pytest.raises(HttpError) as err:  # the set is gone, as on an org
        sdk_client.records.list("contoso_region")
    assert err.value.status_code == 404


def test_apply_aggregation_is_refused_not_ignored(sdk_client, sdk_emulator):
    import ssl

    import httpx

    from tests.emulator_fixtures import EMULATOR_TOKEN

    sdk_client.records.create("account", [{"name": "a"}, {"name": "b"}])
    assert sdk_emulator.ca_file is not None
    with httpx.Client(verify=ssl.create_default_context(cafile=sdk_emulator.ca_file)) as http:
        resp = http.get(
            sdk_emulator.api_url + "accounts",
            params={"$apply": "aggregate(accountid with countdistinct as n)"},
            headers={"Authorization": f"Bearer {EMULATOR_TOKEN}"},
        )
    assert resp.status_code == 400
    assert "does not support $apply" in resp.json()["error"]["message"]
