"""msgavail's Web API client over https: it trusts the CA that REQUESTS_CA_BUNDLE /
SSL_CERT_FILE / SSL_CERT_DIR (or ``verify=``) names, as other tools do, so ``msgavail harvest``
works against the emulator's ``--tls`` (a private CA); a certificate that does not verify is
one clear line and exit 2, at once (no retries), never a fallback to no verification."""

from __future__ import annotations

import ssl
import typing as t

import pytest

from fixtures.emulator import Emulator
from metadata.auth import StaticToken
from metadata.errors import ConfigError, TransportError
from metadata.webapi import WebAPIClient, trust_anchors
from tests.cli_runner import run_cli
from tests.emulator_fixtures import EMULATOR_TOKEN

CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR", "CURL_CA_BUNDLE")


@pytest.fixture
def tls_org(start_emulator: t.Callable[..., Emulator], monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """An https emulator and an environment that names no CA (as on a clean machine)."""
    for name in CA_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return start_emulator(tls=True)


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def test_harvest_over_https_trusts_the_ca_ssl_cert_file_names(
    tls_org, cache_dir, token_env, monkeypatch, capsys
):
    monkeypatch.setenv("SSL_CERT_FILE", str(tls_org.ca_file))
    r = run_cli(["harvest", "--org", tls_org.url], capsys)
    assert r.exit_code == 0, r.stderr
    assert f"harvested {tls_org.url}" in r.stdout
    assert tls_org.count("sdkmessagefilters", "GET") >= 1
    check = run_cli(["check", "Create", "queue", "--org", tls_org.url], capsys)
    # The org's own data answers (the published default says Server-only for queue).
    assert check.exit_code == 0 and f"harvest of {tls_org.url}" in check.stdout


def test_without_the_ca_harvest_fails_with_one_certificate_line_and_exit_2(
    tls_org, cache_dir, token_env, capsys
):
    r = run_cli(["harvest", "--org", tls_org.url], capsys)
    assert r.exit_code == 2
    line = _one_line(r.stderr)
    assert line.startswith(
        f"msgavail: error: could not verify the TLS certificate of {tls_org.url}: "
    )
    assert "certifi" in line and "REQUESTS_CA_BUNDLE" in line  # what was trusted, what to do
    assert "attempts" not in line  # not retried: a certificate does not heal
    assert EMULATOR_TOKEN not in r.stdout + r.stderr
    assert tls_org.count() == 0  # no request got through the failed handshake


def test_requests_ca_bundle_wins_over_a_machine_wide_ssl_cert_file(
    tls_org, cache_dir, token_env, monkeypatch, capsys
):
    monkeypatch.setenv("SSL_CERT_FILE", ssl.get_default_verify_paths().openssl_cafile)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_org.ca_file))  # what the SDK trusts
    assert run_cli(["harvest", "--org", tls_org.url], capsys).exit_code == 0


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SSL_CERT_FILE", "{tmp}/missing.pem", "SSL_CERT_FILE: no CA certificate file"),
        ("REQUESTS_CA_BUNDLE", "{tmp}", "is a directory, not a PEM file"),
        ("REQUESTS_CA_BUNDLE", "{tmp}/junk.pem", "cannot load CA certificates from"),
        ("SSL_CERT_DIR", "{tmp}/nowhere", "SSL_CERT_DIR: "),
    ],
)
def test_a_ca_variable_that_names_no_usable_ca_is_a_clear_error_naming_it(
    tls_org, cache_dir, token_env, monkeypatch, capsys, tmp_path, variable, value, expected
):
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    monkeypatch.setenv(variable, value.format(tmp=tmp_path))
    r = run_cli(["harvest", "--org", tls_org.url], capsys)
    assert r.exit_code == 2
    line = _one_line(r.stderr)
    assert expected in line and variable in line
    assert tls_org.count() == 0


def test_library_callers_pass_verify_as_a_ca_file_or_an_ssl_context(tls_org):
    ca = str(tls_org.ca_file)
    for verify in (ca, ssl.create_default_context(cafile=ca)):
        with WebAPIClient(tls_org.url, StaticToken(EMULATOR_TOKEN), verify=verify) as client:
            assert client.get_json("WhoAmI")["UserId"]
    with (
        pytest.raises(TransportError, match="could not verify the TLS certificate"),
        WebAPIClient(tls_org.url, StaticToken(EMULATOR_TOKEN), sleep=_no_sleep) as client,
    ):
        client.get_json("WhoAmI")
    assert client.requests_sent == 1


def test_trust_anchors_order_and_what_each_choice_reports(tmp_path, tls_org):
    ca = str(tls_org.ca_file)
    both = {"REQUESTS_CA_BUNDLE": ca, "SSL_CERT_FILE": str(tmp_path / "missing")}
    assert trust_anchors(environ=both)[1] == f"REQUESTS_CA_BUNDLE={ca}"
    assert trust_anchors(environ={"SSL_CERT_FILE": ca})[1] == f"SSL_CERT_FILE={ca}"
    assert trust_anchors(environ={"SSL_CERT_FILE": " "}) == (None, "certifi's CA bundle")
    with pytest.raises(ConfigError, match="SSL_CERT_FILE"):
        trust_anchors(environ={"SSL_CERT_FILE": str(tmp_path / "missing")})


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"a certificate failure was retried (sleep {seconds})")
