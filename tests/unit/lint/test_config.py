"""[tool.msgavail] settings: parsing, discovery, selection, per-file ignores."""

from __future__ import annotations

import datetime as dt
import os
import typing as t

import pytest

from metadata.errors import ConfigError
from validator.linter.config import LintConfig, find_pyproject, load_config, parse_age, parse_codes


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("30d", dt.timedelta(days=30)),
        ("12h", dt.timedelta(hours=12)),
        ("2w", dt.timedelta(weeks=2)),
        # A bare number is seconds, as for `harvest --ttl` (one duration parser).
        (7, dt.timedelta(seconds=7)),
        ("1.5", dt.timedelta(seconds=1.5)),
        ("1.5d", dt.timedelta(days=1.5)),
        ("off", None),
        (False, None),
    ],
)
def test_parse_age(value: object, expected: dt.timedelta | None) -> None:
    assert parse_age(value) == expected


@pytest.mark.parametrize("value", ["soon", -1, True, "3y", [30]])
def test_parse_age_rejects(value: object) -> None:
    with pytest.raises(ConfigError, match="max-metadata-age"):
        parse_age(value)


def test_codes_and_prefixes() -> None:
    assert parse_codes("ma005, MA00", where="x") == ("MA005", "MA00")
    assert parse_codes(["ALL"], where="x") == ("ALL",)
    with pytest.raises(ConfigError, match="matches no rule"):
        parse_codes(["E501"], where="--select")
    cfg = LintConfig(select=("MA00",), ignore=("MA005",))
    assert cfg.enabled("MA004") and not cfg.enabled("MA005") and not cfg.enabled("MA010")
    assert LintConfig().enabled("MA010")


def write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)


def test_discovery_walks_up_to_a_pyproject_with_the_table(tmp_path: t.Any) -> None:
    root = str(tmp_path)
    write(os.path.join(root, "pyproject.toml"),
          '[tool.msgavail]\nfail-on = "warning"\n[tool.msgavail.per-file-ignores]\n'
          '"plans/legacy/*" = ["MA005"]\n"*.batch" = "MA008"\n')  # fmt: skip
    write(os.path.join(root, "sub", "pyproject.toml"), '[project]\nname = "no-table"\n')
    deep = os.path.join(root, "sub", "plans", "x")
    os.makedirs(deep)
    assert find_pyproject(deep) == os.path.join(root, "pyproject.toml")
    cfg = load_config(deep)
    assert cfg.fail_on == "warning" and cfg.root == root
    assert cfg.ignored_for(os.path.join(root, "plans", "legacy", "a.yaml")) == {"MA005"}
    assert cfg.ignored_for(os.path.join(root, "sub", "b.batch")) == {"MA008"}
    assert cfg.ignored_for(os.path.join(root, "plans", "a.yaml")) == frozenset()


def test_no_pyproject_gives_defaults(tmp_path: t.Any) -> None:
    cfg = load_config(str(tmp_path))
    assert (cfg.mode, cfg.select, cfg.ignore, cfg.fail_on) == ("offline", None, (), "error")
    assert cfg.max_metadata_age == dt.timedelta(days=30) and cfg.path is None


@pytest.mark.parametrize(
    ("body", "what"),
    [
        ('mode = "sometimes"', "mode"),
        ('fail-on = "info"', "fail-on"),
        ("select = 5", "select"),
        ('per-file-ignores = ["a"]', "per-file-ignores"),
        ("[tool.msgavail.per-file-ignores]\n'x' = ['NOPE']", "matches no rule"),
        ("mode = ", "cannot read"),
    ],
)
def test_bad_settings_name_the_file_and_key(tmp_path: t.Any, body: str, what: str) -> None:
    write(os.path.join(str(tmp_path), "pyproject.toml"), "[tool.msgavail]\n" + body + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(str(tmp_path))
    assert "pyproject.toml" in str(info.value) and what in str(info.value)
