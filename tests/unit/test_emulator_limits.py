"""A server that costs what a server costs: server time per write, the three per-user service
protection limits over a (scaled) sliding window, 429 + Retry-After, x-ms-dop-hint."""

from __future__ import annotations

import concurrent.futures
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from fixtures.emulator import ServerModel
from fixtures.emulator.__main__ import _parser, model_from
from fixtures.emulator.limits import CONCURRENCY_CODE, EXECUTION_CODE, REQUESTS_CODE
from tests.emulator_fixtures import EMULATOR_TOKEN

AUTH = {"Authorization": f"Bearer {EMULATOR_TOKEN}"}
NS = "Microsoft.Dynamics.CRM."


def _client(emu) -> httpx.Client:
    return httpx.Client(base_url=emu.api_url, headers=AUTH, timeout=10)


def _create(http: httpx.Client, n: int = 0) -> httpx.Response:
    return http.post("accounts", json={"name": f"A{n}"})


def test_writes_take_server_time_outside_any_lock(start_emulator):
    emu = start_emulator(model=ServerModel(write_ms=250))
    with _client(emu) as http:
        http.get("WhoAmI")  # connection warm-up, reads are free
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            started = time.monotonic()
            statuses = [r.status_code for r in pool.map(lambda i: _create(http, i), range(8))]
            wall = time.monotonic() - started
    stats = emu.limiter.stats()
    assert statuses == [204] * 8
    assert stats.server_time_s == pytest.approx(8 * 0.25)
    assert stats.peak_concurrency >= 2
    # One at a time would take 2 s; overlapping sleeps finish in a fraction of it.
    assert wall < 1.6


def test_bulk_targets_cost_the_per_record_time_and_a_batch_the_sum_of_its_parts(start_emulator):
    emu = start_emulator(model=ServerModel(write_ms=30, bulk_record_ms=2))
    with _client(emu) as http:
        targets = [{"@odata.type": NS + "account", "name": str(i)} for i in range(10)]
        assert (
            http.post(
                "accounts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": targets}
            ).status_code
            == 200
        )
        assert emu.limiter.stats().server_time_s == pytest.approx(10 * 0.002)
        parts = "".join(
            "--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n"
            f"PATCH /api/data/v9.2/accounts({uuid.uuid4()}) HTTP/1.1\r\n"
            'Content-Type: application/json\r\n\r\n{"name":"x"}\r\n'
            for _ in range(3)
        )
        resp = http.post(
            "$batch",
            content=(parts + "--b--\r\n").encode(),
            headers={"Content-Type": "multipart/mixed; boundary=b"},
        )
        assert resp.status_code == 200
    assert emu.limiter.stats().server_time_s == pytest.approx(0.02 + 3 * 0.03)


def test_request_limit_answers_429_with_retry_after_and_recovers(start_emulator):
    # 900 per 5 minutes at time scale 300: 3 requests per 1-second window.
    emu = start_emulator(model=ServerModel(limits=True, requests=900, time_scale=300))
    with _client(emu) as http:
        assert [_create(http, i).status_code for i in range(3)] == [204] * 3
        refused = _create(http)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == REQUESTS_CODE
        assert "exceeded the limit of 900" in refused.json()["error"]["message"]
        wait = float(refused.headers["Retry-After"])
        assert 0 < wait <= 1.0
        time.sleep(wait + 0.05)
        assert _create(http).status_code == 204
    assert emu.limiter.stats().refused == {REQUESTS_CODE: 1}
    assert emu.store.counts()["accounts"] == 4  # the refused request did nothing


def test_execution_time_limit(start_emulator):
    # 60 s per 5 minutes at scale 300: 0.2 s of execution per 1-second window.
    model = ServerModel(write_ms=110, limits=True, execution_s=60, time_scale=300)
    emu = start_emulator(model=model)
    with _client(emu) as http:
        assert [_create(http, i).status_code for i in range(2)] == [204, 204]
        refused = _create(http)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == EXECUTION_CODE
        assert 0 < float(refused.headers["Retry-After"]) <= 1.0
        assert int(refused.headers["x-ms-ratelimit-time-remaining-xrm-requests"].split(".")[0]) == 0


def test_concurrency_limit_refuses_at_once(start_emulator):
    emu = start_emulator(model=ServerModel(write_ms=400, limits=True, concurrent=2))
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        # One client per thread: three connections in flight at once.
        def one(i: int) -> httpx.Response:
            with _client(emu) as http:
                return _create(http, i)

        answers = list(pool.map(one, range(3)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [204, 204, 429]
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.json()["error"]["code"] == CONCURRENCY_CODE
    assert emu.store.counts()["accounts"] == 2


def test_limits_are_per_user(start_emulator):
    emu = start_emulator(token=None, model=ServerModel(limits=True, requests=300, time_scale=300))
    with httpx.Client(base_url=emu.api_url) as http:
        assert http.get("accounts", headers={"Authorization": "Bearer a"}).status_code == 200
        assert http.get("accounts", headers={"Authorization": "Bearer a"}).status_code == 429
        assert http.get("accounts", headers={"Authorization": "Bearer b"}).status_code == 200


def test_dop_hint_and_rate_limit_headers(start_emulator):
    emu = start_emulator(model=ServerModel(limits=True, dop_hint=4))
    with _client(emu) as http:
        resp = http.get("WhoAmI")
    assert resp.headers["x-ms-dop-hint"] == "4"
    assert resp.headers["x-ms-ratelimit-burst-remaining-xrm-requests"] == "5999"
    plain = start_emulator()
    with _client(plain) as http:
        assert "x-ms-dop-hint" not in http.get("WhoAmI").headers


def test_command_line_options_build_the_same_model():
    flags = "--write-ms 20 --bulk-record-ms 4 --limits --time-scale 60 --dop-hint 4"
    args = _parser().parse_args(flags.split(" "))
    assert model_from(args) == ServerModel(
        write_ms=20, bulk_record_ms=4, limits=True, time_scale=60, dop_hint=4
    )
    bad = subprocess.run(
        [sys.executable, "-m", "fixtures.emulator", "--time-scale", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert bad.returncode == 2
    assert "time_scale must be positive" in bad.stderr
    assert "Traceback" not in bad.stderr
