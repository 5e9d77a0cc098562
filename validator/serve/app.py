"""The ASGI application: routes under /v1 over the current DataState, errors as JSON.

Handlers only translate HTTP to library calls and back: /v1/check is ``Engine.check``,
/v1/lint is the linter (``Linter.lint_operations`` over the plan readers) and its reporters,
the rest read the snapshot. Every error is ``{"error": {"status", "code", "message", ...}}``.
Nothing here opens a file: a request's ``path`` parameter only names the plan in diagnostics.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import typing as t
import urllib.parse

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from metadata import __version__
from metadata.errors import (
    ConfigError,
    DataUnavailableError,
    MsgavailError,
    PlanError,
    UnknownMessageError,
    UnknownNameError,
    UnknownProfileError,
    UnknownTableError,
)
from validator.serve.state import DataState, Holder
from validator.serve.state import Response as Answer

JSON = "application/json"
SARIF = "application/sarif+json"
DEFAULT_MAX_BODY = 4 * 1024 * 1024
DEFAULT_TIMEOUT = 10.0
DEFAULT_REFRESH_INTERVAL = 2.0

CHECK_PARAMS = frozenset({"message", "table", "secondary", "mode", "profile", "ownership"})
LINT_PARAMS = frozenset(
    {"mode", "format", "path", "select", "ignore", "profile", "max_metadata_age"}
)
# Plan formats a lint body may be in, and the Content-Types that choose them.
PLAN_FORMATS = ("json", "yaml", "batch", "soap")
_MEDIA_FORMATS = {
    "application/json": "json",
    "text/json": "json",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
    "text/x-yaml": "yaml",
    "multipart/mixed": "batch",
    "application/xml": "soap",
    "text/xml": "soap",
    "application/soap+xml": "soap",
}


@dataclasses.dataclass(frozen=True)
class ServeSettings:
    """Limits and switches of one service (the CLI fills them from its options)."""

    max_body: int = DEFAULT_MAX_BODY
    """Largest request body accepted (bytes); larger ones get 413."""
    timeout: float = DEFAULT_TIMEOUT
    """Seconds a client has to send a request's head, and again its body (then 408)."""
    refresh_interval: float = DEFAULT_REFRESH_INTERVAL
    """Seconds between looks at the data source for a newer harvest (0: never)."""
    cors_origins: tuple[str, ...] = ()
    bench_endpoint: bool = False
    """Mount GET /_bench/constant (a constant JSON object): bench/serve_bench.py's baseline."""


