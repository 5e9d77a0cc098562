"""Where bearer tokens come from: ``DATAVERSE_TOKEN``, or azure-identity (``msgavail[azure]``).

Providers sit behind one narrow interface (``TokenProvider.get_token() -> str``) so the Web API
client never knows how a token was obtained, and tests can hand in a fake credential object.
Tokens are wrapped so ``repr``/``str`` of a provider never shows them, and error messages name
where a token should come from, never the token.
"""

from __future__ import annotations

import os
import threading
import time
import typing as t

from metadata.errors import AuthenticationError

TOKEN_ENV = "DATAVERSE_TOKEN"

# RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/")


def check_token(token: str, origin: str) -> str:
    """``token`` if it has the shape of a bearer token (RFC 6750 ``b64token``), else an
    AuthenticationError saying what is wrong and where, never showing the token itself.

    A token with a line break would otherwise be quoted in full by httpx's "Illegal header
    value" error, and a non-ASCII one would fail deep inside the HTTP encoder.
    """
    if token.lower().startswith("bearer "):
        raise AuthenticationError(
            f"{origin} starts with 'Bearer ': set it to the token alone (msgavail adds the "
            "'Bearer ' prefix)"
        )
    body = token.rstrip("=")
    for position, char in enumerate(body, start=1):
        if char in _TOKEN_CHARS:
            continue
        if char in "\r\n":
            what = "a line break"
        elif char.isspace():
            what = "a space or other white space"
        elif not char.isascii():
            what = "a non-ASCII character"
        elif char == "=":
            what = "'=' before the end"
        elif not char.isprintable():
            what = "a control character"
        else:
            what = "a character a bearer token cannot contain"
        raise AuthenticationError(
            f"{origin} is not a bearer token: it contains {what} at position {position} of "
            f"{len(token)} (a token is one line of letters, digits and -._~+/ with optional "
            "trailing '='); check how it was set"
        )
    if not body:
        raise AuthenticationError(f"{origin} is not a bearer token: it holds no token characters")
    return token


class TokenProvider(t.Protocol):
    """Anything that can produce a bearer token for the org (called before each request)."""

    def get_token(self) -> str: ...


class StaticToken:
    """A fixed token (from the environment or a caller)."""

    def __init__(self, token: str, *, origin: str = "a static token") -> None:
        if not token.strip():
            raise AuthenticationError(f"no token: {origin} is empty")
        # Surrounding white space (a newline from `$(cat token.txt)`) is dropped; anything
        # else that is not token-shaped is refused here, before it can reach a header.
        self._token = check_token(token.strip(), origin)
        self.origin = origin

    def get_token(self) -> str:
        return self._token

    def __repr__(self) -> str:
        return f"<StaticToken from {self.origin}>"


class Credential(t.Protocol):
    """The part of an azure-identity credential msgavail uses."""

    def get_token(self, *scopes: str) -> t.Any: ...


class AzureCredentialToken:
    """Tokens from an azure-identity credential for scope ``{org}/.default``, cached until
    a minute before they expire."""

    def __init__(self, org: str, credential: Credential | None = None) -> None:
        from metadata.orgurl import normalize_org_url

        self.scope = normalize_org_url(org) + "/.default"
        self._credential = credential
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_on = 0.0

    def _get_credential(self) -> Credential:
        if self._credential is None:
            try:
                from azure.identity import DefaultAzureCredential
            except ImportError:
                raise AuthenticationError(
                    f"no token: set {TOKEN_ENV} or install msgavail[azure] to sign in with "
                    "azure-identity"
                ) from None
            self._credential = DefaultAzureCredential()
        return self._credential

    def get_token(self) -> str:
        with self._lock:
            if self._token is not None and time.time() < self._expires_on - 60:
                return self._token
            credential = self._get_credential()
            try:
                access = credential.get_token(self.scope)
            except Exception as exc:  # azure-identity raises several unrelated types
                # Their messages name the credential chain, never a token; keep the first line.
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise AuthenticationError(
                    f"authentication failed: could not get a token for {self.scope} ({first}); "
                    f"sign in (e.g. `az login`) or set {TOKEN_ENV}"
                ) from None
            self._token = check_token(str(access.token), "the token from azure-identity")
            self._expires_on = float(getattr(access, "expires_on", 0) or 0)
            return self._token

    def __repr__(self) -> str:
        return f"<AzureCredentialToken scope={self.scope}>"


def default_provider(
    org: str,
    *,
    environ: t.Mapping[str, str] | None = None,
    credential: Credential | None = None,
) -> TokenProvider:
    """``DATAVERSE_TOKEN`` when set; otherwise azure-identity's DefaultAzureCredential."""
    env = os.environ if environ is None else environ
    token = env.get(TOKEN_ENV)
    if token:
        return StaticToken(token, origin=TOKEN_ENV)
    return AzureCredentialToken(org, credential)
