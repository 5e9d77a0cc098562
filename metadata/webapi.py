"""A Dataverse Web API client on httpx: OData headers, paging, retries, throttling, errors.

* Base ``{org}/api/data/v9.2/``; every request sends ``Accept: application/json``,
  ``OData-MaxVersion: 4.0``, ``OData-Version: 4.0`` and the bearer token from a TokenProvider.
* Collections are paged with ``Prefer: odata.maxpagesize=N``; ``@odata.nextLink`` is requested
  verbatim (never rebuilt), with the same preference, and only if it points at the same org.
* 429 waits ``Retry-After`` seconds; 5xx and transport errors back off exponentially with jitter
  (bounded) for idempotent requests. ``sleep`` and the random source are injectable.
* Failures become metadata.errors classes whose one-line messages say what to do.
* ``transport`` is any httpx transport (tests use the real loopback emulator; the executor can
  reuse ``request()`` for writes).
* https is verified against ``verify`` (an ``ssl.SSLContext`` or a CA file), else the CA file
  named by ``REQUESTS_CA_BUNDLE`` (requests' convention, which Microsoft's SDK follows: what
  the SDK in the same process trusts, msgavail trusts), else ``SSL_CERT_FILE`` (OpenSSL's and
  httpx's, often set machine-wide, hence second), else the directory ``SSL_CERT_DIR``, else
  certifi's bundle: so an org behind a private CA (a TLS-inspecting proxy, the emulator's
  ``--tls``) is trusted the way other tools are told to trust it. Verification is never turned
  off. Only the CA variables are read from the environment: ``trust_env=False`` keeps proxies
  and ``.netrc`` out (a token must not go to a proxy nobody configured for msgavail). A
  certificate that does not verify is not retried: the error says which CA was used and how
  to trust the right one.
"""

from __future__ import annotations

import email.utils
import os
import random
import threading
import time
import typing as t
import urllib.parse

from metadata.auth import TokenProvider
from metadata.errors import (
    AuthenticationError,
    ConfigError,
    NotFoundError,
    ServerError,
    ThrottledError,
    TransportError,
    WebAPIError,
)
from metadata.orgurl import API_PATH, normalize_org_url

if t.TYPE_CHECKING:
    import ssl

    import httpx

JSON = dict[str, t.Any]
MAX_PAGE_SIZE = 5000
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({500, 502, 503, 504})
# Answers that say "try again later" rather than "no": 408 and 429 besides the 5xx above, and
# 0 for a request the server never processed (e.g. a $batch part after it stopped early).
TRANSIENT_STATUSES = frozenset({0, 408, 429} | RETRY_STATUSES)
USER_AGENT = "msgavail"


class RetryPolicy(t.NamedTuple):
    """How hard to try: retries for 5xx/transport errors and for 429, and the backoff curve.

    A refused connection (nothing listens on the port) gets at most ``max_refused_retries``:
    it rarely heals in seconds, and a user with a wrong URL should hear so at once.
    """

    max_retries: int = 5
    max_throttle_retries: int = 8
    max_refused_retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 300.0


def quote_query(params: t.Iterable[tuple[str, str]]) -> str:
    """OData query text: option names keep their ``$``; values are percent-encoded."""
    quote = urllib.parse.quote
    return "&".join(
        f"{quote(k, safe=_KEY_SAFE)}={quote(str(v), safe=_VALUE_SAFE)}" for k, v in params
    )


_KEY_SAFE = "$@"
_VALUE_SAFE = "$,()'/@:=;*"


DEFAULT_RETRY = RetryPolicy()


class Wait(t.NamedTuple):
    """What the client is about to wait for (passed to ``on_wait`` before each retry pause)."""

    seconds: float
    reason: str  # "connection refused", "HTTP 503", "throttled: HTTP 429 Retry-After"...
    attempt: int  # the retry about to be made, 1-based
    limit: int  # the most retries this kind of failure gets
    url: str  # without the query


