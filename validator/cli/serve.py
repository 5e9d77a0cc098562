"""``msgavail serve``: the availability service over HTTP (JSON under /v1).

The server stack (Starlette on uvicorn) is the optional extra ``msgavail[serve]`` and is
imported only here, inside the command, so ``msgavail check`` never loads it.
"""

from __future__ import annotations

import re
import typing as t

import click

from validator.cli import EXIT_OK
from validator.cli.options import data_source_options

_SIZE = re.compile(r"^\s*(\d+)\s*(b|k|kb|kib|m|mb|mib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "mib": 1024**2,
}


class ByteSize(click.ParamType):  # type: ignore[type-arg]
    name = "SIZE"

    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, int):
            return value
        m = _SIZE.match(str(value))
        if not m or int(m.group(1)) <= 0:
            self.fail(f"{value!r} is not a size (e.g. 4MiB, 512KiB, 1048576)", param, ctx)
        return int(m.group(1)) * _SIZE_UNITS[(m.group(2) or "").lower()]


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on. Loopback unless you ask for another.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8080,
    show_default=True,
    help="TCP port; 0 picks a free one (printed on start).",
)
@click.option(
    "--cors",
    "cors",
    metavar="ORIGIN",
    multiple=True,
    help="Allow browser requests from ORIGIN (repeatable). Off by default.",
)
@click.option(
    "--max-body-size",
    type=ByteSize(),
    default="4MiB",
    show_default=True,
    help="Largest /v1/lint body accepted; larger ones get 413.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds a client gets to send a request's head, and again its body.",
)
@click.option(
    "--grace",
    type=click.FloatRange(min=0.0),
    default=30.0,
    show_default=True,
    help="On SIGTERM, seconds in-flight requests get to finish.",
)
@click.option(
    "--refresh-interval",
    type=click.FloatRange(min=0.0),
    default=2.0,
    show_default=True,
    help="Seconds between looks for a newer harvest or snapshot file (0: never).",
)
@click.option("--access-log", is_flag=True, help="Log each request on stderr.")
@click.option(
    "--bench-endpoint",
    is_flag=True,
    hidden=True,
    help="Also serve GET /_bench/constant (bench/serve_bench.py's baseline).",
)
@data_source_options
def serve(
    host: str,
    port: int,
    cors: tuple[str, ...],
    max_body_size: int,
    timeout: float,
    grace: float,
    refresh_interval: float,
    access_log: bool,
    bench_endpoint: bool,
    snapshot: str | None,
    org: str | None,
    cache_dir: str | None,
) -> int:
    """Serve availability answers over HTTP: GET /v1/check, POST /v1/lint, /v1/messages,
    /v1/tables/NAME, /v1/snapshot, /healthz and /openapi.json (OpenAPI 3.1).

    The data source is chosen as for every command (--snapshot, --org, else the published
    default); with --org or --snapshot a newer harvest or file is picked up without a restart.
    Stops gracefully on SIGTERM / Ctrl-C.
    """
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        from metadata.errors import MsgavailError

        raise MsgavailError(
            f"`msgavail serve` needs the serve extra ({exc.name} is missing): "
            "pip install 'msgavail[serve]'"
        ) from None
    from validator.serve import Holder, ServeSettings, SourceSpec, create_app
    from validator.serve.server import bind, run, url_of

    holder = Holder(SourceSpec(snapshot=snapshot, org=org, cache_dir=cache_dir))
    try:
        settings = ServeSettings(
            max_body=max_body_size,
            timeout=timeout,
            refresh_interval=refresh_interval,
            cors_origins=cors,
            bench_endpoint=bench_endpoint,
        )
        app = create_app(holder, settings)
        sock = bind(host, port)
        click.echo(
            f"serving {url_of(sock)} (source {holder.current.engine.source.describe()})", err=True
        )
        run(app, sock, timeout=timeout, grace=grace, access_log=access_log)
    finally:
        holder.close()
    click.echo("msgavail: serve stopped", err=True)
    return EXIT_OK
