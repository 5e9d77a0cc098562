"""Every endpoint of ``msgavail serve`` over a real socket, against the CLI's own answers.

One server over the published default serves the whole module (read-only requests). The
service must say what the CLI says: /v1/check is ``check --format json`` and /v1/lint is
``lint --format json`` for the same input, compared whole.
"""

from __future__ import annotations

import json
import os

import httpx
import pytest
from openapi_spec_validator import validate

from metadata import published
from metadata import snapshot as snapshot_file
from tests.cli_runner import run_cli
from tests.serve_support import ServeProcess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
CASES = os.path.join(ROOT, "fixtures", "lint", "cases")
MALFORMED = os.path.join(ROOT, "fixtures", "lint", "malformed")
FORMAT_OF = {".json": "json", ".yaml": "yaml", ".batch": "batch", ".xml": "soap"}
MEDIA_OF = {
    "json": "application/json",
    "yaml": "application/yaml",
    "batch": "multipart/mixed; boundary=batch",
    "soap": "text/xml",
}


@pytest.fixture(scope="module")
def http(published_server: ServeProcess):
    with published_server.client() as client:
        yield client


def test_start_line_names_the_chosen_port_and_source(published_server: ServeProcess) -> None:
    assert published_server.host == "127.0.0.1"  # loopback unless asked
    assert published_server.port != 0
    assert published_server.source.startswith("published default")


@pytest.mark.parametrize(
    ("args", "params"),
    [
        (["Create", "queue"], {"message": "Create", "table": "queue"}),
        (["create", "account"], {"message": "create", "table": "account"}),
        (["Create"], {"message": "Create"}),
        (
            ["Assign", "incident", "--mode", "online"],
            {"message": "Assign", "table": "incident", "mode": "online"},
        ),
        (["Retrieve", "contact"], {"message": "Retrieve", "table": "contact"}),
        (["SetState", "case"], {"message": "SetState", "table": "case"}),
        (
            ["Create", "new_widget", "--ownership", "user"],
            {"message": "Create", "table": "new_widget", "ownership": "user"},
        ),
    ],
)
def test_check_is_the_cli_json_object(http, capsys, args: list[str], params) -> None:
    cli = run_cli(["check", *args, "--format", "json"], capsys)
    expected = json.loads(cli.stdout)
    r = http.get("/v1/check", params=params)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == expected
    # Asked twice (the second answer comes from the memo): the same object.
    assert http.get("/v1/check", params=params).json() == expected


def test_check_unknown_names_are_404_with_suggestions(http) -> None:
    r = http.get("/v1/check", params={"message": "Craete", "table": "account"})
    assert r.status_code == 404
    err = r.json()["error"]
    assert err["code"] == "unknown-message" and "Create" in err["suggestions"]
    r = http.get("/v1/check", params={"message": "Create", "table": "acount"})
    assert r.status_code == 404
    err = r.json()["error"]
    assert err["code"] == "unknown-table" and "account" in err["suggestions"]
    assert err["name"] == "acount" and "did you mean" in err["message"]


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({}, "'message' is required"),
        ({"message": ""}, "'message' is required"),
        ({"message": "Create", "tabel": "account"}, "unknown parameter 'tabel'"),
        ({"message": "Create", "table": "account", "mode": "sideways"}, "unknown mode"),
        ({"message": "Create", "secondary": "account"}, "secondary table needs a primary"),
        ({"message": "Create", "table": "new_x", "ownership": "team"}, "unknown ownership"),
    ],
)
def test_check_bad_parameters_are_400(http, params, needle: str) -> None:
    r = http.get("/v1/check", params=params)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "bad-parameter"
    assert needle in r.json()["error"]["message"]


def _cases() -> list[str]:
    keep = []
    for name in sorted(os.listdir(CASES)):
        if name.endswith(".expect"):
            continue
        with open(os.path.join(CASES, name + ".expect")) as fh:
            args = json.load(fh).get("args", [])
        if all(a in ("--mode", "online", "offline") for a in args):
            keep.append(name)
    return keep


@pytest.mark.parametrize("name", _cases())
def test_lint_is_the_cli_json_report(http, capsys, name: str) -> None:
    with open(os.path.join(CASES, name + ".expect")) as fh:
        args = json.load(fh).get("args", [])
    path = os.path.join(CASES, name)
    cli = run_cli(["lint", path, "--format", "json", *args], capsys)
    expected = json.loads(cli.stdout)
    fmt = FORMAT_OF[os.path.splitext(name)[1]]
    params = {"path": path, "format": fmt}
    if "--mode" in args:
        params["mode"] = args[args.index("--mode") + 1]
    with open(path, "rb") as fh:
        body = fh.read()
    r = http.post("/v1/lint", params=params, content=body)
    assert r.status_code == 200, r.text
    assert r.json() == expected
    # The format chosen by Content-Type instead of the parameter: the same report.
    del params["format"]
    r = http.post("/v1/lint", params=params, content=body, headers={"content-type": MEDIA_OF[fmt]})
    assert r.json() == expected


