"""Microsoft's Dataverse SDK (``PowerPlatform.Dataverse``) against the emulator over https.

``sdk_emulator``: an emulator serving https with a certificate from its own local CA, and
``REQUESTS_CA_BUNDLE`` pointing at that CA, so the SDK verifies it as it would a real org.
``sdk_client``: a ``DataverseClient`` on it. The credential is the one stand-in: Entra ID
cannot exist here, so ``StaticCredential`` hands out the emulator's token.
"""

from __future__ import annotations

import time
import typing as t

import pytest

from fixtures.emulator import Emulator
from tests.emulator_fixtures import EMULATOR_TOKEN


class StaticCredential:
    """An azure-core ``TokenCredential`` that returns a fixed token (no sign-in)."""

    def __init__(self, token: str = EMULATOR_TOKEN) -> None:
        self.token = token
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: t.Any) -> t.Any:
        from azure.core.credentials import AccessToken

        self.calls += 1
        return AccessToken(self.token, int(time.time()) + 3600)


@pytest.fixture
def sdk_emulator(
    start_emulator: t.Callable[..., Emulator], monkeypatch: pytest.MonkeyPatch
) -> Emulator:
    emu = start_emulator(tls=True)
    assert emu.ca_file is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emu.ca_file)
    return emu


@pytest.fixture
def sdk_client(sdk_emulator: Emulator) -> t.Iterator[t.Any]:
    from PowerPlatform.Dataverse.client import DataverseClient
    from PowerPlatform.Dataverse.core.config import DataverseConfig

    # One attempt per request: a test that fails should fail at once, not after backoff.
    with DataverseClient(
        sdk_emulator.url, StaticCredential(), DataverseConfig(http_retries=1)
    ) as client:
        yield client
