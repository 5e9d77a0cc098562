"""Running the app on uvicorn: our own listening socket, a request-head deadline, graceful stop.

Why uvicorn (with uvloop and httptools, the ``uvicorn[standard]`` stack) and Starlette: see
README "msgavail serve" and BENCHMARKS.md. In short, the reference ASGI server, measured here at
~15,000 constant-JSON requests/s on one core, and it takes a socket we bound ourselves, so
``--port 0`` reports the port the kernel chose before any request arrives.

Slow clients: uvicorn bounds idle keep-alive connections (``timeout_keep_alive``) but not a
request head that trickles in. ``_head_deadline_protocol`` closes a connection whose request
line and headers are not complete ``timeout`` seconds after they began (with a 408); the app
bounds the body the same way. A stalled client costs one idle socket for at most that long,
never a worker: uvicorn serves other connections from the same event loop meanwhile.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import typing as t

from metadata.errors import ConfigError

if t.TYPE_CHECKING:
    import asyncio

    from starlette.applications import Starlette

_408_BODY = (
    b'{"error":{"status":408,"code":"request-timeout","message":"request head not received"}}'
)
_408 = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nConnection: close\r\n"
    b"Content-Length: " + str(len(_408_BODY)).encode() + b"\r\n\r\n" + _408_BODY
)


def bind(host: str, port: int, *, backlog: int = 2048) -> socket.socket:
    """A listening TCP socket on (host, port); port 0 lets the kernel choose."""
    bare = host.strip("[]")
    try:
        infos = socket.getaddrinfo(bare, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"--host {host}: cannot resolve: {exc.strerror}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _head_deadline_protocol(timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol, with a deadline on each request's head."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HeadDeadlineProtocol(HttpToolsProtocol):
        _head_timer: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(timeout, self._expired)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _expired(self) -> None:
            self._head_timer = None
            if not self.transport.is_closing():
                self.transport.write(_408)
                self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self.cycle is None or self.cycle.response_complete:
                self._arm()  # bytes of a new request head (pipelined or after keep-alive)
            super().data_received(data)

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeadDeadlineProtocol


def run(
    app: Starlette,
    sock: socket.socket,
    *,
    timeout: float,
    grace: float,
    access_log: bool = False,
    limit_concurrency: int | None = 2048,
) -> None:
    """Serve ``app`` on ``sock`` until SIGTERM / SIGINT; in-flight requests get ``grace``
    seconds to finish (uvicorn stops accepting at once and closes idle connections)."""
    import uvicorn

    _Server = _server_class()
    config = uvicorn.Config(
        app,
        http=_head_deadline_protocol(timeout),
        loop="auto",
        lifespan="on",
        log_config=None,
        log_level="warning",
        access_log=access_log,
        server_header=False,
        date_header=True,
        timeout_keep_alive=max(1, int(timeout)),
        timeout_graceful_shutdown=max(1, int(grace)),
        limit_concurrency=limit_concurrency,
        backlog=2048,
    )
    _Server(config).run(sockets=[sock])


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, minus re-raising SIGTERM after the graceful stop: a service
        that stopped because it was asked to has succeeded (exit status 0)."""

        @contextlib.contextmanager
        def capture_signals(self) -> t.Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            handled = (signal.SIGINT, signal.SIGTERM)
            original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

    return Server
