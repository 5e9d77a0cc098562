"""The emulator speaks the Web API as the reference describes (over a real loopback socket)."""

from __future__ import annotations

import httpx
import pytest

from fixtures.emulator import query as q
from tests.emulator_fixtures import EMULATOR_TOKEN

AUTH = {"Authorization": f"Bearer {EMULATOR_TOKEN}"}


def get(emu, path, headers=None, **kw):
    return httpx.get(emu.api_url + path, headers={**AUTH, **(headers or {})}, **kw)


def test_paging_follows_server_maximum_and_preference_applied(start_emulator):
    emu = start_emulator(max_page_size=10)
    r = get(emu, "sdkmessagefilters?$select=availability", {"Prefer": "odata.maxpagesize=50"})
    assert r.headers["Preference-Applied"] == "odata.maxpagesize=10"
    body = r.json()
    ids = [row["sdkmessagefilterid"] for row in body["value"]]
    assert len(ids) == 10 and "$skiptoken=" in body["@odata.nextLink"]
    while "@odata.nextLink" in body:
        body = httpx.get(body["@odata.nextLink"], headers=AUTH).json()
        ids += [row["sdkmessagefilterid"] for row in body["value"]]
    assert len(ids) == len(set(ids)) == emu.store.counts()["sdkmessagefilters"]


def test_top_is_ignored_when_a_page_size_is_preferred(emulator):
    only_top = get(emulator, "sdkmessages?$top=2").json()["value"]
    both = get(emulator, "sdkmessages?$top=2", {"Prefer": "odata.maxpagesize=5"}).json()
    assert len(only_top) == 2 and len(both["value"]) == 5


def test_filter_expand_orderby_and_count(emulator):
    r = get(
        emulator,
        "sdkmessagefilters?$select=primaryobjecttypecode,availability"
        "&$filter=sdkmessageid/name eq @m and (availability eq 1 or availability eq 2)"
        "&$expand=sdkmessageid($select=name)&$orderby=primaryobjecttypecode desc&$count=true"
        "&@m='CONTOSO_scanbadge'",
    )
    body = r.json()
    assert body["@odata.count"] == 2
    assert [row["primaryobjecttypecode"] for row in body["value"]] == [
        "contoso_inspection",
        "contoso_badge",
    ]
    assert all(row["sdkmessageid"]["name"] == "contoso_ScanBadge" for row in body["value"])
    assert all(row["@odata.etag"].startswith('W/"') for row in body["value"])


def test_errors_use_odata_bodies(emulator):
    assert get(emulator, "Account").json()["error"]["code"] == "0x8006088a"
    bad = get(emulator, "sdkmessages?$select=Name")
    assert bad.status_code == 400 and "Could not find a property named 'Name'" in bad.text
    assert get(emulator, "sdkmessages?$skip=3").status_code == 400
    unauth = httpx.get(emulator.api_url + "sdkmessages", headers={"Authorization": "Bearer x"})
    assert unauth.status_code == 401 and "error" in unauth.json()


def test_faults_fire_on_the_scripted_request_only(emulator):
    emulator.faults.throttle(retry_after=7, path="sdkmessages", after=1)
    emulator.faults.drop(path="EntityDefinitions")
    assert get(emulator, "sdkmessages").status_code == 200
    r = get(emulator, "sdkmessages")
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    assert get(emulator, "sdkmessages").status_code == 200
    with pytest.raises(httpx.RemoteProtocolError):
        get(emulator, "EntityDefinitions")
    assert get(emulator, "EntityDefinitions").status_code == 200
    assert [r.status for r in emulator.requests("sdkmessages")] == [200, 429, 200]


def test_metadata_document_is_csdl(emulator):
    r = get(emulator, "$metadata")
    assert r.headers["Content-Type"] == "application/xml"
    assert b'<EntitySet Name="sdkmessagefilters"' in r.content
    assert b'EntityType="Microsoft.Dynamics.CRM.contoso_inspection"' in r.content


@pytest.mark.parametrize(
    ("text", "row", "expected"),
    [
        ("a eq 'X''y'", {"a": "x'Y"}, True),
        ("a ne null and b eq true", {"a": 1, "b": True}, True),
        ("not (a eq 1) or b gt 3", {"a": 1, "b": 2}, False),
        ("startswith(a,'con')", {"a": "Contoso"}, True),
        (
            "OwnershipType eq Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'",
            {"OwnershipType": "UserOwned"},
            True,
        ),
    ],
)
def test_filter_expressions(text, row, expected):
    node = q.parse_filter(text)
    assert q.evaluate(node, row, lambda r, p: r.get(p)) is expected


def test_filter_syntax_errors_are_query_errors():
    with pytest.raises(q.QueryError):
        q.parse_filter("a eq")
    with pytest.raises(q.QueryError):
        q.parse_filter("(a eq 1")


def test_lost_acknowledgement_processes_then_drops(emulator):
    seen = []

    def handler(request):
        seen.append(request.json())
        from fixtures.emulator.server import Response

        return Response(204, [])

    emulator.router.add("POST", "contoso_Recalculate", handler)
    emulator.faults.lose_response(path="contoso_Recalculate", method="POST")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(emulator.api_url + "contoso_Recalculate", json={"n": 1}, headers=AUTH)
    assert seen == [{"n": 1}]
    assert emulator.requests("contoso_Recalculate")[0].fault == "lost_ack"


def test_preferences_in_several_headers_or_one(emulator):
    url = emulator.api_url + "sdkmessagefilters?$select=availability&$count=true"
    annotations = 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"'
    two = httpx.get(
        url,
        headers=[
            ("Authorization", AUTH["Authorization"]),
            ("Prefer", "odata.maxpagesize=3"),
            ("Prefer", annotations),
        ],
    )
    one = get(
        emulator, url[len(emulator.api_url) :], {"Prefer": f"odata.maxpagesize=3,{annotations}"}
    )
    for r in (two, one):
        assert r.headers.get_list("Preference-Applied") == ["odata.maxpagesize=3", annotations]
        assert len(r.json()["value"]) == 3
    row = get(
        emulator,
        "sdkmessagefilters?$select=_sdkmessageid_value&$top=1",
        {"Prefer": annotations},
    ).json()["value"][0]
    assert "_sdkmessageid_value@OData.Community.Display.V1.FormattedValue" in row
    assert list(row).index("_sdkmessageid_value@OData.Community.Display.V1.FormattedValue") < list(
        row
    ).index("_sdkmessageid_value")
