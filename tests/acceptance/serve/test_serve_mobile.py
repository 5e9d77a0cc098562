"""Mode ``mobile`` and ``profile`` through the service: the library's answers, over HTTP."""

from __future__ import annotations

import json

import pytest

from metadata import snapshot as snapshot_file
from tests import mobile_support
from validator.api import load_engine
from validator.linter import LintConfig, Linter
from validator.readers import native

FIELD = "Field Technician"


@pytest.fixture
def mobile_server(tmp_path, start_server):
    path = tmp_path / "mobile-snapshot.json"
    snapshot_file.write(mobile_support.snapshot(), path)
    return start_server("--snapshot", str(path)), str(path)


@pytest.mark.parametrize(
    "params",
    [
        {"message": "Update", "table": "account", "mode": "mobile", "profile": FIELD},
        {"message": "Create", "table": "queue", "mode": "mobile", "profile": "field technician"},
        {"message": "Assign", "table": "account", "mode": "mobile", "profile": FIELD},
        {"message": "Create", "table": "incident", "mode": "mobile", "profile": "Sales"},
        {"message": "Create", "mode": "mobile", "profile": FIELD},
        {"message": "Update", "table": "account", "mode": "offline", "profile": FIELD},
    ],
)
def test_check_mobile_is_the_library_answer(mobile_server, params) -> None:
    server, path = mobile_server
    expected = load_engine(snapshot=path).check(
        params["message"], params.get("table"), None, params["mode"], profile=params["profile"]
    )
    with server.client() as http:
        r = http.get("/v1/check", params=params)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc == json.loads(json.dumps(expected.to_json()))
    assert "mobile" in doc and "profile" in doc


def test_check_mobile_profile_errors(mobile_server) -> None:
    server, _ = mobile_server
    with server.client() as http:
        r = http.get(
            "/v1/check",
            params={
                "message": "Update",
                "table": "account",
                "mode": "mobile",
                "profile": "Feild Technician",
            },
        )
        assert r.status_code == 404
        err = r.json()["error"]
        assert err["code"] == "unknown-profile" and err["suggestions"] == [FIELD]
        # Two profiles in the data and none named: a bad request that says how to choose.
        r = http.get(
            "/v1/check", params={"message": "Update", "table": "account", "mode": "mobile"}
        )
        assert r.status_code == 400 and "choose one" in r.json()["error"]["message"]


def test_mobile_over_data_without_profiles_is_400(published_server) -> None:
    with published_server.client() as http:
        r = http.get(
            "/v1/check", params={"message": "Create", "table": "account", "mode": "mobile"}
        )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "data-unavailable"
    assert "no mobile offline profiles" in r.json()["error"]["message"]


def test_lint_mobile_is_the_library_report(mobile_server) -> None:
    server, path = mobile_server
    plan = {
        "operations": [
            {"message": "Create", "table": "contact", "data": {"lastname": "Ng"}},
            {"message": "Create", "table": "queue", "data": {"name": "q"}},
            {"message": "Assign", "table": "account", "id": "00000000-0000-0000-0000-000000000001"},
        ]
    }
    body = json.dumps(plan, indent=2)
    linter = Linter(
        load_engine(snapshot=path), LintConfig(mode="mobile", profile=FIELD, max_metadata_age=None)
    )
    expected = [
        d.to_json() for d in linter.lint_operations("p.json", native.iter_json(body, "p.json"))
    ]
    assert {d["code"] for d in expected} == {"MA011", "MA012"}
    with server.client() as http:
        r = http.post(
            "/v1/lint",
            params={
                "mode": "mobile",
                "profile": FIELD,
                "path": "p.json",
                "max_metadata_age": "off",
            },
            content=body,
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 200, r.text
        assert r.json()["diagnostics"] == expected
        # The harvest in this snapshot is old: MA007 unless the age check is turned off.
        r = http.post(
            "/v1/lint",
            params={"mode": "mobile", "profile": FIELD},
            content=body,
            headers={"content-type": "application/json"},
        )
        assert "MA007" in {d["code"] for d in r.json()["diagnostics"]}
        r = http.post(
            "/v1/lint",
            params={"mode": "mobile", "profile": "Nobody"},
            content=body,
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown-profile"
