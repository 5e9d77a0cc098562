"""Building ``$batch`` request bodies and reading their responses (multipart/mixed, CRLF).

Written from the protocol description (docs/reference/dataverse-webapi.md §6.6), not from
the emulator: request lines are relative to the service root, every line ends in CRLF, and a
response part may itself be a changeset (a nested multipart) whose failure is reported as one
part.
"""

from __future__ import annotations

import json as _json
import re
import typing as t
import uuid

CRLF = "\r\n"


class SubRequest(t.NamedTuple):
    method: str
    path: str  # relative to the API base, e.g. "accounts(<id>)"
    headers: tuple[tuple[str, str], ...] = ()
    body: t.Any = None  # JSON-serialisable, or None


class SubResponse(t.NamedTuple):
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> t.Any:
        try:
            return _json.loads(self.body or b"null")
        except ValueError:
            return None


def encode(requests: t.Sequence[SubRequest], api_path: str) -> tuple[str, bytes]:
    """(Content-Type header, body) for a batch of independent requests (no changeset)."""
    boundary = f"batch_{uuid.uuid4()}"
    out: list[str] = []
    for req in requests:
        out.append(f"--{boundary}")
        out.append("Content-Type: application/http")
        out.append("Content-Transfer-Encoding: binary")
        out.append("")
        out.append(f"{req.method} {api_path}{req.path} HTTP/1.1")
        headers = list(req.headers)
        payload = ""
        if req.body is not None:
            headers.append(("Content-Type", "application/json; type=entry"))
            payload = _json.dumps(req.body, separators=(",", ":"))
        out.extend(f"{k}: {v}" for k, v in headers)
        out.append("")
        out.append(payload)
    out.append(f"--{boundary}--")
    out.append("")
    return f'multipart/mixed; boundary="{boundary}"', CRLF.join(out).encode("utf-8")


def _boundary(content_type: str) -> str | None:
    m = re.search(r'boundary="?([^";]+)"?', content_type, re.IGNORECASE)
    return m.group(1) if m else None


def _split(body: bytes, boundary: str) -> list[tuple[dict[str, str], bytes]]:
    delim = b"--" + boundary.encode()
    parts: list[tuple[dict[str, str], bytes]] = []
    for chunk in body.split(delim)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk.lstrip(b"\n")
        head, sep, payload = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, _, payload = chunk.partition(b"\n\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").splitlines():
            name, colon, value = line.partition(":")
            if colon:
                headers[name.strip().lower()] = value.strip()
        parts.append((headers, payload))
    return parts


def _parse_http_response(payload: bytes) -> SubResponse:
    head, sep, body = payload.partition(b"\r\n\r\n")
    if not sep:
        head, _, body = payload.partition(b"\n\n")
    lines = head.decode("utf-8", "replace").splitlines()
    status_line = lines[0].split(" ", 2) if lines else []
    status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else 0
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return SubResponse(status, headers, body.rstrip(b"\r\n"))


def decode(content_type: str, body: bytes) -> list[SubResponse]:
    """The responses in order; a changeset contributes its parts (or its one failure)."""
    boundary = _boundary(content_type)
    if boundary is None:
        raise ValueError(f"not a multipart response: {content_type!r}")
    out: list[SubResponse] = []
    for headers, payload in _split(body, boundary):
        ctype = headers.get("content-type", "")
        if ctype.lower().startswith("multipart/mixed"):
            inner = _boundary(ctype)
            if inner:
                out.extend(_parse_http_response(p) for _, p in _split(payload, inner))
            continue
        out.append(_parse_http_response(payload))
    return out
