"""The emulator's ``Microsoft.Dynamics.CRM.In`` query function (docs/reference/
dataverse-webapi.md §2: query functions are namespace-qualified), over a real socket."""

from __future__ import annotations

import httpx

from tests.emulator_fixtures import EMULATOR_TOKEN

AUTH = {"Authorization": f"Bearer {EMULATOR_TOKEN}"}


def _names(emu, filter_text: str, **params: str) -> list[str]:
    r = httpx.get(
        emu.api_url + "sdkmessages",
        params={"$select": "name", "$filter": filter_text, **params},
        headers=AUTH,
    )
    assert r.status_code == 200, r.text
    return sorted(row["name"] for row in r.json()["value"])


def test_in_matches_any_listed_value_case_insensitively(emulator):
    found = _names(
        emulator,
        "Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=['create','Update','Nope'])",
    )
    assert found == ["Create", "Update"]


def test_in_combines_with_other_clauses_and_takes_aliases(emulator):
    found = _names(
        emulator,
        "not Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@p2) and name eq 'Create'"
        " or Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=['Delete'])",
        **{"@p1": "'name'", "@p2": "['Update']"},
    )
    assert found == ["Create", "Delete"]


def test_in_matches_primary_keys_given_as_quoted_guids(emulator):
    rows = httpx.get(emulator.api_url + "sdkmessages?$select=sdkmessageid&$top=3", headers=AUTH)
    ids = [row["sdkmessageid"].upper() for row in rows.json()["value"]]
    quoted = ",".join(f"'{i}'" for i in ids)
    r = httpx.get(
        emulator.api_url + "sdkmessages",
        params={
            "$filter": f"Microsoft.Dynamics.CRM.In(PropertyName='sdkmessageid',"
            f"PropertyValues=[{quoted}])"
        },
        headers=AUTH,
    )
    assert sorted(row["sdkmessageid"] for row in r.json()["value"]) == sorted(
        i.lower() for i in ids
    )


def test_a_malformed_in_is_a_400_naming_the_problem(emulator):
    r = httpx.get(
        emulator.api_url + "sdkmessages",
        params={"$filter": "Microsoft.Dynamics.CRM.In(PropertyName='name')"},
        headers=AUTH,
    )
    assert r.status_code == 400
    assert "PropertyValues" in r.json()["error"]["message"]
    r = httpx.get(
        emulator.api_url + "sdkmessages",
        params={
            "$filter": "Microsoft.Dynamics.CRM.In(PropertyName='nosuchcolumn',PropertyValues=['x'])"
        },
        headers=AUTH,
    )
    assert r.status_code == 400
