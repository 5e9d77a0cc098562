"""Limits, slow clients, CORS, start-up errors and graceful SIGTERM of ``msgavail serve``."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from tests.serve_support import ServeProcess, clean_env

PLAN = b'{"operations": [{"message": "Create", "table": "queue"}]}'


def _raw(server: ServeProcess, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection((server.host, server.port), timeout=timeout)


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def test_body_over_the_limit_is_413(start_server) -> None:
    server = start_server("--max-body-size", "1KiB")
    big = b'{"operations": [' + b'{"message": "Create", "table": "account"},' * 60 + b"{}]}"
    assert len(big) > 1024
    with server.client() as http:
        r = http.post("/v1/lint", content=big, headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.json()["error"]["code"] == "body-too-large"

        # Without Content-Length (chunked), the limit holds while reading.
        def chunks():
            for i in range(0, len(big), 256):
                yield big[i : i + 256]

        r = http.post("/v1/lint", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413
        # Under the limit: linted as usual.
        r = http.post("/v1/lint", content=PLAN, headers={"content-type": "application/json"})
        assert r.status_code == 200 and r.json()["summary"]["errors"] == 1


def test_a_slow_client_is_cut_off_and_others_are_served(start_server) -> None:
    server = start_server("--timeout", "1")
    # A request head that never completes...
    stalled_head = _raw(server)
    stalled_head.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    # ...and a body that stops half-way.
    stalled_body = _raw(server)
    stalled_body.sendall(
        b"POST /v1/lint?format=json HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(PLAN)
        + PLAN[:10]
    )
    started = time.monotonic()
    with server.client() as http:  # the server answers others meanwhile
        assert http.get("/healthz").status_code == 200
    head_answer = _read_all(stalled_head)
    body_answer = _read_all(stalled_body)
    waited = time.monotonic() - started
    assert head_answer.startswith(b"HTTP/1.1 408 ")
    assert body_answer.startswith(b"HTTP/1.1 408 ")
    assert b'"request-timeout"' in body_answer
    assert waited < 8  # cut off after about --timeout, not held for good
    stalled_head.close()
    stalled_body.close()


def test_an_idle_connection_is_closed(start_server) -> None:
    server = start_server("--timeout", "1")
    idle = _raw(server)
    started = time.monotonic()
    answer = _read_all(idle)  # nothing sent at all
    assert answer.startswith(b"HTTP/1.1 408 ") and time.monotonic() - started < 8
    idle.close()


def test_sigterm_lets_in_flight_requests_finish(start_server) -> None:
    server = start_server("--grace", "10")
    # A request in flight: its head and half its body are in, the rest comes after SIGTERM.
    sock = _raw(server)
    head = b"POST /v1/lint?format=json HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(
        PLAN
    )
    sock.sendall(head + PLAN[:20])
    with server.client() as http:  # and the server has answered before: it is up
        assert http.get("/healthz").status_code == 200
    time.sleep(0.3)
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert server.proc.poll() is None  # still finishing the request
    # New connections are no longer accepted.
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url + "/healthz", timeout=2)
    sock.sendall(PLAN[20:])
    answer = _read_all(sock)
    sock.close()
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 200 OK", answer
    report = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert report["summary"] == {"files": 1, "operations": 1, "errors": 1, "warnings": 0}
    assert server.proc.wait(15) == 0
    server._drain.join(5)
    assert "msgavail: serve stopped" in server.stderr_lines


def test_sigterm_under_load_answers_every_accepted_request(start_server) -> None:
    import concurrent.futures
    import threading

    server = start_server()
    stop = threading.Event()
    statuses: list[int] = []
    broken: list[str] = []

    def hammer() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as c:
            for _ in range(2000):  # bounded
                if stop.is_set():
                    return
                try:
                    statuses.append(
                        c.get(
                            "/v1/check", params={"message": "Create", "table": "queue"}
                        ).status_code
                    )
                except httpx.ConnectError:
                    return  # refused after shutdown began: never accepted, nothing lost
                except httpx.TransportError as exc:
                    # A keep-alive connection closed between requests is the documented
                    # graceful behaviour; a request cut off mid-response would be a bug.
                    if not isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
                        broken.append(repr(exc))
                    return

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(hammer) for _ in range(4)]
        time.sleep(1.0)
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(15) == 0
        stop.set()
        for f in futures:
            f.result()
    assert statuses and set(statuses) == {200}
    assert not broken


def test_cors_only_for_the_origins_asked(start_server) -> None:
    server = start_server("--cors", "http://localhost:3000")
    with server.client() as http:
        r = http.get("/healthz", headers={"origin": "http://localhost:3000"})
        assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
        r = http.options(
            "/v1/check",
            headers={"origin": "http://localhost:3000", "access-control-request-method": "GET"},
        )
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "http://localhost:3000"
        r = http.get("/healthz", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers


def test_org_without_a_harvest_fails_to_start_with_one_line(tmp_path) -> None:
    env = clean_env(str(tmp_path))
    cmd = [
        sys.executable,
        "-m",
        "validator.cli",
        "serve",
        "--port",
        "0",
        "--org",
        "http://127.0.0.1:9",
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "msgavail: error: no cached harvest for http://127.0.0.1:9: "
        "run `msgavail harvest --org http://127.0.0.1:9` first"
    )


def test_a_port_in_use_is_a_one_line_error(published_server_port_holder, tmp_path) -> None:
    port = published_server_port_holder
    env = clean_env(str(tmp_path))
    cmd = [sys.executable, "-m", "validator.cli", "serve", "--port", str(port)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2
    assert out.stderr.startswith(f"msgavail: error: cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in out.stderr


@pytest.fixture
def published_server_port_holder():
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    yield holder.getsockname()[1]
    holder.close()


def test_check_does_not_load_the_server_stack(tmp_path) -> None:
    code = (
        "import sys\n"
        "from validator.cli import run\n"
        "assert run(['check', 'Create', 'account']) == 0\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('uvicorn', 'starlette', 'anyio', 'validator'))\n"
        "print(' '.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=clean_env(str(tmp_path)),
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    loaded = out.stdout.split()
    assert not [
        m for m in loaded if m.startswith(("uvicorn", "starlette", "anyio", "validator.serve"))
    ]


@pytest.mark.parametrize("given", ["12q", "0", "4 GB", "-1"])
def test_max_body_size_that_is_not_a_size_is_refused_before_starting(given: str, capsys) -> None:
    from tests.cli_runner import run_cli

    r = run_cli(["serve", "--max-body-size", given], capsys)
    assert r.exit_code == 2
    assert r.stderr == (
        f"msgavail: error: serve: invalid value for '--max-body-size': {given!r} is not a size "
        "(e.g. 4MiB, 512KiB, 1048576) (see `msgavail serve --help`)\n"
    )
