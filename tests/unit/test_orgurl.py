from __future__ import annotations

import pytest

from metadata.errors import InsecureURLError
from metadata.orgurl import normalize_org_url


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("https://Contoso.crm4.dynamics.com/", "https://contoso.crm4.dynamics.com"),
        ("https://contoso.crm.dynamics.com:443/api/data/v9.2/", "https://contoso.crm.dynamics.com"),
        ("https://contoso.crm.dynamics.com:8443", "https://contoso.crm.dynamics.com:8443"),
        ("http://127.0.0.1:5555", "http://127.0.0.1:5555"),
        ("http://localhost:80/", "http://localhost"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_normal_form(given, normal):
    assert normalize_org_url(given) == normal


@pytest.mark.parametrize(
    ("given", "complaint"),
    [
        ("http://contoso.crm.dynamics.com", "loopback"),
        ("http://10.0.0.5:8080", "loopback"),
        ("contoso.crm.dynamics.com", "not an organization URL"),
        ("ftp://contoso.crm.dynamics.com", "scheme"),
        ("https://user:pw@contoso.crm.dynamics.com", "user name or password"),
        ("https://contoso.crm.dynamics.com/main.aspx", "org root"),
        ("https://contoso.crm.dynamics.com/?x=1", "query"),
    ],
)
def test_refused(given, complaint):
    with pytest.raises(InsecureURLError, match=complaint):
        normalize_org_url(given)
