from __future__ import annotations

import json
import typing as t

from hypothesis import given, settings
from hypothesis import strategies as st

from metadata.jsonpos import locate

TEXT = """{
  "format": "msgavail-snapshot",
  "filters": [
    {"message": "Create", "availability": "All"},
    {"message": "Update",
     "availability": "Sometimes"}
  ],
  "empty": []
}
"""


def test_locates_nested_values() -> None:
    assert locate(TEXT, []) == (1, 1)
    assert locate(TEXT, ["format"]) == (2, 13)
    assert locate(TEXT, ["filters", 0]) == (4, 5)
    assert locate(TEXT, ["filters", 1, "availability"]) == (6, 22)


def test_missing_paths_give_none() -> None:
    assert locate(TEXT, ["nope"]) is None
    assert locate(TEXT, ["filters", 2]) is None
    assert locate(TEXT, ["empty", 0]) is None
    assert locate(TEXT, ["format", 0]) is None
    assert locate("{", ["x"]) is None
    assert locate("", ["x"]) is None


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


def _paths(value: object, prefix: tuple[t.Any, ...] = ()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


@settings(max_examples=150, deadline=None)
@given(_json, st.sampled_from([None, 1, 2]))
def test_every_path_points_at_its_value(value: object, indent: int | None) -> None:
    text = json.dumps(value, indent=indent)
    lines = text.split("\n")
    for path in _paths(value):
        pos = locate(text, path)
        assert pos is not None, path
        line, col = pos
        offset = sum(len(x) + 1 for x in lines[: line - 1]) + col - 1
        target: object = value
        for part in path:
            target = target[part]  # type: ignore[index]
        decoded, _ = json.JSONDecoder().raw_decode(text, offset)
        assert decoded == target


def test_duplicate_keys_at_any_depth() -> None:
    from metadata.jsonpos import find_duplicate_key

    text = '[{"a": 1, "b": [{"c": 1}, {"c": 2, "d": {"e": 1, "e": 2}}]}]'
    dup = find_duplicate_key(text)
    assert dup is not None and dup.key == "e" and text[dup.first : dup.offset] == '"e": 1, '
    assert find_duplicate_key('{"a": {"a": 1}, "b": ["a", "a"]}') is None
    assert find_duplicate_key('{"a": [1, ') is None  # not valid JSON: no answer, no crash


def test_entries_count_pairs_at_every_depth() -> None:
    import json

    from metadata.jsonpos import entries

    text = '{"a": {"b": 1, "c": [{"d": "x:y"}]}, "e": []}'
    assert entries(json.loads(text)) == 5 and text.count(":") == 6
