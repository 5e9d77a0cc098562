"""A harvest by another process reaches the running service: no restart, no dropped request.

The org is the Dataverse Web API emulator on loopback; the cache is a real diskcache directory
that ``msgavail harvest`` (run here, in the test process) writes while the service reads it.
"""

from __future__ import annotations

import threading
import time

import httpx

from metadata import snapshot as snapshot_file
from metadata.model import Source
from tests.cli_runner import run_cli

QUESTION = {"message": "Create", "table": "queue"}


def _queue_create_filter(emulator):
    create = emulator.store.find("sdkmessages", "name", "Create")
    rows = [
        r
        for r in emulator.store.rows("sdkmessagefilters")
        if r.get("primaryobjecttypecode") == "queue"
        and r.get("_sdkmessageid_value") == create["sdkmessageid"]
    ]
    assert len(rows) == 1 and rows[0]["availability"] == 2  # the seed: All here (published: Server)
    return rows[0]


def test_a_newer_harvest_is_served_without_restart(
    emulator, cache_dir, token_env, capsys, start_server
) -> None:
    assert run_cli(["harvest", "--org", emulator.url], capsys).exit_code == 0
    server = start_server(
        "--org", emulator.url, "--cache-dir", cache_dir, "--refresh-interval", "0.2"
    )
    assert server.source.startswith(f"harvest of {emulator.url}")
    with server.client() as http:
        first = http.get("/v1/check", params=QUESTION).json()
        assert first["available"] is True and first["source"]["kind"] == "org"
        health = http.get("/healthz").json()
        assert health["source"]["org"] == emulator.url and health["refreshes"] == 0
        assert health["harvested_at"] == first["source"]["harvested_at"]
        assert 0 <= health["age_seconds"] < 600
        etag = http.get("/v1/snapshot").headers["etag"]

    # Clients keep asking while the org changes and another process harvests it again.
    stop = threading.Event()
    answers: list[tuple[int, bool]] = []
    per_thread: list[list[bool]] = []
    failures: list[str] = []

    def ask() -> None:
        mine: list[bool] = []
        per_thread.append(mine)
        with httpx.Client(base_url=server.url, timeout=10) as c:
            for _ in range(5000):  # bounded
                if stop.is_set():
                    return
                try:
                    r = c.get("/v1/check", params=QUESTION)
                    answers.append((r.status_code, r.json()["available"]))
                    mine.append(r.json()["available"])
                except httpx.HTTPError as exc:
                    failures.append(repr(exc))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for th in threads:
        th.start()
    try:
        ready = time.monotonic() + 10
        while not (len(per_thread) == 2 and all(per_thread)) and time.monotonic() < ready:
            time.sleep(0.02)  # both clients have had an answer from the first harvest
        row = _queue_create_filter(emulator)
        emulator.store.update("sdkmessagefilters", row["sdkmessagefilterid"], {"availability": 0})
        assert run_cli(["harvest", "--org", emulator.url, "--force"], capsys).exit_code == 0
        deadline = time.monotonic() + 20
        with server.client() as http:
            while time.monotonic() < deadline:
                now = http.get("/v1/check", params=QUESTION).json()
                if now["available"] is False:
                    break
                time.sleep(0.1)
            else:
                raise AssertionError("the service never picked up the new harvest")
            time.sleep(0.3)
    finally:
        stop.set()
        for th in threads:
            th.join(30)
    assert not failures
    assert answers and {status for status, _ in answers} == {200}
    # Each client saw the old harvest, then the new one, and never the old one again.
    assert len(per_thread) == 2
    for flags in per_thread:
        assert flags[0] is True and flags[-1] is False
        assert flags == sorted(flags, reverse=True)
    with server.client() as http:
        health = http.get("/healthz").json()
        assert health["refreshes"] == 1 and health["refresh_error"] is None
        assert health["harvested_at"] == now["source"]["harvested_at"]
        assert now["filter_availability"] == "Server"
        assert "SdkMessageFilter.Availability = Server" in now["reason"]
        new = http.get("/v1/snapshot", headers={"if-none-match": etag})
        assert new.status_code == 200 and new.headers["etag"] != etag


def test_a_rewritten_snapshot_file_is_served(tmp_path, start_server) -> None:
    from metadata import published

    path = tmp_path / "snap.json"
    base = published.load()
    snapshot_file.write(base, path)
    server = start_server("--snapshot", str(path), "--refresh-interval", "0.2")
    with server.client() as http:
        assert http.get("/v1/check", params=QUESTION).json()["available"] is False
        # The team commits a snapshot where Create on queue works offline.
        from metadata.model import Availability, Snapshot

        filters = [
            f._replace(availability=Availability.ALL)
            if (f.message, f.primary) == ("Create", "queue")
            else f
            for f in base.filters
        ]
        changed = Snapshot(
            messages=base.messages,
            filters=filters,
            tables=base.tables,
            custom_rules=base.custom_rules,
            source=Source(kind="snapshot", harvested_at="2026-01-01T00:00:00Z"),
        )
        snapshot_file.write(changed, path)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if http.get("/v1/check", params=QUESTION).json()["available"]:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the service never picked up the rewritten snapshot")
        assert http.get("/healthz").json()["harvested_at"] == "2026-01-01T00:00:00Z"
        # A broken file does not take the service down: the last good data stays.
        path.write_text("{not json")
        time.sleep(1.0)
        assert http.get("/v1/check", params=QUESTION).json()["available"] is True
        assert http.get("/healthz").json()["refresh_error"]