@pytest.mark.parametrize(
    "name", sorted(n for n in os.listdir(MALFORMED) if not n.endswith(".expect"))
)
def test_malformed_plans_give_the_read_error_never_a_500(http, capsys, name: str) -> None:
    path = os.path.join(MALFORMED, name)
    cli = run_cli(["lint", path, "--format", "json"], capsys)
    assert cli.exit_code == 2
    cli_error = cli.stderr.strip().splitlines()[0].removeprefix("msgavail: error: ")
    with open(path, "rb") as fh:
        body = fh.read()
    fmt = FORMAT_OF[os.path.splitext(name)[1]]
    r = http.post("/v1/lint", params={"path": path, "format": fmt}, content=body)
    assert r.status_code == 422, r.text
    report = r.json()
    assert report["failures"][0]["text"] == cli_error
    assert report["summary"]["operations"] == 0 and report["diagnostics"] == []


def test_lint_sarif_by_accept_header(http) -> None:
    body = b'{"operations": [{"message": "Create", "table": "queue"}]}'
    r = http.post(
        "/v1/lint",
        content=body,
        headers={"content-type": "application/json", "accept": "application/sarif+json"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/sarif+json")
    sarif = r.json()
    assert sarif["version"] == "2.1.0"
    [result] = sarif["runs"][0]["results"]
    assert result["ruleId"] == "MA005"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 1


def test_lint_mode_select_and_ignore(http) -> None:
    body = (
        b"operations:\n  - message: Create\n    table: queue\n"
        b"  - message: Craete\n    table: account\n"
    )
    offline = http.post("/v1/lint", params={"format": "yaml"}, content=body).json()
    assert [d["code"] for d in offline["diagnostics"]] == ["MA005", "MA001"]
    online = http.post("/v1/lint", params={"format": "yaml", "mode": "online"}, content=body)
    assert [d["code"] for d in online.json()["diagnostics"]] == ["MA001"]
    ignored = http.post("/v1/lint", params={"format": "yaml", "ignore": "MA001"}, content=body)
    assert [d["code"] for d in ignored.json()["diagnostics"]] == ["MA005"]
    bad = http.post("/v1/lint", params={"format": "yaml", "select": "ZZ9"}, content=body)
    assert bad.status_code == 400 and "matches no rule" in bad.json()["error"]["message"]
    bad = http.post("/v1/lint", params={"format": "yaml", "mode": "nowhere"}, content=body)
    assert bad.status_code == 400


def test_lint_needs_a_known_format(http) -> None:
    r = http.post("/v1/lint", content=b"{}", headers={"content-type": "application/pdf"})
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported-media-type"
    r = http.post("/v1/lint", params={"format": "docx"}, content=b"{}")
    assert r.status_code == 400


def test_lint_reads_no_file_named_by_the_request(http, tmp_path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cr3t-do-not-serve")
    # `path` only names the plan in diagnostics; the body is what is linted.
    r = http.post(
        "/v1/lint",
        params={"path": str(secret), "format": "json"},
        content=b'{"operations": [{"message": "Craete", "table": "account"}]}',
    )
    assert r.status_code == 200
    assert r.json()["diagnostics"][0]["path"] == str(secret)
    assert "s3cr3t" not in r.text
    # An external entity pointing at the file is refused by the hardened parser.
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]><x>&e;</x>'
    ).encode()
    r = http.post("/v1/lint", content=xml, headers={"content-type": "application/xml"})
    assert r.status_code == 422 and "s3cr3t" not in r.text
    assert "DOCTYPE" in r.json()["failures"][0]["message"]
    # Paths in the URL never reach the file system either.
    for url in ("/v1/tables/..%2F..%2Fetc%2Fpasswd", "/v1/messages/%2Fetc%2Fpasswd", "/etc/passwd"):
        r = http.get(url)
        assert r.status_code == 404 and "root:" not in r.text


def test_messages_list_and_detail(http) -> None:
    r = http.get("/v1/messages")
    assert r.status_code == 200
    doc = r.json()
    names = {m["name"]: m for m in doc["messages"]}
    assert len(names) == len(published.load().messages)
    assert names["Create"]["availability"] == "All" and names["Create"]["offline"] is True
    assert doc["source"]["kind"] == "published"
    r = http.get("/v1/messages/create")
    assert r.status_code == 200
    detail = r.json()
    assert detail["name"] == "Create"
    by_table = {f["primary_table"]: f for f in detail["filters"]}
    assert by_table["queue"]["availability"] == "Server" and by_table["queue"]["offline"] is False
    assert by_table["account"]["offline"] is True
    r = http.get("/v1/messages/Craete")
    assert r.status_code == 404 and "Create" in r.json()["error"]["suggestions"]


def test_table_detail_resolves_aliases(http) -> None:
    r = http.get("/v1/tables/user")
    assert r.status_code == 200
    doc = r.json()
    assert doc["logical_name"] == "systemuser" and doc["entity_set_name"] == "systemusers"
    create = next(f for f in doc["filters"] if f["message"] == "Create")
    assert create["filter_availability"] == "Server" and create["offline"] is False
    assert http.get("/v1/tables/accounts").json()["logical_name"] == "account"
    r = http.get("/v1/tables/acount")
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown-table"


def test_snapshot_with_etag_and_304(http) -> None:
    r = http.get("/v1/snapshot")
    assert r.status_code == 200
    assert r.json() == json.loads(snapshot_file.dumps(published.load()))
    etag = r.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = http.get("/v1/snapshot", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert http.get("/v1/snapshot", headers={"if-none-match": f'"x", W/{etag}'}).status_code == 304
    assert http.get("/v1/snapshot", headers={"if-none-match": '"other"'}).status_code == 200


def test_healthz_names_the_data(http) -> None:
    r = http.get("/healthz")
    assert r.status_code == 200
    doc = r.json()
    assert doc["status"] == "ok" and doc["source"]["kind"] == "published"
    assert doc["serving"].startswith("published default") and doc["age_seconds"] is None


def test_openapi_document_is_valid_and_describes_every_route(http) -> None:
    r = http.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    validate(doc)  # raises on a document that breaks the OpenAPI 3.1 schema
    assert doc["openapi"].startswith("3.1")
    assert set(doc["paths"]) == {
        "/v1/check",
        "/v1/lint",
        "/v1/messages",
        "/v1/messages/{name}",
        "/v1/tables/{name}",
        "/v1/snapshot",
        "/healthz",
        "/openapi.json",
    }
    from validator.serve.app import create_app
    from validator.serve.state import Holder, SourceSpec

    app = create_app(Holder(SourceSpec()))
    served = {getattr(r, "path", None) for r in app.routes}
    assert served == set(doc["paths"])
    assert http.get("/_bench/constant").status_code == 404  # only with --bench-endpoint
    # Each documented query parameter of /v1/check is one the handler accepts.
    from validator.serve.app import CHECK_PARAMS, LINT_PARAMS

    check_params = {p["name"] for p in doc["paths"]["/v1/check"]["get"]["parameters"]}
    lint_params = {p["name"] for p in doc["paths"]["/v1/lint"]["post"]["parameters"]}
    assert check_params == CHECK_PARAMS and lint_params == LINT_PARAMS


def test_unknown_routes_and_methods_are_json_errors(http) -> None:
    r = http.get("/v2/check")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not-found"
    r = http.post("/v1/check", params={"message": "Create"})
    assert r.status_code == 405 and r.json()["error"]["code"] == "method-not-allowed"
    assert "GET" in r.headers["allow"]


def test_no_cors_headers_by_default(http) -> None:
    r = http.get("/healthz", headers={"origin": "http://localhost:3000"})
    assert "access-control-allow-origin" not in r.headers
    r = http.options(
        "/v1/check",
        headers={"origin": "http://localhost:3000", "access-control-request-method": "GET"},
    )
    assert "access-control-allow-origin" not in r.headers


def test_concurrent_requests_all_answered(published_server: ServeProcess) -> None:
    import concurrent.futures

    def one(i: int) -> int:
        with httpx.Client(base_url=published_server.url, timeout=10) as c:
            return c.get("/v1/check", params={"message": "Create", "table": "account"}).status_code

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        assert set(pool.map(one, range(64))) == {200}


def test_check_query_that_is_not_utf8_is_400(http) -> None:
    r = http.get("/v1/check?message=Cre%FFate&table=account")
    assert r.status_code == 400, r.text
    assert r.json()["error"] == {
        "status": 400,
        "code": "bad-parameter",
        "message": "query string is not UTF-8",
    }


def test_lint_format_yml_and_json_suffix_media_types(http, capsys) -> None:
    """`format=yml` is YAML, and a `+json` media type (e.g. application/vnd.x+json) is JSON:
    both give the report the CLI gives for the same plan."""
    yaml_plan = os.path.join(CASES, "seeds.yaml")
    with open(yaml_plan, "rb") as fh:
        body = fh.read()
    cli = json.loads(run_cli(["lint", yaml_plan, "--format", "json"], capsys).stdout)
    r = http.post("/v1/lint", params={"format": "yml", "path": yaml_plan}, content=body)
    assert r.status_code == 200, r.text
    assert r.json() == cli

    plan = b'{"operations": [{"message": "Create", "table": "queue"}]}'
    r = http.post(
        "/v1/lint", content=plan, headers={"content-type": "application/vnd.msgavail.plan+json"}
    )
    assert [d["code"] for d in r.json()["diagnostics"]] == ["MA005"]
