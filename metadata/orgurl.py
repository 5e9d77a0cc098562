"""Organization URLs: one normal form (the cache key) and the http-only-on-loopback rule."""

from __future__ import annotations

import ipaddress
import urllib.parse

from metadata.errors import InsecureURLError

API_PATH = "/api/data/v9.2/"


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalize_org_url(url: str) -> str:
    """``https://Contoso.crm.dynamics.com/`` -> ``https://contoso.crm.dynamics.com``.

    Accepts a trailing ``/api/data/v9.x/``; refuses credentials, queries, other paths, schemes
    other than https, and http:// unless the host is loopback (tokens must not travel in clear).
    """
    text = url.strip()
    if "://" not in text:
        raise InsecureURLError(
            f"not an organization URL: {url!r} (expected e.g. https://contoso.crm.dynamics.com)"
        )
    parts = urllib.parse.urlsplit(text)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if not host:
        raise InsecureURLError(f"not an organization URL: {url!r} (no host)")
    if parts.username or parts.password:
        raise InsecureURLError("the organization URL must not contain a user name or password")
    if parts.query or parts.fragment:
        raise InsecureURLError(f"the organization URL must not have a query: {url!r}")
    path = parts.path.rstrip("/")
    if path and not (path.startswith("/api/data/v9.") and path.count("/") == 3):
        raise InsecureURLError(
            f"not an organization URL: {url!r} (give the org root, e.g. https://contoso.crm.dynamics.com)"
        )
    if scheme == "http":
        if not is_loopback(host):
            raise InsecureURLError(
                f"refusing http:// to {host}: use https:// "
                "(http is allowed only for loopback hosts)"
            )
    elif scheme != "https":
        raise InsecureURLError(f"unsupported URL scheme {scheme!r} in {url!r}: use https://")
    try:
        port = parts.port
    except ValueError:
        raise InsecureURLError(f"bad port in organization URL {url!r}") from None
    default = {"http": 80, "https": 443}[scheme]
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != default:
        netloc += f":{port}"
    return f"{scheme}://{netloc}"
