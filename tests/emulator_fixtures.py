"""Pytest fixtures that start the Dataverse Web API emulator (fixtures/emulator) on loopback.

``emulator`` gives a started ``Emulator`` seeded with the synthetic org and requiring the token
``EMULATOR_TOKEN``: ``emulator.url`` is the org URL, ``emulator.count(path)`` counts requests,
``emulator.faults`` scripts 429 / 503 / dropped connections / slow answers, ``emulator.store``
holds the data. ``start_emulator(**kw)`` starts more (other seeds, page sizes) and stops them
at the end of the test.
"""

from __future__ import annotations

import typing as t

import pytest

from fixtures.emulator import Emulator, start

EMULATOR_TOKEN = "emulator-test-token-5f0c1d"


@pytest.fixture
def start_emulator() -> t.Iterator[t.Callable[..., Emulator]]:
    started: list[Emulator] = []

    def _start(**kwargs: t.Any) -> Emulator:
        kwargs.setdefault("token", EMULATOR_TOKEN)
        emu = start(**kwargs)
        started.append(emu)
        return emu

    yield _start
    for emu in started:
        emu.stop()


@pytest.fixture
def emulator(start_emulator: t.Callable[..., Emulator]) -> Emulator:
    return start_emulator()


@pytest.fixture
def token_env(monkeypatch: pytest.MonkeyPatch) -> str:
    """DATAVERSE_TOKEN set to the emulator's token."""
    monkeypatch.setenv("DATAVERSE_TOKEN", EMULATOR_TOKEN)
    return EMULATOR_TOKEN
