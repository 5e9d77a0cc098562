"""Test isolation: no real network, no real user cache or data directory.

* Any socket connection to a non-loopback address raises, so a test that would reach the real
  network fails loudly (the emulator in fixtures/ runs on 127.0.0.1).
* ``metadata.locations.user_cache_dir`` / ``user_data_dir`` raise unless a test chose a
  directory (``--cache-dir``, ``MSGAVAIL_CACHE_DIR`` or the ``cache_dir`` fixture).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import typing as t

import pytest

import metadata.locations

# The Web API emulator fixtures (emulator, start_emulator, token_env) for every test.
pytest_plugins = ("tests.emulator_fixtures", "tests.sdk_support")


class RealNetworkAccess(AssertionError):
    pass


class YouForgotToChooseADirectory(AssertionError):
    pass


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address: t.Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX
        return True
    host = address[0]
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: t.Any) -> None:
    if not _is_local(address):
        raise RealNetworkAccess(f"test tried to reach the real network: {address!r}")
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: t.Any) -> int:
    if not _is_local(address):
        raise RealNetworkAccess(f"test tried to reach the real network: {address!r}")
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def _no_real_network() -> t.Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


def _refuse(*_a: object, **_k: object) -> str:
    raise YouForgotToChooseADirectory(
        "a test used the real user cache/data directory; pass --cache-dir or use the "
        "cache_dir / data_dir fixtures"
    )


@pytest.fixture(autouse=True)
def _no_real_user_dirs(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    monkeypatch.setattr(metadata.locations, "user_cache_dir", _refuse)
    monkeypatch.setattr(metadata.locations, "user_data_dir", _refuse)
    for var in (
        "MSGAVAIL_CACHE_DIR",
        "MSGAVAIL_DATA_DIR",
        "MSGAVAIL_ORG",
        "MSGAVAIL_SNAPSHOT",
        "DATAVERSE_TOKEN",
        "GITHUB_ACTIONS",
        "TF_BUILD",
    ):
        monkeypatch.delenv(var, raising=False)
    # Subprocesses (CLI acceptance tests) must not find the real home either.
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", os.path.join(home, "no-cache-here"))
    monkeypatch.setenv("XDG_DATA_HOME", os.path.join(home, "no-data-here"))


@pytest.fixture
def cache_dir(tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh cache directory, also set as MSGAVAIL_CACHE_DIR."""
    d = str(tmp_path / "cache")
    monkeypatch.setenv("MSGAVAIL_CACHE_DIR", d)
    monkeypatch.setattr(metadata.locations, "user_cache_dir", lambda: d)
    return d


@pytest.fixture
def data_dir(tmp_path: t.Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh data directory (journals), also set as MSGAVAIL_DATA_DIR."""
    d = str(tmp_path / "data")
    monkeypatch.setenv("MSGAVAIL_DATA_DIR", d)
    monkeypatch.setattr(metadata.locations, "user_data_dir", lambda: d)
    return d
