"""The Web API client against the emulator on a real loopback socket."""

from __future__ import annotations

import itertools

import httpx
import pytest

from fixtures.emulator.server import json_response
from metadata.auth import StaticToken
from metadata.errors import (
    AuthenticationError,
    InsecureURLError,
    NotFoundError,
    ServerError,
    ThrottledError,
    TransportError,
    WebAPIError,
)
from metadata.webapi import RetryPolicy, WebAPIClient
from tests.emulator_fixtures import EMULATOR_TOKEN


class Sleeps(list[float]):
    """An injected sleep that records instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client_for(emu, *, token=EMULATOR_TOKEN, sleeps=None, **kw):
    kw.setdefault("retry", RetryPolicy(max_retries=4, backoff_base=0.5, backoff_max=3.0))
    return WebAPIClient(
        emu.url, StaticToken(token), sleep=sleeps if sleeps is not None else Sleeps(), **kw
    )


class RecordingTransport(httpx.HTTPTransport):
    """A real HTTP transport that also keeps what was sent and received."""

    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        response.read()
        self.exchanges.append((request, response))
        return response


def test_pages_follow_next_link_verbatim_with_the_same_preference(start_emulator):
    emu = start_emulator(max_page_size=9)
    transport = RecordingTransport()
    with client_for(emu, page_size=25, transport=transport) as client:
        pages = list(client.iter_pages("sdkmessagefilters", [("$select", "availability")]))
    rows = [r for page in pages for r in page]
    assert len(rows) == emu.store.counts()["sdkmessagefilters"]
    assert len({r["sdkmessagefilterid"] for r in rows}) == len(rows)
    assert [len(p) for p in pages[:-1]] == [9] * (len(pages) - 1)
    assert len(transport.exchanges) == len(pages) > 2
    for (_, response), (next_request, _) in itertools.pairwise(transport.exchanges):
        assert str(next_request.url) == response.json()["@odata.nextLink"]  # byte for byte
    for request, response in transport.exchanges:
        assert request.headers["Prefer"] == "odata.maxpagesize=25"
        assert response.headers["Preference-Applied"] == "odata.maxpagesize=9"
        assert request.headers["OData-Version"] == "4.0"
        assert request.headers["OData-MaxVersion"] == "4.0"
        assert request.headers["Accept"] == "application/json"


def test_429_waits_retry_after_seconds(emulator):
    emulator.faults.throttle(retry_after=7, path="sdkmessages")
    sleeps = Sleeps()
    with client_for(emulator, sleeps=sleeps) as client:
        rows = client.get_all("sdkmessages")
    assert len(rows) == emulator.store.counts()["sdkmessages"]
    assert sleeps == [7.0]
    assert [r.status for r in emulator.requests("sdkmessages")] == [429, 200]


def test_503_burst_backs_off_exponentially_with_bounded_jitter(emulator):
    emulator.faults.unavailable(path="sdkmessages", times=4)
    sleeps = Sleeps()
    with client_for(emulator, sleeps=sleeps) as client:
        assert client.get_all("sdkmessages")
    assert len(sleeps) == 4
    for attempt, s in enumerate(sleeps):
        ceiling = min(3.0, 0.5 * 2**attempt)
        assert ceiling / 2 <= s <= ceiling


def test_dropped_connection_and_slow_answer_are_retried(emulator):
    emulator.faults.drop(path="EntityDefinitions")
    emulator.faults.slow(1.0, path="sdkmessages")
    with client_for(emulator, timeout=0.3) as client:
        assert client.get_all("EntityDefinitions")
        assert len(client.get_all("sdkmessages")) == emulator.store.counts()["sdkmessages"]
        assert client.requests_sent == 4  # one retry each
    assert [r.fault for r in emulator.requests("EntityDefinitions")] == ["drop", None]
    assert emulator.faults.fired == 2


def test_retry_budgets_end_in_errors_users_can_act_on(emulator):
    emulator.faults.unavailable(path="sdkmessages", times=-1)
    emulator.faults.throttle(retry_after=1, path="EntityDefinitions", times=-1)
    retry = RetryPolicy(max_retries=2, max_throttle_retries=3)
    with client_for(emulator, retry=retry) as client:
        with pytest.raises(ServerError, match=r"HTTP 503.*after 3 attempts"):
            client.get_all("sdkmessages")
        with pytest.raises(ThrottledError, match="429"):
            client.get_all("EntityDefinitions")
    assert emulator.count("sdkmessages") == 3
    assert emulator.count("EntityDefinitions") == 4


def test_unreachable_org_is_a_transport_error():
    with (
        WebAPIClient("http://127.0.0.1:9", StaticToken("t"), sleep=Sleeps()) as client,
        pytest.raises(TransportError, match=r"could not reach http://127\.0\.0\.1:9"),
    ):
        client.get_all("sdkmessages")


def test_http_errors_map_to_the_hierarchy_without_the_token(emulator):
    with (
        client_for(emulator, token="wrong-secret-token") as client,
        pytest.raises(AuthenticationError) as info,
    ):
        client.get_all("sdkmessages")
    assert "authentication failed" in str(info.value) and info.value.status == 401
    assert "wrong-secret-token" not in str(info.value)
    with client_for(emulator) as client:
        with pytest.raises(NotFoundError, match="Resource not found for the segment 'Account'"):
            client.get_all("Account")
        with pytest.raises(ServerError, match="Could not find a property named 'Name'") as bad:
            client.get_all("sdkmessages", [("$select", "Name")])
    assert bad.value.status == 400 and bad.value.code == "0x0"
    emulator.faults.error(403, "0x80040220", "Principal user is missing prvReadSdkMessage")
    with client_for(emulator) as client, pytest.raises(AuthenticationError, match="403"):
        client.get_all("sdkmessages")


def test_non_idempotent_requests_are_not_retried_after_a_5xx(emulator):
    calls = []

    def handler(request):
        calls.append(request.method)
        return json_response(503, {"error": {"code": "", "message": "busy"}})

    emulator.router.add("POST", "contoso_Recalculate", handler)
    with client_for(emulator) as client, pytest.raises(ServerError, match="503"):
        client.request("POST", "contoso_Recalculate", json={})
    assert calls == ["POST"]


def test_allowed_statuses_are_returned_not_raised(emulator):
    emulator.faults.error(412, "", "A record with matching key values already exists.")
    with client_for(emulator) as client:
        response = client.request("GET", "sdkmessages", allow_statuses=(412,))
    assert response.status_code == 412


def test_next_link_to_another_host_is_refused(emulator):
    def handler(request):
        return json_response(200, {"value": [], "@odata.nextLink": "https://evil.example/x"})

    emulator.router.add("GET", "sdkmessageprocessingsteps", handler)
    with client_for(emulator) as client, pytest.raises(WebAPIError, match="refusing to send"):
        client.get_all("sdkmessageprocessingsteps")


def test_http_is_refused_for_remote_hosts():
    with pytest.raises(InsecureURLError, match="loopback"):
        WebAPIClient("http://contoso.crm.dynamics.com", StaticToken("t"))


def test_retry_after_forms(emulator):
    import email.utils
    import time

    client = client_for(emulator)
    in_a_minute = email.utils.formatdate(time.time() + 60, usegmt=True)
    cases = {"7": 7.0, "0.5": 0.5, in_a_minute: 60.0, "100000": 300.0}
    for header, expected in cases.items():
        response = httpx.Response(429, headers={"Retry-After": header})
        assert client._retry_after(response, 0) == pytest.approx(expected, abs=1.5)
    no_header = client._retry_after(httpx.Response(429), 2)  # backs off as for a 5xx
    assert 1.0 <= no_header <= 2.0
    client.close()
