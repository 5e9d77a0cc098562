"""Readers: files in, ``Operation`` records out, each with its line and column.

``read_plan(path)`` reads a whole file (the executor's entry point); ``iter_operations(path)``
yields operations one at a time (the linter's, so a large plan is never held whole);
``expand_paths`` turns files and directories into the plan files to read. Which reader runs is
decided by the file's extension (``KNOWN_EXTENSIONS``).

``$batch`` bodies name entity sets and unbound actions; a ``NameLookup`` (built from the data by
the linter) tells them apart and maps entity sets to tables. Without one, the names pass through
as written and the engine's resolver maps them later.
"""

from __future__ import annotations

import os
import re
import typing as t

from metadata.errors import PlanError
from validator.plan import Operation, PlanFile, PlanKind

KNOWN_EXTENSIONS: t.Mapping[str, PlanKind] = {
    ".json": "plan",
    ".yaml": "plan",
    ".yml": "plan",
    ".batch": "batch",
    ".http": "batch",
    ".multipart": "batch",
    ".xml": "soap",
}
_SKIP_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__"})


class NameLookup(t.Protocol):
    """What a $batch reader asks of the data: is this name a table, or a message?"""

    def table(self, name: str) -> str | None: ...

    def message(self, name: str) -> str | None: ...


def kind_of(path: str) -> PlanKind | None:
    return KNOWN_EXTENSIONS.get(os.path.splitext(path)[1].lower())


# What a file of each kind must contain to be taken for a plan when found in a directory: a
# repository holds many JSON, YAML and XML files that are not plans (package.json, CI files).
_MARKERS: t.Mapping[PlanKind, bytes] = {
    "plan": b"operations",
    "batch": b"--",
    "soap": b"OrganizationRequest",
}


# A JSON Schema document (`lint --print-schema > plan.schema.json`) mentions "operations" too.
_JSON_SCHEMA = re.compile(
    rb"""^\s*(?:\{\s*)?["']?\$schema["']?\s*:\s*["']?https?://json-schema\.org/""", re.M
)


def looks_like_plan(path: str) -> bool:
    """True when a file of a known extension holds what a plan of that kind must hold.

    JSON Schema documents (a ``$schema`` of json-schema.org) are never plans. The file is read
    a block at a time: a plan may be larger than memory.
    """
    kind = kind_of(path)
    if kind is None:
        return False
    marker = _MARKERS[kind]
    try:
        with open(path, "rb") as fh:
            block = fh.read(1 << 20)
            if kind == "plan" and _JSON_SCHEMA.search(block, 0, 4096) is not None:
                return False
            tail = b""
            while block:
                if marker in block or marker in tail + block[: len(marker)]:
                    return True
                tail = block[-(len(marker) - 1) :]
                block = fh.read(1 << 20)
            return False
    except OSError:
        return True  # let the reader report why it cannot be read


def looks_like_plan_data(data: bytes, path: str) -> bool:
    """``looks_like_plan`` for content already read (standard input named ``path``)."""
    kind = kind_of(path)
    if kind is None or _MARKERS[kind] not in data:
        return False
    return kind != "plan" or _JSON_SCHEMA.search(data, 0, 4096) is None


def expand_paths(paths: t.Iterable[str], *, skip_non_plans: bool = False) -> list[str]:
    """Files as given, and directories recursed for known extensions (sorted).

    Files found in directories, and named files when ``skip_non_plans`` is set, are kept only
    when they look like plans (``looks_like_plan``).
    """
    found: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            inner: list[str] = []
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
                inner.extend(os.path.join(root, f) for f in files if kind_of(f) is not None)
            found.extend(f for f in sorted(inner) if looks_like_plan(f))
        elif os.path.exists(p):
            if not skip_non_plans or looks_like_plan(p):
                found.append(p)
        else:
            raise PlanError("no such file or directory", path=p)
    return found


def read_text(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise PlanError(f"cannot read: {exc.strerror}", path=path) from None
    return decode(data, path)


def decode(data: bytes, path: str) -> str:
    """UTF-8 text, or a PlanError at the first byte that is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise PlanError("not UTF-8 text", path=path, line=line, column=col) from None


def iter_operations(
    path: str, *, names: NameLookup | None = None, kind: PlanKind | None = None
) -> tuple[PlanKind, t.Iterator[Operation]]:
    """The file's kind and its operations, produced lazily (errors raise while iterating)."""
    kind = kind or kind_of(path)
    if kind is None:
        raise PlanError(
            "unknown file type (expected .json or .yaml plans, .batch/.http $batch bodies, "
            ".xml ExecuteMultiple requests)",
            path=path,
        )
    if kind == "soap":
        from validator.readers.soap import iter_soap

        with open(path, "rb") as fh:
            try:
                raw = fh.read()
            except OSError as exc:  # pragma: no cover - read errors after open are rare
                raise PlanError(f"cannot read: {exc.strerror}", path=path) from None
        return kind, iter_soap(raw, path)
    if kind == "batch":
        return kind, _batch_operations(path, names)
    text = read_text(path)
    from validator.readers import native

    if path.lower().endswith(".json"):
        return kind, native.iter_json(text, path)
    return kind, native.iter_yaml(text, path)


def _batch_operations(path: str, names: NameLookup | None) -> t.Iterator[Operation]:
    """A $batch body is read as a stream of lines: memory follows its largest part."""
    from validator.readers.batch import iter_batch

    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the with below, once it is open
    except OSError as exc:
        raise PlanError(f"cannot read: {exc.strerror}", path=path) from None
    with fh:
        yield from iter_batch(fh, path, names=names)


def read_plan(path: str | os.PathLike[str], *, names: NameLookup | None = None) -> PlanFile:
    """Read a whole plan file; raises PlanError naming file:line:col on unreadable input."""
    p = os.fspath(path)
    kind, ops = iter_operations(p, names=names)
    return PlanFile(p, kind, tuple(ops))


__all__ = [
    "KNOWN_EXTENSIONS",
    "NameLookup",
    "decode",
    "expand_paths",
    "iter_operations",
    "kind_of",
    "looks_like_plan",
    "looks_like_plan_data",
    "read_plan",
]
