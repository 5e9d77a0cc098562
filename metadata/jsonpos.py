"""Where in a JSON text a value sits: the one JSON position walker.

The stdlib decoder parses (at C speed) but says nothing about where a value was; this module
walks a JSON text just far enough to answer "where": the offset of the value at a path
(``locate``: a schema violation in a snapshot file), the line and column of an offset
(``Positions``, moving forward through a large plan as its operations are read), and the first
key repeated inside an object (``find_duplicate_key``: a second ``"table"`` silently replaces
the first in every JSON decoder). Whole values are skipped with ``JSONDecoder.raw_decode``, so a
walk costs one partial pass over the text. The native plan reader (validator/readers/native.py)
and the snapshot reader both use it.
"""

from __future__ import annotations

import json
import re
import typing as t
from json.decoder import scanstring  # type: ignore[attr-defined]

_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def skip(text: str, i: int) -> int:
    """The offset of the first character at or after ``i`` that is not JSON white space."""
    m = _WS.match(text, i)
    return m.end() if m else i


def position(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


class Positions:
    """Offset -> 1-based (line, column), cheap for offsets that only move forward."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.line_start = 0

    def at(self, pos: int) -> tuple[int, int]:
        if pos < self.pos:  # only on errors: start over
            self.pos, self.line, self.line_start = 0, 1, 0
        text = self.text
        n = text.count("\n", self.pos, pos)
        if n:
            self.line += n
            self.line_start = text.rfind("\n", self.pos, pos) + 1
        self.pos = pos
        return self.line, pos - self.line_start + 1


def _member(text: str, i: int, key: str) -> int | None:
    """Offset of ``key``'s value in the object starting at ``text[i] == "{"``."""
    i = skip(text, i + 1)
    while i < len(text) and text[i] == '"':
        name, i = scanstring(text, i + 1)
        i = skip(text, skip(text, i) + 1)  # past ':'
        if name == key:
            return i
        _, i = _DECODER.raw_decode(text, i)
        i = skip(text, i)
        if i < len(text) and text[i] == ",":
            i = skip(text, i + 1)
    return None


def _element(text: str, i: int, index: int) -> int | None:
    """Offset of element ``index`` of the array starting at ``text[i] == "["``."""
    i = skip(text, i + 1)
    for _ in range(index):
        if i >= len(text) or text[i] == "]":
            return None
        _, i = _DECODER.raw_decode(text, i)
        i = skip(text, i)
        if i < len(text) and text[i] == ",":
            i = skip(text, i + 1)
    return i if i < len(text) and text[i] != "]" else None


def locate(text: str, path: t.Iterable[str | int]) -> tuple[int, int] | None:
    """1-based (line, column) of the value at ``path`` in ``text``, or None if not found."""
    try:
        i: int | None = skip(text, 1 if text.startswith("\ufeff") else 0)
        for part in path:
            assert i is not None
            if isinstance(part, int) and text[i] == "[":
                i = _element(text, i, part)
            elif isinstance(part, str) and text[i] == "{":
                i = _member(text, i, part)
            else:
                return None
            if i is None:
                return None
    except (ValueError, IndexError):
        return None
    assert i is not None
    return position(text, i)


class DuplicateKey(t.NamedTuple):
    key: str
    offset: int
    """Where the repeated key's opening quote is."""
    first: int
    """Where the same key first appeared in that object."""


def find_duplicate_key(text: str, start: int = 0) -> DuplicateKey | None:
    """The first key that repeats an earlier key of its object, in the valid JSON value at
    ``start`` (nested objects and arrays included), or None."""
    try:
        return _duplicate(text, skip(text, start))[1]
    except (ValueError, IndexError, RecursionError):  # not valid JSON after all: no answer
        return None


def _duplicate(text: str, i: int) -> tuple[int, DuplicateKey | None]:
    """(offset after the value at ``i``, the first duplicate key inside it)."""
    ch = text[i]
    if ch == "{":
        seen: dict[str, int] = {}
        i = skip(text, i + 1)
        if text[i] == "}":
            return i + 1, None
        while True:
            at = i
            key, i = scanstring(text, i + 1)
            if key in seen:
                return i, DuplicateKey(key, at, seen[key])
            seen[key] = at
            i = skip(text, skip(text, i) + 1)  # past ':'
            i, found = _duplicate(text, i)
            if found is not None:
                return i, found
            i = skip(text, i)
            if text[i] == ",":
                i = skip(text, i + 1)
                continue
            return i + 1, None  # "}"
    if ch == "[":
        i = skip(text, i + 1)
        if text[i] == "]":
            return i + 1, None
        while True:
            i, found = _duplicate(text, i)
            if found is not None:
                return i, found
            i = skip(text, i)
            if text[i] == ",":
                i = skip(text, i + 1)
                continue
            return i + 1, None  # "]"
    _, end = _DECODER.raw_decode(text, i)
    return end, None


def entries(value: object) -> int:
    """How many key/value pairs the objects in a decoded ``value`` hold, at every depth.

    A JSON text has at least one ``:`` per pair, so when ``text.count(":")`` over a value's
    span equals this, no key can have been repeated (a repeat decodes to one entry for two
    pairs); only otherwise is ``find_duplicate_key`` needed.
    """
    if type(value) is dict:
        n = len(value)
        for v in value.values():
            if type(v) is dict or type(v) is list:
                n += entries(v)
        return n
    if type(value) is list:
        n = 0
        for v in value:
            if type(v) is dict or type(v) is list:
                n += entries(v)
        return n
    return 0
