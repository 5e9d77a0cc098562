"""Benchmark: full harvest of a 20,000-filter org (with mobile offline profiles) from the emulator.

Compares, in the same run and against the same emulator:
  * requests made by ``metadata.harvest.harvest`` vs the minimum possible (one request per
    page of each paged table at the 5,000-row server maximum, at least one even when empty,
    plus one for EntityDefinitions); the org has ``--profiles`` mobile offline profiles of
    ``--profile-tables`` tables each (default 20 x 60: 1,200 profile items);
  * wall time of the harvest (download + parse + Snapshot) vs downloading the same pages with
    plain httpx (same URLs, same headers, JSON parsed, nextLink followed): the overhead ratio;
  * wall time of harvest + writing it to a diskcache store, and of the freshness probe;
  * wall time of what ``msgavail harvest --org URL --force`` does in-process (``refresh``: the
    client built as the CLI builds it, with its own transport, the harvest and the store
    write, over a cache that already holds a harvest), and of a within-TTL answer (``refresh``
    reading the cached snapshot once).

Usage: python bench/harvest_bench.py [--filters 20000] [--profiles 20] [--profile-tables 60]
       [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time

import httpx

from fixtures.emulator import start
from fixtures.emulator.seed import CUSTOM_FILTER, big_org, offline_profile, profile_item
from metadata.auth import StaticToken
from metadata.harvest import (
    FILTER_COLUMNS,
    MESSAGE_COLUMNS,
    PROFILE_COLUMNS,
    PROFILE_ITEM_COLUMNS,
    TABLE_PROPERTIES,
    harvest,
    probe,
)
from metadata.refresh import refresh
from metadata.store import Store
from metadata.webapi import WebAPIClient, quote_query

TOKEN = "bench-token"
QUERIES = [
    ("sdkmessages", [("$select", MESSAGE_COLUMNS)]),
    (
        "sdkmessagefilters",
        [("$select", FILTER_COLUMNS), ("$expand", "sdkmessageid($select=name)")],
    ),
    ("EntityDefinitions", [("$select", TABLE_PROPERTIES)]),
    ("mobileofflineprofiles", [("$select", PROFILE_COLUMNS)]),
    ("mobileofflineprofileitems", [("$select", PROFILE_ITEM_COLUMNS)]),
]
PAGED = ("sdkmessages", "sdkmessagefilters", "mobileofflineprofiles", "mobileofflineprofileitems")


class CountingTransport(httpx.HTTPTransport):
    """The client's injectable transport, wrapped to count response bytes."""

    def __init__(self) -> None:
        super().__init__()
        self.bytes = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        response.read()
        self.bytes += len(response.content)
        return response


