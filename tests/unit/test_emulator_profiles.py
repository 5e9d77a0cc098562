"""The emulator serves the mobile offline profile tables like the sdk tables (real socket)."""

from __future__ import annotations

import typing as t
import urllib.parse

import httpx

from tests.emulator_fixtures import EMULATOR_TOKEN

AUTH = {"Authorization": f"Bearer {EMULATOR_TOKEN}"}


def get(emu: t.Any, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.get(emu.api_url + path, headers={**AUTH, **(headers or {})})


def test_items_page_with_next_link_and_keep_the_query(start_emulator: t.Any) -> None:
    emu = start_emulator(max_page_size=4)
    path = "mobileofflineprofileitems?$select=selectedentitytypecode,_regardingobjectid_value"
    r = get(emu, path, {"Prefer": "odata.maxpagesize=3"})
    assert r.headers["Preference-Applied"] == "odata.maxpagesize=3"
    rows = list(r.json()["value"])
    pages = 1
    while "@odata.nextLink" in r.json():
        link = r.json()["@odata.nextLink"]
        assert "$select=selectedentitytypecode" in urllib.parse.unquote(link)
        r = httpx.get(link, headers={**AUTH, "Prefer": "odata.maxpagesize=3"})
        rows += r.json()["value"]
        pages += 1
    assert pages == 3 and len(rows) == emu.store.counts()["mobileofflineprofileitems"] == 9
    assert all(set(row) >= {"@odata.etag", "mobileofflineprofileitemid"} for row in rows)


def test_two_profiles_that_differ(emulator: t.Any) -> None:
    profiles = get(emulator, "mobileofflineprofiles?$select=name&$orderby=name").json()["value"]
    assert [p["name"] for p in profiles] == ["Field Technician", "Sales Rep"]
    tables = {}
    for p in profiles:
        q = (
            "mobileofflineprofileitems?$select=selectedentitytypecode&$filter="
            f"_regardingobjectid_value eq {p['mobileofflineprofileid']}"
        )
        tables[p["name"]] = sorted(
            r["selectedentitytypecode"] for r in get(emulator, q).json()["value"]
        )
    assert tables["Field Technician"] == ["account", "contact", "contoso_inspection", "task"]
    assert tables["Sales Rep"] == ["account", "annotation", "contact", "contoso_region", "incident"]


def test_expand_regarding_profile_and_unknown_column_error(emulator: t.Any) -> None:
    r = get(
        emulator,
        "mobileofflineprofileitems?$select=selectedentitytypecode"
        "&$expand=regardingobjectid($select=name)&$filter=regardingobjectid/name eq 'Sales Rep'",
    )
    assert r.status_code == 200
    assert {row["regardingobjectid"]["name"] for row in r.json()["value"]} == {"Sales Rep"}
    bad = get(emulator, "mobileofflineprofiles?$select=nosuchcolumn")
    assert bad.status_code == 400 and "nosuchcolumn" in bad.json()["error"]["message"]


def test_probe_shape_top_one_by_version_with_count(emulator: t.Any) -> None:
    r = get(
        emulator,
        "mobileofflineprofiles?$select=versionnumber&$orderby=versionnumber desc"
        "&$top=1&$count=true",
    )
    body = r.json()
    assert body["@odata.count"] == 2 and len(body["value"]) == 1
    assert "@odata.nextLink" not in body