class WebAPIClient:
    """One org's Web API. Use as a context manager, or call ``close()``."""

    def __init__(
        self,
        org: str,
        token_provider: TokenProvider,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        page_size: int = MAX_PAGE_SIZE,
        retry: RetryPolicy | None = None,
        sleep: t.Callable[[float], None] = time.sleep,
        random_source: t.Callable[[], float] = random.random,
        on_wait: t.Callable[[Wait], None] | None = None,
        verify: ssl.SSLContext | str | os.PathLike[str] | None = None,
    ) -> None:
        import httpx

        self.org = normalize_org_url(org)
        self.base_url = self.org + API_PATH
        self._origin = httpx.URL(self.org)
        self._tokens = token_provider
        self.page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        self.retry = retry or DEFAULT_RETRY  # read at call time, so tests can speed it up
        self._sleep = sleep
        self._random = random_source
        self._on_wait = on_wait
        self.requests_sent = 0  # every attempt, retries included
        # Service protection limits are per user: a 429 met by one thread holds every thread
        # that shares this client until its Retry-After has passed.
        self.throttled = 0  # 429s met (retried or not)
        self.waited = 0.0  # seconds spent waiting on Retry-After
        self.dop_hint: int | None = None  # the server's x-ms-dop-hint, once seen
        self._hold_until = 0.0
        self._hold_lock = threading.Lock()
        self._local = threading.local()
        self.trusted = "certifi's CA bundle"  # what https certificates are verified against
        if transport is None and self._origin.scheme == "http":
            transport = httpx.HTTPTransport(verify=_no_trust_anchors())
        elif transport is None:
            context, self.trusted = trust_anchors(verify)
            if context is not None:
                transport = httpx.HTTPTransport(verify=context)
        self._http = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            headers={
                "Accept": "application/json",
                "OData-MaxVersion": "4.0",
                "OData-Version": "4.0",
                "User-Agent": USER_AGENT,
            },
            follow_redirects=False,
            trust_env=False,
        )

    def __enter__(self) -> WebAPIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"<WebAPIClient {self.org}>"

    # -- URLs --------------------------------------------------------------------------------
    def url(self, path: str, params: t.Iterable[tuple[str, str]] | None = None) -> str:
        """An absolute URL: ``path`` is relative to the API base unless already absolute."""
        full = path if "://" in path else self.base_url + path.lstrip("/")
        if params:
            query = quote_query(params)
            full += ("&" if "?" in full else "?") + query
        return full

    def _check_same_origin(self, url: httpx.URL) -> None:
        # A nextLink (or any absolute URL) must not carry our token to another host.
        if (url.scheme, url.host, url.port) != (
            self._origin.scheme,
            self._origin.host,
            self._origin.port,
        ):
            raise WebAPIError(
                f"refusing to send the org's token to {url.scheme}://{url.host}: "
                f"the server pointed outside {self.org}",
                url=str(url.copy_with(query=None)),
            )

    # -- requests ----------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        params: t.Iterable[tuple[str, str]] | None = None,
        json: t.Any = None,
        content: bytes | None = None,
        headers: t.Mapping[str, str] | None = None,
        page_size: int | None = None,
        idempotent: bool | None = None,
        allow_statuses: t.Container[int] = (),
    ) -> httpx.Response:
        """Send one request with retries; return the response or raise a WebAPIError.

        ``allow_statuses`` lists error statuses the caller handles itself (e.g. 412 when a
        replayed create meets ``If-None-Match: *``). Non-idempotent requests (POST, PATCH
        unless ``idempotent=True``) are not retried after a 5xx or a lost response, only after
        429 or a refused connection, when the server cannot have acted on them.
        """
        import httpx

        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT
        url = httpx.URL(self.url(path, params))
        self._check_same_origin(url)
        send_headers = dict(headers or {})
        if page_size is not None:
            send_headers["Prefer"] = _merge_prefer(
                send_headers.get("Prefer"), f"odata.maxpagesize={page_size}"
            )
        if json is not None:
            send_headers.setdefault("Content-Type", "application/json")
        failures = throttles = 0
        while True:
            self._await_hold()
            send_headers["Authorization"] = "Bearer " + self._tokens.get_token()
            self.requests_sent += 1
            try:
                response = self._http.request(
                    method, url, json=json, content=content, headers=send_headers
                )
            except httpx.TransportError as exc:
                untrusted = _certificate_failure(exc)
                if untrusted is not None:  # a certificate does not verify itself on retry
                    raise TransportError(
                        f"could not verify the TLS certificate of {self.org}: {untrusted} "
                        f"(trusted: {self.trusted}); if the org's certificate comes from a "
                        "private CA, set REQUESTS_CA_BUNDLE (or SSL_CERT_FILE) to that "
                        "CA's PEM file",
                        url=_display(url),
                    ) from None
                safe = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
                refused = _refused(exc)
                limit = self.retry.max_retries
                if refused:
                    limit = min(limit, self.retry.max_refused_retries)
                if (idempotent or safe) and failures < limit:
                    reason = "connection refused" if refused else _describe_transport(exc)
                    self._wait(self._backoff(failures), reason, failures + 1, limit, url)
                    failures += 1
                    continue
                raise TransportError(
                    f"could not reach {self.org}: {_describe_transport(exc)}"
                    + (f" (after {failures + 1} attempts)" if failures else ""),
                    url=_display(url),
                ) from None
            status = response.status_code
            self._note_hint(response.headers)
            if status == 429:
                self.throttled += 1
            if status == 429 and throttles < self.retry.max_throttle_retries:
                response.close()
                limit = self.retry.max_throttle_retries
                delay = self._retry_after(response, throttles)
                self._local.slept_until = self.hold(delay)
                self.waited += delay
                self._wait(delay, "throttled (HTTP 429)", throttles + 1, limit, url)
                throttles += 1
                continue
            if status in RETRY_STATUSES and idempotent and failures < self.retry.max_retries:
                response.close()
                delay = self._backoff(failures)
                if "Retry-After" in response.headers:
                    delay = max(delay, self._retry_after(response, failures))
                self._wait(delay, f"HTTP {status}", failures + 1, self.retry.max_retries, url)
                failures += 1
                continue
            if status >= 400 and status not in allow_statuses:
                raise self._error(method, url, response, attempts=failures + throttles + 1)
            return response

    def get_json(
        self,
        path: str,
        params: t.Iterable[tuple[str, str]] | None = None,
        *,
        headers: t.Mapping[str, str] | None = None,
    ) -> JSON:
        response = self.request("GET", path, params=params, headers=headers)
        return _json_body(response, url=_display(response.url))

    def iter_pages(
        self,
        entity_set: str,
        params: t.Iterable[tuple[str, str]] | None = None,
        *,
        page_size: int | None = None,
        headers: t.Mapping[str, str] | None = None,
    ) -> t.Iterator[list[JSON]]:
        """The rows of a collection, one page at a time, following ``@odata.nextLink``."""
        size = page_size or self.page_size
        response = self.request("GET", entity_set, params=params, page_size=size, headers=headers)
        seen: set[str] = set()
        while True:
            body = _json_body(response, url=_display(response.url))
            rows = body.get("value")
            if not isinstance(rows, list):
                raise ServerError(
                    f"unexpected answer from {self.org}: no 'value' list in the response "
                    f"to {_display(response.url)}",
                    url=_display(response.url),
                )
            yield rows
            next_link = body.get("@odata.nextLink")
            if not next_link:
                return
            if not isinstance(next_link, str) or next_link in seen:
                raise ServerError(
                    f"{self.org} returned a repeated or invalid @odata.nextLink; stopping",
                    url=_display(response.url),
                )
            seen.add(next_link)
            # Verbatim: the link is requested as given, with the same page-size preference.
            response = self.request("GET", next_link, page_size=size, headers=headers)

    def get_all(
        self,
        entity_set: str,
        params: t.Iterable[tuple[str, str]] | None = None,
        *,
        page_size: int | None = None,
    ) -> list[JSON]:
        rows: list[JSON] = []
        for page in self.iter_pages(entity_set, params, page_size=page_size):
            rows.extend(page)
        return rows

    # -- retry timing ------------------------------------------------------------------------
    def _wait(self, seconds: float, reason: str, attempt: int, limit: int, url: httpx.URL) -> None:
        if self._on_wait is not None:
            self._on_wait(Wait(seconds, reason, attempt, limit, _display(url)))
        self._sleep(seconds)

    def hold(self, seconds: float) -> float:
        """Hold every request through this client for ``seconds`` (a Retry-After: the limits
        are per user, so every thread waits); the monotonic time the hold ends."""
        with self._hold_lock:
            self._hold_until = max(self._hold_until, time.monotonic() + max(0.0, seconds))
            return self._hold_until

    def _await_hold(self) -> None:
        with self._hold_lock:
            until = self._hold_until
        if until <= getattr(self._local, "slept_until", 0.0):
            return  # this thread already waited for this hold
        delay = until - time.monotonic()
        self._local.slept_until = until
        if delay > 0:
            self.waited += delay
            self._sleep(delay)

    def _note_hint(self, headers: t.Mapping[str, str]) -> None:
        value = headers.get("x-ms-dop-hint")
        if value and value.strip().isdigit():
            self.dop_hint = int(value)

    # Public for callers that retry at their own level (the executor's playback rounds, the
    # parts of a $batch): one backoff curve, one Retry-After reading, one injectable sleep.
    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` with the client's (injectable) sleep."""
        if seconds > 0:
            self._sleep(seconds)

    def backoff(self, attempt: int) -> float:
        """The delay before retry number ``attempt`` (0-based), with jitter."""
        return self._backoff(attempt)

    def retry_after(self, headers: t.Mapping[str, str], attempt: int = 0) -> float:
        """Seconds a throttled answer asks us to wait (its ``Retry-After``, seconds or an
        HTTP-date, capped by the policy); the backoff delay when it gives none."""
        seconds = parse_retry_after(_header(headers, "Retry-After"))
        if seconds is None:
            return self._backoff(attempt)
        return max(0.0, min(seconds, self.retry.max_retry_after))

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: between half and all of base * 2**attempt."""
        ceiling = min(self.retry.backoff_max, self.retry.backoff_base * float(2**attempt))
        return ceiling * (0.5 + 0.5 * self._random())

    def _retry_after(self, response: httpx.Response, attempt: int) -> float:
        # A 429 without Retry-After backs off as for a 5xx.
        return self.retry_after(response.headers, attempt)

    # -- errors ------------------------------------------------------------------------------
    def _error(
        self, method: str, url: httpx.URL, response: httpx.Response, *, attempts: int
    ) -> WebAPIError:
        status = response.status_code
        code, message = _error_body(response)
        where = _display(url)
        detail = f" ({message})" if message else ""
        kw: dict[str, t.Any] = {"url": where, "status": status, "code": code}
        if status == 401:
            return AuthenticationError(
                f"authentication failed: {self.org} refused the token (HTTP 401){detail}; "
                "get a fresh token for this org (DATAVERSE_TOKEN) or sign in again",
                **kw,
            )
        if status == 403:
            return AuthenticationError(
                f"authentication failed: access denied to {where} (HTTP 403){detail}; the "
                "user needs read access to sdkmessage, sdkmessagefilter and entity metadata",
                **kw,
            )
        if status == 404:
            return NotFoundError(
                f"not found: {method} {where} (HTTP 404){detail}; is {self.org} a Dataverse "
                "organization URL?",
                **kw,
            )
        if status == 429:
            return ThrottledError(
                f"{self.org} kept throttling requests (HTTP 429 after {attempts} attempts)"
                f"{detail}; wait a few minutes and try again",
                **kw,
            )
        if status >= 500:
            return ServerError(
                f"{self.org} failed: {method} {where} answered HTTP {status}{detail}"
                + (f" after {attempts} attempts" if attempts > 1 else "")
                + "; try again later",
                **kw,
            )
        return ServerError(
            f"{self.org} refused {method} {where}: HTTP {status}"
            + (f" {code}" if code else "")
            + detail,
            **kw,
        )


def _merge_prefer(existing: str | None, pref: str) -> str:
    if not existing:
        return pref
    kept = [p.strip() for p in existing.split(",") if not p.strip().startswith("odata.maxpagesize")]
    return ",".join([*kept, pref])


def _display(url: httpx.URL) -> str:
    """A URL for messages: path only (queries can be long and are not needed to act)."""
    return str(url.copy_with(query=None))


def _no_trust_anchors() -> ssl.SSLContext:
    """The TLS context for an http:// (loopback) org: httpx would otherwise load the whole CA
    bundle (~80 ms) for a client that can never open TLS (every URL must keep the org's
    origin). Strict and with no CA loaded, so any TLS attempt fails closed."""
    import ssl

    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


# The CA variables read, in order (each names a PEM file; SSL_CERT_DIR a hashed directory).
CA_FILE_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
CA_DIR_VARIABLE = "SSL_CERT_DIR"


def trust_anchors(
    verify: ssl.SSLContext | str | os.PathLike[str] | None = None,
    environ: t.Mapping[str, str] = os.environ,
) -> tuple[ssl.SSLContext | None, str]:
    """The TLS context that verifies an https org, and what it trusts (for messages).

    ``verify`` wins; else the first of ``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE``,
    ``SSL_CERT_DIR`` that is set; ``(None, ...)`` means httpx's default (certifi). A path that
    cannot be loaded is a ConfigError naming the variable, not a silent fallback to certifi.
    """
    import ssl

    if isinstance(verify, ssl.SSLContext):
        return verify, "the given SSL context"
    if verify is not None:
        path = os.fspath(verify)
        return _load_cafile(path, f"verify={path!r}"), path
    for name in CA_FILE_VARIABLES:
        path = environ.get(name, "").strip()
        if path:
            return _load_cafile(path, name), f"{name}={path}"
    directory = environ.get(CA_DIR_VARIABLE, "").strip()
    if directory:
        if not os.path.isdir(directory):
            raise ConfigError(
                f"{directory} is not a directory of CA certificates", where=CA_DIR_VARIABLE
            )
        return ssl.create_default_context(capath=directory), f"{CA_DIR_VARIABLE}={directory}"
    return None, "certifi's CA bundle"


def _load_cafile(path: str, where: str) -> ssl.SSLContext:
    import ssl

    try:
        return ssl.create_default_context(cafile=path)
    except FileNotFoundError:
        detail = f"no CA certificate file {path}"
    except IsADirectoryError:
        detail = f"{path} is a directory, not a PEM file of CA certificates"
    except (ssl.SSLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc.strerror or str(exc)
        detail = f"cannot load CA certificates from {path} ({reason}); expected a PEM file"
    raise ConfigError(detail, where=where)


def _certificate_failure(exc: BaseException) -> str | None:
    """The verification failure under a transport error (e.g. "unable to get local issuer
    certificate", "Hostname mismatch"), or None when it is not one."""
    import ssl

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return str(current.verify_message or current.reason or "certificate verify failed")
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    if "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return "certificate verify failed"
    return None


def _refused(exc: BaseException) -> bool:
    """Whether a transport error is, underneath, a refused connection (nothing listening)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ConnectionRefusedError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return "connection refused" in str(exc).lower()


def _describe_transport(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _header(headers: t.Mapping[str, str], name: str) -> str | None:
    found = headers.get(name)
    if found is None:  # a plain dict with lower-case keys (e.g. a $batch part's headers)
        found = headers.get(name.lower())
    return found


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); None
    when absent or unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:  # pragma: no cover - older Pythons returned None
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def parse_error_body(content: bytes) -> tuple[str | None, str]:
    """``(code, message)`` from a Dataverse error body ``{"error": {"code", "message"}}``; for
    a body that is not JSON, its first line as the message."""
    import json

    try:
        body = json.loads(content) if content else None
    except ValueError:
        text = content.decode("utf-8", "replace").strip()
        return None, (text.splitlines()[0] if text else "")[:200]
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return None, ""
    code = err.get("code")
    message = " ".join(str(err.get("message") or "").split())[:300]
    return (str(code) if code else None), message


def _error_body(response: httpx.Response) -> tuple[str | None, str]:
    return parse_error_body(response.content)


def _json_body(response: httpx.Response, *, url: str) -> JSON:
    try:
        body = response.json()
    except ValueError:
        raise ServerError(f"the answer from {url} is not JSON", url=url) from None
    if not isinstance(body, dict):
        raise ServerError(f"the answer from {url} is not a JSON object", url=url)
    return body
