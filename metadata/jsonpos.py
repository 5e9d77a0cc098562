"""Where in a JSON text a value sits, for error messages that name a line and column.

Only used on the error path (a schema violation in a user's file): the stdlib decoder skips
whole values, so locating ``filters[3].availability`` costs one partial pass over the text.
"""

from __future__ import annotations

import json
import re
import typing as t
from json.decoder import scanstring  # type: ignore[attr-defined]

_WS = re.compile(r"[ \t\n\r]*")


def _skip(text: str, i: int) -> int:
    m = _WS.match(text, i)
    return m.end() if m else i


def _member(text: str, i: int, key: str, decoder: json.JSONDecoder) -> int | None:
    """Offset of ``key``'s value in the object starting at ``text[i] == "{"``."""
    i = _skip(text, i + 1)
    while i < len(text) and text[i] == '"':
        name, i = scanstring(text, i + 1)
        i = _skip(text, _skip(text, i) + 1)  # past ':'
        if name == key:
            return i
        _, i = decoder.raw_decode(text, i)
        i = _skip(text, i)
        if i < len(text) and text[i] == ",":
            i = _skip(text, i + 1)
    return None


def _element(text: str, i: int, index: int, decoder: json.JSONDecoder) -> int | None:
    """Offset of element ``index`` of the array starting at ``text[i] == "["``."""
    i = _skip(text, i + 1)
    for _ in range(index):
        if i >= len(text) or text[i] == "]":
            return None
        _, i = decoder.raw_decode(text, i)
        i = _skip(text, i)
        if i < len(text) and text[i] == ",":
            i = _skip(text, i + 1)
    return i if i < len(text) and text[i] != "]" else None


def locate(text: str, path: t.Iterable[str | int]) -> tuple[int, int] | None:
    """1-based (line, column) of the value at ``path`` in ``text``, or None if not found."""
    decoder = json.JSONDecoder()
    try:
        i: int | None = _skip(text, 1 if text.startswith("\ufeff") else 0)
        for part in path:
            assert i is not None
            if isinstance(part, int) and text[i] == "[":
                i = _element(text, i, part, decoder)
            elif isinstance(part, str) and text[i] == "{":
                i = _member(text, i, part, decoder)
            else:
                return None
            if i is None:
                return None
    except (ValueError, IndexError):
        return None
    assert i is not None
    line = text.count("\n", 0, i) + 1
    return line, i - (text.rfind("\n", 0, i) + 1) + 1
