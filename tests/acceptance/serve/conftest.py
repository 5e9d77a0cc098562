"""Fixtures that run ``msgavail serve`` as a subprocess on a loopback port."""

from __future__ import annotations

import typing as t

import pytest

from tests.serve_support import ServeProcess, clean_env


@pytest.fixture(scope="module")
def published_server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[ServeProcess]:
    """One server over the published default, shared by a module's read-only tests."""
    home = str(tmp_path_factory.mktemp("serve-home"))
    server = ServeProcess.start([], clean_env(home))
    yield server
    assert server.stop() == 0


@pytest.fixture
def start_server(tmp_path: t.Any) -> t.Iterator[t.Callable[..., ServeProcess]]:
    """Start servers with the given arguments; stopped (SIGTERM) at the end of the test."""
    started: list[ServeProcess] = []

    def _start(*args: str, **env: str) -> ServeProcess:
        server = ServeProcess.start(list(args), clean_env(str(tmp_path), **env))
        started.append(server)
        return server

    yield _start
    for server in started:
        server.stop()
