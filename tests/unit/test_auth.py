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


@pytest.mark.parametrize(
    ("token", "what"),
    [
        ("eyJhbGciOi.secret-part\nX-Injected: 1", "a line break at position 23 of 36"),
        ("eyJhbGciOi.s\u00e9cret-part", "a non-ASCII character at position 13"),
        ("eyJhbGciOi secret-part", "a space or other white space at position 11"),
        ("eyJhbGciOi\x00secret-part", "a control character at position 11"),
        ("eyJhbGciOi=secret-part", "'=' before the end at position 11"),
        ("eyJhbGciOi;secret-part", "a character a bearer token cannot contain at position 11"),
    ],
)
def test_a_malformed_token_is_refused_without_echoing_it(token: str, what: str) -> None:
    with pytest.raises(AuthenticationError) as info:
        default_provider("https://contoso.crm.dynamics.com", environ={"DATAVERSE_TOKEN": token})
    message = str(info.value)
    assert message.startswith(f"DATAVERSE_TOKEN is not a bearer token: it contains {what}")
    assert "secret-part" not in message and "eyJhbGciOi" not in message


def test_token_shapes_that_are_fine() -> None:
    for token in ("abc", "eyJ0.eyJz.c2ln", "a-b_c~d+e/f==", "  padded-by-a-newline\n"):
        provider = default_provider(
            "https://c.crm.dynamics.com", environ={"DATAVERSE_TOKEN": token}
        )
        assert provider.get_token() == token.strip()
    with pytest.raises(AuthenticationError, match="starts with 'Bearer '"):
        StaticToken("Bearer abc", origin="DATAVERSE_TOKEN")


class MultiLineCredential(FakeCredential):
    def get_token(self, *scopes: str) -> AccessToken:
        return AccessToken("first-line\nsecond-line", int(self.now + self.lifetime))


def test_a_malformed_azure_token_is_refused_too() -> None:
    provider = AzureCredentialToken(
        "https://contoso.crm.dynamics.com", MultiLineCredential(0.0, lifetime=10**10)
    )
    with pytest.raises(AuthenticationError, match="azure-identity is not a bearer token"):
        provider.get_token()