def plain_httpx(api_url: str) -> tuple[int, int]:
    """The baseline: the same pages with a bare httpx.Client (no retries, no model)."""
    headers = {
        "Authorization": f"Bearer {TOKEN}",
        "Accept": "application/json",
        "OData-MaxVersion": "4.0",
        "OData-Version": "4.0",
        "Prefer": "odata.maxpagesize=5000",
    }
    rows = requests = 0
    with httpx.Client(headers=headers, timeout=60) as client:
        for entity_set, params in QUERIES:
            url: str | None = api_url + entity_set + "?" + quote_query(params)
            while url:
                body = client.get(url).json()
                requests += 1
                rows += len(body["value"])
                url = body.get("@odata.nextLink")
    return rows, requests


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--filters", type=int, default=20_000)
    ap.add_argument("--profiles", type=int, default=20)
    ap.add_argument("--profile-tables", type=int, default=60)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()

    seed = big_org(args.filters)
    names = [row["LogicalName"] for row in seed["EntityDefinitions"]]
    seed["mobileofflineprofiles"] = [
        offline_profile(f"Profile {p:02d}") for p in range(args.profiles)
    ]
    seed["mobileofflineprofileitems"] = [
        profile_item(f"Profile {p:02d}", names[(p + k) % len(names)], CUSTOM_FILTER, mine=True)
        for p in range(args.profiles)
        for k in range(min(args.profile_tables, len(names)))
    ]
    with start(seed, token=TOKEN) as emu:
        counts = emu.store.counts()
        minimum = sum(max(1, -(-counts[s] // 5000)) for s in PAGED) + 1
        t_lib, t_plain, t_store, t_probe, t_cli, t_cached = [], [], [], [], [], []
        requests = probe_requests = 0
        with tempfile.TemporaryDirectory() as tmp, Store.open(tmp) as store:
            for _ in range(args.runs):
                t0 = time.perf_counter()
                rows, plain_requests = plain_httpx(emu.api_url)
                t_plain.append(time.perf_counter() - t0)

                transport = CountingTransport()
                with WebAPIClient(emu.url, StaticToken(TOKEN), transport=transport) as client:
                    t0 = time.perf_counter()
                    result = harvest(client)
                    harvest_bytes = transport.bytes
                    t_lib.append(time.perf_counter() - t0)
                    requests = result.requests
                    t0 = time.perf_counter()
                    store.put(emu.url, result.snapshot, result.fingerprint)
                    t_store.append(t_lib[-1] + time.perf_counter() - t0)
                    before = client.requests_sent
                    t0 = time.perf_counter()
                    assert probe(client) == result.fingerprint
                    t_probe.append(time.perf_counter() - t0)
                    probe_requests = client.requests_sent - before
                    probe_bytes = transport.bytes - harvest_bytes

                def cli_client() -> WebAPIClient:
                    return WebAPIClient(emu.url, StaticToken(TOKEN))

                t0 = time.perf_counter()
                forced = refresh(emu.url, store=store, client_factory=cli_client, force=True)
                t_cli.append(time.perf_counter() - t0)
                assert forced.action == "harvested"
                t0 = time.perf_counter()
                cached = refresh(emu.url, store=store, client_factory=cli_client)
                t_cached.append(time.perf_counter() - t0)
                assert cached.action == "cached" and len(cached.snapshot.filters) == args.filters
        snap = result.snapshot
        assert len(snap.filters) == counts["sdkmessagefilters"] == args.filters

    med = statistics.median
    print(
        f"org: {counts['sdkmessages']} messages, {counts['sdkmessagefilters']} filters, "
        f"{counts['EntityDefinitions']} tables, {counts['mobileofflineprofiles']} mobile offline "
        f"profiles with {counts['mobileofflineprofileitems']} items; {args.runs} runs, medians"
    )
    print(
        f"requests: harvest {requests}, minimum {minimum}, plain httpx {plain_requests}; "
        f"probe {probe_requests}"
    )
    print(
        f"bytes: harvest {harvest_bytes:,}, probe {probe_bytes:,} "
        f"({probe_bytes / harvest_bytes:.1%} of a harvest)"
    )
    print(f"plain httpx download+json:      {med(t_plain) * 1000:8.1f} ms  ({rows} rows)")
    print(
        f"msgavail harvest -> Snapshot:   {med(t_lib) * 1000:8.1f} ms  "
        f"ratio {med(t_lib) / med(t_plain):.2f}x"
    )
    print(
        f"harvest + diskcache write:      {med(t_store) * 1000:8.1f} ms  "
        f"ratio {med(t_store) / med(t_plain):.2f}x"
    )
    print(
        f"harvest --force path (refresh): {med(t_cli) * 1000:8.1f} ms  "
        f"ratio {med(t_cli) / med(t_plain):.2f}x  (goal <= 1.2x)"
    )
    print(
        f"within-TTL answer (refresh):    {med(t_cached) * 1000:8.1f} ms  "
        f"ratio {med(t_cached) / med(t_plain):.3f}x"
    )
    print(
        f"freshness probe (no change):    {med(t_probe) * 1000:8.1f} ms  "
        f"ratio {med(t_probe) / med(t_plain):.3f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
