"""Benchmark for validator.guard: what checking an SDK write costs, against a loopback round trip.

    .venv/bin/python bench/guard_bench.py [--calls 300] [--rounds 7]

Microsoft's SDK (powerplatform-dataverse-client) against the emulator over https (``--tls``,
keep-alive session), in one process:

1. ``client.records.create("account", ...)`` unguarded and through ``validator.guard(client)``
   (the published default, offline mode), interleaved round by round so both see the same
   machine load: median time per call of each, and their ratio.
2. The guard alone, with no network: the same ``records.create`` through the guard on a records
   object that does nothing (the wrapper plus the check), and ``Checker.require`` by itself.
   Goal (issue 11): under 2 % of a loopback round trip (the unguarded call of 1).
Prints medians and ratios; figures go to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import typing as t

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


class _Credential:
    def get_token(self, *scopes: str, **kwargs: t.Any) -> t.Any:
        from azure.core.credentials import AccessToken

        return AccessToken("bench-token", int(time.time()) + 3600)


class _NoopRecords:
    def create(self, table: str, data: t.Any) -> str:
        return "00000000-0000-0000-0000-000000000000"


class _NoopClient:
    records = _NoopRecords()
    batch = None


def _per_call(fn: t.Callable[[], t.Any], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - started) / calls


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=300, help="SDK calls per round and variant")
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args()

    from PowerPlatform.Dataverse.client import DataverseClient
    from PowerPlatform.Dataverse.core.config import DataverseConfig

    import validator
    from fixtures.emulator import start

    engine = validator.default_engine()
    with start(token="bench-token", tls=True) as emu:
        assert emu.ca_file is not None
        os.environ["REQUESTS_CA_BUNDLE"] = emu.ca_file
        with DataverseClient(emu.url, _Credential(), DataverseConfig(http_retries=1)) as raw:
            guarded = validator.guard(raw, engine=engine)
            row = {"name": "bench"}  # a string column: the SDK's choice-label lookup, cached
            raw.records.create("account", row)  # warm up: connection, TLS, metadata caches
            guarded.records.create("account", row)
            plain_t, guarded_t = [], []
            for _ in range(args.rounds):
                plain_t.append(_per_call(lambda: raw.records.create("account", row), args.calls))
                guarded_t.append(
                    _per_call(lambda: guarded.records.create("account", row), args.calls)
                )
    noop = validator.guard(_NoopClient(), engine=engine)
    wrapper_t = [
        _per_call(lambda: noop.records.create("account", {"name": "x"}), 20_000)
        for _ in range(args.rounds)
    ]
    check_t = [
        _per_call(lambda: noop.checker.require("records.create", "Create", "account"), 20_000)
        for _ in range(args.rounds)
    ]
    trip = statistics.median(plain_t)
    with_guard = statistics.median(guarded_t)
    wrapper = statistics.median(wrapper_t)
    check = statistics.median(check_t)
    print(f"SDK records.create over https, {args.calls} calls x {args.rounds} rounds (medians)")
    print(f"  unguarded           {trip * 1e6:9.1f} us/call   (the loopback round trip)")
    print(f"  guarded             {with_guard * 1e6:9.1f} us/call   ratio {with_guard / trip:.3f}")
    print(
        f"  guard alone         {wrapper * 1e6:9.2f} us/call   {wrapper / trip * 100:.3f} % of a "
        "round trip (goal < 2 %)"
    )
    print(f"  Checker.require     {check * 1e6:9.2f} us/call   {check / trip * 100:.3f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())
