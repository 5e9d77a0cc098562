"""The emulator's write side behaves as the documented Web API does (reference §6-7)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from fixtures.emulator import start, writes
from validator.executor.multipart import SubRequest, decode, encode


@pytest.fixture
def emu():
    with start(token=None) as e:
        yield e


@pytest.fixture
def http(emu):
    with httpx.Client(base_url=emu.api_url) as c:
        yield c


def _id() -> str:
    return str(uuid.uuid4())


def test_conditional_patch_create_only_update_only_and_etags(emu, http):
    a = _id()
    created = http.patch(f"accounts({a})", json={"name": "A"}, headers={"If-None-Match": "*"})
    assert created.status_code == 204
    assert created.headers["OData-EntityId"].endswith(f"accounts({a})")
    etag = created.headers["ETag"]
    again = http.patch(f"accounts({a})", json={"name": "B"}, headers={"If-None-Match": "*"})
    assert again.status_code == 412
    assert again.json()["error"]["message"] == "A record with matching key values already exists."
    assert http.patch(f"accounts({_id()})", json={}, headers={"If-Match": "*"}).status_code == 404
    assert (
        http.patch(f"accounts({a})", json={"name": "C"}, headers={"If-Match": etag}).status_code
        == 204
    )
    stale = http.patch(f"accounts({a})", json={"name": "D"}, headers={"If-Match": etag})
    assert stale.status_code == 412
    assert http.get(f"accounts({a})").json()["name"] == "C"
    assert writes.state(emu.store).creates[("accounts", a)] == 1


def test_delete_ref_and_actions(emu, http):
    a, c = _id(), _id()
    http.patch(f"accounts({a})", json={"name": "A"})
    http.patch(f"contacts({c})", json={"lastname": "L"})
    ref = {"@odata.id": f"{emu.api_url}contacts({c})"}
    assert http.post(f"accounts({a})/contact_customer_accounts/$ref", json=ref).status_code == 204
    dup = http.post(f"accounts({a})/contact_customer_accounts/$ref", json=ref)
    assert dup.json()["error"]["code"] == "0x80040237"
    assert http.delete(f"accounts({a})/contact_customer_accounts({c})/$ref").status_code == 204
    assert http.delete(f"accounts({a})/contact_customer_accounts({c})/$ref").status_code == 404
    assert http.post("WhoAmI", json={}).status_code == 204
    assert http.post(f"accounts({a})/Microsoft.Dynamics.CRM.Merge", json={}).status_code == 204
    assert http.post("NoSuchAction", json={}).status_code == 404
    assert [name for name, _, _ in writes.state(emu.store).actions] == ["WhoAmI", "Merge"]
    assert http.delete(f"accounts({a})").status_code == 204
    assert http.delete(f"accounts({a})").status_code == 404


def _batch(http, body: str, boundary: str = "b", prefer: str | None = None):
    headers = {"Content-Type": f"multipart/mixed; boundary={boundary}"}
    if prefer:
        headers["Prefer"] = prefer
    return http.post("$batch", content=body.replace("\n", "\r\n").encode(), headers=headers)


def _part(method: str, url: str, body: str = "", cid: str | None = None, extra: str = "") -> str:
    head = "Content-Type: application/http\nContent-Transfer-Encoding: binary\n"
    if cid:
        head += f"Content-ID: {cid}\n"
    return f"{head}\n{method} {url} HTTP/1.1\nContent-Type: application/json\n{extra}\n{body}\n"


def test_changeset_is_atomic_and_content_id_refers_to_earlier_parts(emu, http):
    a, c = _id(), _id()
    acct = _part("PATCH", f"/api/data/v9.2/accounts({a})", '{"name":"A"}', "1")
    bound = '{"lastname":"L","parentcustomerid_account@odata.bind":"$1"}'
    cont = _part("PATCH", f"/api/data/v9.2/contacts({c})", bound, "2")
    link = _part("POST", "$1/contact_customer_accounts/$ref", '{"@odata.id":"$2"}', "3")
    ok = (
        "--b\nContent-Type: multipart/mixed; boundary=cs\n\n"
        f"--cs\n{acct}--cs\n{cont}--cs\n{link}--cs--\n--b--\n"
    )
    resp = _batch(http, ok)
    assert resp.status_code == 200
    parts = decode(resp.headers["content-type"], resp.content)
    assert [p.status for p in parts] == [204, 204, 204]
    assert http.get(f"contacts({c})").json()["_parentcustomerid_account_value"] == a
    assert ("accounts", a, "contact_customer_accounts", "contacts", c) in writes.state(
        emu.store
    ).links

    b = _id()
    first = _part("PATCH", f"/api/data/v9.2/accounts({b})", '{"name":"B"}', "1")
    clash = _part("PATCH", f"/api/data/v9.2/accounts({a})", "{}", "2", "If-None-Match: *\n")
    failing = (
        "--b\nContent-Type: multipart/mixed; boundary=cs\n\n"
        f"--cs\n{first}--cs\n{clash}--cs--\n--b--\n"
    )
    resp = _batch(http, failing)
    assert resp.status_code == 412
    assert [p.status for p in decode(resp.headers["content-type"], resp.content)] == [412]
    assert http.get(f"accounts({b})").status_code == 404  # rolled back
    assert writes.state(emu.store).creates[("accounts", b)] == 0


def test_continue_on_error_carries_every_part_and_stop_is_the_default(http):
    a = _id()
    gone = _part("DELETE", f"/api/data/v9.2/accounts({_id()})")
    make = _part("PATCH", f"/api/data/v9.2/accounts({a})", '{"name":"A"}')
    body = f"--b\n{gone}--b\n{make}--b--\n"
    stopped = _batch(http, body)
    assert stopped.status_code == 404
    assert http.get(f"accounts({a})").status_code == 404
    went_on = _batch(http, body, prefer="odata.continue-on-error")
    assert went_on.status_code == 200
    assert [p.status for p in decode(went_on.headers["content-type"], went_on.content)] == [
        404,
        204,
    ]
    assert http.get(f"accounts({a})").json()["name"] == "A"


def test_our_encoder_speaks_crlf_and_the_emulator_refuses_bare_lf(emu, http):
    a = _id()
    ctype, body = encode(
        [SubRequest("PATCH", f"accounts({a})", (("If-None-Match", "*"),), {"name": "A"})],
        "/api/data/v9.2/",
    )
    assert b"\r\nPATCH /api/data/v9.2/accounts(" in body
    assert b"\n" not in body.replace(b"\r\n", b"")
    resp = http.post("$batch", content=body, headers={"Content-Type": ctype})
    assert [p.status for p in decode(resp.headers["content-type"], resp.content)] == [204]
    lf_only = http.post(
        "$batch", content=body.replace(b"\r\n", b"\n"), headers={"Content-Type": ctype}
    )
    assert lf_only.status_code == 400


def test_lost_acknowledgement_commits_then_drops_the_connection(emu, http):
    a = _id()
    emu.faults.lose_response(path="accounts(")
    with pytest.raises(httpx.TransportError):
        http.patch(f"accounts({a})", json={"name": "A"}, headers={"If-None-Match": "*"})
    assert http.get(f"accounts({a})").json()["name"] == "A"
    assert next(r.fault for r in emu.requests("accounts(")) == "lost_ack"


def test_rejections_stand_for_a_missing_privilege_until_cleared(emu, http):
    state = writes.state(emu.store)
    state.reject("tasks", 403, "0x80040220", "Principal user is missing prvCreateTask privilege.")
    refused = http.patch(f"tasks({_id()})", json={"subject": "s"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "0x80040220")
    state.allow("tasks")
    assert http.patch(f"tasks({_id()})", json={"subject": "s"}).status_code == 204