class ApiError(Exception):
    """An answer other than 200, raised by a handler and rendered by ``_error``."""

    def __init__(self, status: int, code: str, message: str, **extra: t.Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def body(self) -> bytes:
        return _dumps(
            {
                "error": {
                    "status": self.status,
                    "code": self.code,
                    "message": self.message,
                    **self.extra,
                }
            }
        )


def _dumps(obj: t.Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json(body: bytes, status: int = 200, headers: t.Mapping[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type=JSON, headers=headers)


def _error(exc: ApiError) -> Response:
    return _json(exc.body(), exc.status)


def _name_error(exc: UnknownNameError) -> ApiError:
    code = (
        "unknown-message"
        if isinstance(exc, UnknownMessageError)
        else "unknown-table"
        if isinstance(exc, UnknownTableError)
        else "unknown-profile"
        if isinstance(exc, UnknownProfileError)
        else "unknown-name"
    )
    return ApiError(404, code, str(exc), name=exc.name, suggestions=list(exc.suggestions))


def _params(request: Request, allowed: frozenset[str]) -> dict[str, str]:
    """The query parameters (last value wins); unknown names are a 400, so typos show."""
    try:
        pairs = urllib.parse.parse_qsl(
            request.scope["query_string"].decode("latin-1"),
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
        )
    except UnicodeDecodeError:
        raise ApiError(400, "bad-parameter", "query string is not UTF-8") from None
    out: dict[str, str] = {}
    for k, v in pairs:
        if k not in allowed:
            raise ApiError(
                400,
                "bad-parameter",
                f"unknown parameter {k!r} (expected {', '.join(sorted(allowed))})",
            )
        out[k] = v
    return out


def _optional(params: t.Mapping[str, str], name: str) -> str | None:
    value = params.get(name)
    if value is None or value.strip() == "":
        return None
    return value


class Service:
    """The handlers, over one Holder."""

    def __init__(self, holder: Holder, settings: ServeSettings) -> None:
        self.holder = holder
        self.settings = settings

    # -- /v1/check -----------------------------------------------------------------------------
    async def check(self, request: Request) -> Response:
        state = self.holder.current
        key = request.scope["query_string"]
        answer = state.check_memo.get(key)
        if answer is None:
            answer = state.remember(key, self._check(state, request))
        return _json(answer.body, answer.status)

    def _check(self, state: DataState, request: Request) -> Answer:
        try:
            p = _params(request, CHECK_PARAMS)
            message = _optional(p, "message")
            if message is None:
                raise ApiError(400, "bad-parameter", "parameter 'message' is required")
            verdict = state.engine.check(
                message,
                _optional(p, "table"),
                _optional(p, "secondary"),
                t.cast(t.Any, _optional(p, "mode") or "offline"),
                ownership=_optional(p, "ownership"),
                profile=_optional(p, "profile"),
            )
            return Answer(200, _dumps(verdict.to_json()))
        except ApiError as exc:
            return Answer(exc.status, exc.body())
        except UnknownNameError as exc:
            err = _name_error(exc)
            return Answer(err.status, err.body())
        except (ConfigError, ValueError) as exc:
            return Answer(400, ApiError(400, "bad-parameter", str(exc)).body())
        except DataUnavailableError as exc:  # e.g. mode mobile over data without profiles
            return Answer(400, ApiError(400, "data-unavailable", str(exc)).body())

    # -- /v1/lint ------------------------------------------------------------------------------
    async def lint(self, request: Request) -> Response:
        state = self.holder.current
        p = _params(request, LINT_PARAMS)
        fmt = self._plan_format(request, p)
        sarif = SARIF in request.headers.get("accept", "")
        body = await self._body(request)
        path = _optional(p, "path") or f"<request>.{fmt}"
        report, status = await anyio.to_thread.run_sync(
            self._lint, state, p, fmt, body, path, sarif
        )
        return Response(report, status_code=status, media_type=SARIF if sarif else JSON)

    def _plan_format(self, request: Request, p: t.Mapping[str, str]) -> str:
        chosen = _optional(p, "format")
        if chosen is not None:
            chosen = chosen.lower()
            if chosen == "yml":
                chosen = "yaml"
            if chosen not in PLAN_FORMATS:
                raise ApiError(
                    400,
                    "bad-parameter",
                    f"unknown format {chosen!r} (expected {', '.join(PLAN_FORMATS)})",
                )
            return chosen
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media.endswith("+json"):
            media = JSON
        found = _MEDIA_FORMATS.get(media)
        if found is None:
            raise ApiError(
                415,
                "unsupported-media-type",
                f"cannot tell the plan format from Content-Type {media or '(none)'!r}: send "
                f"{', '.join(sorted(_MEDIA_FORMATS))}, or pass format=json|yaml|batch|soap",
            )
        return found

    async def _body(self, request: Request) -> bytes:
        limit = self.settings.max_body
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                raise ApiError(400, "bad-request", "Content-Length is not a number") from None
            if size > limit:
                raise ApiError(
                    413,
                    "body-too-large",
                    f"request body of {size} bytes exceeds the limit of {limit}",
                )
        chunks: list[bytes] = []
        received = 0
        try:
            with anyio.fail_after(self.settings.timeout):
                async for chunk in request.stream():
                    received += len(chunk)
                    if received > limit:
                        raise ApiError(
                            413,
                            "body-too-large",
                            f"request body exceeds the limit of {limit} bytes",
                        )
                    chunks.append(chunk)
        except TimeoutError:
            raise ApiError(
                408,
                "request-timeout",
                f"the request body was not received within {self.settings.timeout:g} s",
            ) from None
        return b"".join(chunks)

    def _lint(
        self,
        state: DataState,
        p: t.Mapping[str, str],
        fmt: str,
        body: bytes,
        path: str,
        sarif: bool,
    ) -> tuple[bytes, int]:
        from validator.linter import LintConfig, Linter
        from validator.linter.config import parse_age, parse_codes
        from validator.linter.diagnostics import LintResult
        from validator.reporters import REPORTERS, ReportContext

        try:
            select = _optional(p, "select")
            ignore = _optional(p, "ignore")
            config = LintConfig().replace(
                mode=_optional(p, "mode"),
                select=parse_codes(select, where="select") if select else None,
                ignore=parse_codes(ignore, where="ignore") if ignore else None,
                profile=_optional(p, "profile"),
            )
            age = _optional(p, "max_metadata_age")
            if age is not None:
                config = config._replace(max_metadata_age=parse_age(age, where="max_metadata_age"))
            if config.mode not in _modes():
                raise ConfigError(f"unknown mode {config.mode!r}: expected {', '.join(_modes())}")
            linter = Linter(state.engine, config)
        except UnknownNameError as exc:
            err = _name_error(exc)
            return err.body(), err.status
        except (ConfigError, ValueError) as exc:
            return ApiError(400, "bad-parameter", str(exc)).body(), 400
        except DataUnavailableError as exc:
            return ApiError(400, "data-unavailable", str(exc)).body(), 400
        failures: tuple[PlanError, ...] = ()
        count = 0
        try:
            ops = list(_read_plan(fmt, body, path, linter))
            count = len(ops)
            diagnostics = tuple(linter.lint_operations(path, ops))
        except PlanError as exc:
            diagnostics, failures = (), (exc,)
        result = LintResult(diagnostics, 1, count, failures, state.engine.source.describe())
        ctx = ReportContext(root=".", mode=config.mode, version=__version__)
        if sarif:
            return REPORTERS["sarif"](result, ctx).encode("utf-8"), 200 if not failures else 422
        report = result.to_json()
        if failures:
            # The read error the CLI prints on stderr, as data: the plan was not linted.
            report["failures"] = [_failure(f) for f in failures]
            return _dumps(report), 422
        return _dumps(report), 200

    # -- metadata ------------------------------------------------------------------------------
    async def messages(self, request: Request) -> Response:
        state = self.holder.current
        _params(request, frozenset())
        rows = [_message_json(m) for m in state.snapshot.messages]
        return _json(_dumps({"source": state.engine.source.to_json(), "messages": rows}))

    async def message(self, request: Request) -> Response:
        state = self.holder.current
        _params(request, frozenset())
        name = request.path_params["name"]
        try:
            canonical = state.engine.names.message(name)
        except UnknownNameError as exc:
            raise _name_error(exc) from None
        msg = state.snapshot.message(canonical)
        assert msg is not None
        filters = [
            {
                "primary_table": f.primary,
                "secondary_table": f.secondary,
                "availability": f.availability.label,
                "offline": msg.availability.allows("offline") and f.availability.allows("offline"),
                "online": msg.availability.allows("online") and f.availability.allows("online"),
            }
            for f in state.snapshot.filters_for(canonical)
        ]
        out = {**_message_json(msg), "filters": filters, "source": state.engine.source.to_json()}
        return _json(_dumps(out))

    async def table(self, request: Request) -> Response:
        state = self.holder.current
        _params(request, frozenset())
        name = request.path_params["name"]
        try:
            logical = state.engine.names.table(name)
        except UnknownNameError as exc:
            raise _name_error(exc) from None
        tb = state.snapshot.table(logical)
        info: dict[str, t.Any] = (
            {k: v for k, v in tb._asdict().items()} if tb is not None else {"logical_name": logical}
        )
        rows = []
        for f in state.filters_for_table(logical):
            msg = state.snapshot.message(f.message)
            m_av = msg.availability if msg is not None else None
            rows.append(
                {
                    "message": f.message,
                    "secondary_table": f.secondary,
                    "message_availability": m_av.label if m_av is not None else None,
                    "filter_availability": f.availability.label,
                    "offline": bool(
                        m_av and m_av.allows("offline") and f.availability.allows("offline")
                    ),
                    "online": bool(
                        m_av and m_av.allows("online") and f.availability.allows("online")
                    ),
                }
            )
        out = {**info, "filters": rows, "source": state.engine.source.to_json()}
        return _json(_dumps(out))

    async def snapshot(self, request: Request) -> Response:
        state = self.holder.current
        _params(request, frozenset())
        body, etag = await anyio.to_thread.run_sync(state.snapshot_file)
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if _etag_matches(request.headers.get("if-none-match"), etag):
            return Response(status_code=304, headers=headers)
        return _json(body, headers=headers)

    async def healthz(self, request: Request) -> Response:
        holder = self.holder
        state = holder.current
        src = state.engine.source
        out = {
            "status": "ok",
            "version": __version__,
            "source": src.to_json(),
            "serving": src.describe(),
            "harvested_at": src.harvested_at,
            "age_seconds": state.age_seconds(),
            "loaded_at": _iso(state.loaded_at),
            "last_refresh_check": _iso(holder.last_poll) if holder.last_poll else None,
            "refreshes": holder.refreshes,
            "refresh_error": holder.refresh_error,
        }
        return _json(_dumps(out), headers={"Cache-Control": "no-store"})

    async def openapi(self, request: Request) -> Response:
        from validator.serve.openapi import document

        return _json(_dumps(document(self.settings)))

    async def trivial(self, request: Request) -> Response:
        """The benchmark's baseline: constant JSON through the same routing and server."""
        return _json(b'{"ok":true}')

    # -- refresh -------------------------------------------------------------------------------
    async def refresher(self) -> None:
        interval = self.settings.refresh_interval
        while True:
            await asyncio.sleep(interval)
            if self.holder.changed():
                await anyio.to_thread.run_sync(self.holder.reload)


def _modes() -> tuple[str, ...]:
    from metadata.model import MODES

    return tuple(MODES)


def _read_plan(fmt: str, body: bytes, path: str, linter: t.Any) -> t.Iterator[t.Any]:
    """Operations from a request body through the same readers ``msgavail lint`` uses."""
    if fmt == "soap":
        from validator.readers.soap import iter_soap

        return iter_soap(body, path)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        col = exc.start - (body.rfind(b"\n", 0, exc.start) + 1) + 1
        raise PlanError("not UTF-8 text", path=path, line=line, column=col) from None
    if fmt == "batch":
        from validator.readers.batch import iter_batch

        return iter_batch(text, path, names=linter.names)
    from validator.readers import native

    return native.iter_json(text, path) if fmt == "json" else native.iter_yaml(text, path)


def _failure(exc: PlanError) -> dict[str, t.Any]:
    return {
        "path": exc.path,
        "line": exc.line,
        "column": exc.column,
        "message": exc.message,
        "text": str(exc),
    }


def _message_json(m: t.Any) -> dict[str, t.Any]:
    return {
        "name": m.name,
        "availability": m.availability.label,
        "offline": m.availability.allows("offline"),
        "online": m.availability.allows("online"),
        "is_private": m.is_private,
        "is_active": m.is_active,
        "category": m.category,
    }


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    # If-None-Match uses the weak comparison (RFC 9110 §13.1.2): W/ prefixes do not matter.
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def _iso(epoch: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat(timespec="seconds")


def create_app(holder: Holder, settings: ServeSettings | None = None) -> Starlette:
    """The ASGI app over ``holder`` (any ASGI server can run it; ``msgavail serve`` uses
    uvicorn)."""
    settings = settings or ServeSettings()
    svc = Service(holder, settings)
    routes = [
        Route("/v1/check", svc.check, methods=["GET"]),
        Route("/v1/lint", svc.lint, methods=["POST"]),
        Route("/v1/messages", svc.messages, methods=["GET"]),
        Route("/v1/messages/{name}", svc.message, methods=["GET"]),
        Route("/v1/tables/{name}", svc.table, methods=["GET"]),
        Route("/v1/snapshot", svc.snapshot, methods=["GET"]),
        Route("/healthz", svc.healthz, methods=["GET"]),
        Route("/openapi.json", svc.openapi, methods=["GET"]),
    ]
    if settings.bench_endpoint:
        routes.append(Route("/_bench/constant", svc.trivial, methods=["GET"]))
    middleware = []
    if settings.cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Content-Type", "Accept", "If-None-Match"],
                expose_headers=["ETag"],
            )
        )

    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return _error(exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        err = ApiError(exc.status_code, code, str(exc.detail))
        return Response(
            err.body(), status_code=exc.status_code, media_type=JSON, headers=exc.headers
        )

    async def library_error(request: Request, exc: Exception) -> Response:
        # A MsgavailError that escaped a handler: the user's input, never a 500.
        return _error(ApiError(400, "bad-request", str(exc)))

    async def internal_error(request: Request, exc: Exception) -> Response:
        return _error(
            ApiError(500, "internal-error", f"internal error: {type(exc).__name__} (this is a bug)")
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> t.AsyncIterator[None]:
        task = None
        if settings.refresh_interval > 0 and (holder.spec.org or holder.spec.snapshot):
            task = asyncio.get_running_loop().create_task(svc.refresher())
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={
            ApiError: api_error,
            HTTPException: http_error,
            MsgavailError: library_error,
            Exception: internal_error,
        },
        lifespan=lifespan,
    )
