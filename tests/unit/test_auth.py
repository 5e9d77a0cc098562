"""Token providers: the environment, and azure-identity behind a fake credential object."""

from __future__ import annotations

import sys
import typing as t

import pytest

from metadata.auth import AzureCredentialToken, StaticToken, default_provider
from metadata.errors import AuthenticationError


class AccessToken(t.NamedTuple):
    token: str
    expires_on: int


class FakeCredential:
    """Stands in for DefaultAzureCredential (Entra ID sign-in cannot happen here)."""

    def __init__(self, now: float, lifetime: int = 3600, fail: Exception | None = None):
        self.scopes: list[tuple[str, ...]] = []
        self.now = now
        self.lifetime = lifetime
        self.fail = fail

    def get_token(self, *scopes: str) -> AccessToken:
        self.scopes.append(scopes)
        if self.fail:
            raise self.fail
        return AccessToken(f"azure-token-{len(self.scopes)}", int(self.now + self.lifetime))


def test_env_token_wins():
    provider = default_provider(
        "https://contoso.crm.dynamics.com", environ={"DATAVERSE_TOKEN": "abc"}
    )
    assert provider.get_token() == "abc"
    assert "abc" not in repr(provider)


def test_azure_credential_asks_for_org_default_scope_and_caches():
    import time

    cred = FakeCredential(time.time())
    provider = default_provider("https://Contoso.crm.dynamics.com/", environ={}, credential=cred)
    assert provider.get_token() == "azure-token-1"
    assert provider.get_token() == "azure-token-1"
    assert cred.scopes == [("https://contoso.crm.dynamics.com/.default",)]
    assert "azure-token" not in repr(provider)


def test_expiring_token_is_renewed():
    import time

    cred = FakeCredential(time.time(), lifetime=30)  # inside the one-minute margin
    provider = AzureCredentialToken("https://contoso.crm.dynamics.com", cred)
    assert provider.get_token() == "azure-token-1"
    assert provider.get_token() == "azure-token-2"


def test_credential_failure_is_an_authentication_error():
    cred = FakeCredential(
        0, fail=RuntimeError("DefaultAzureCredential failed to retrieve a token\nmore")
    )
    provider = AzureCredentialToken("https://contoso.crm.dynamics.com", cred)
    with pytest.raises(AuthenticationError, match=r"authentication failed.*az login") as info:
        provider.get_token()
    assert "\n" not in str(info.value)


def test_without_azure_identity_the_message_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "azure.identity", None)  # import fails
    provider = default_provider("https://contoso.crm.dynamics.com", environ={})
    with pytest.raises(AuthenticationError, match=r"DATAVERSE_TOKEN.*msgavail\[azure\]"):
        provider.get_token()


def test_empty_token_is_refused():
    with pytest.raises(AuthenticationError):
        StaticToken("  ")
