"""Lint settings: ``[tool.msgavail]`` in pyproject.toml, overridden by command-line options.

The file is found by walking up from the linted files' common directory (or the current
directory) to the first pyproject.toml that has a ``[tool.msgavail]`` table. Keys::

    [tool.msgavail]
    mode = "offline"                       # or "online", or "mobile"
    profile = "Field Technician"           # mode mobile: the mobile offline profile
    select = ["MA"]                        # codes or prefixes; default: every rule
    ignore = ["MA007"]
    max-metadata-age = "30d"               # "12h", "90d", a number of seconds, or "off"
    fail-on = "error"                      # or "warning"
    snapshot = "dataverse/snapshot.json"   # the data source, relative to pyproject.toml
    org = "https://contoso.crm.dynamics.com"   # or: that org's cached harvest
    [tool.msgavail.per-file-ignores]
    "plans/legacy/*.yaml" = ["MA005"]      # globs relative to the pyproject.toml directory

Any other key is refused with its line (a misspelt ``selct`` must not silently lint everything).
The data source keys rank below ``--snapshot``/``--org`` and their environment variables.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
import re
import sys
import typing as t

from metadata.errors import ConfigError
from metadata.model import MODES, Mode
from validator.rules import RULES
from validator.rules.base import SEVERITIES, Severity

DEFAULT_MAX_AGE = dt.timedelta(days=30)


class LintConfig(t.NamedTuple):
    """Immutable settings. A NamedTuple, not a dataclass: every lint start-up builds this
    class, and a dataclass (the module's import and the decorator's generated code) cost
    ~1.5 ms of a ~80 ms run."""

    mode: Mode = "offline"
    profile: str | None = None
    """Mode mobile: the mobile offline profile (None: the only one in the data)."""
    select: tuple[str, ...] | None = None
    """Codes or prefixes to report; None: every rule."""
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    max_metadata_age: dt.timedelta | None = DEFAULT_MAX_AGE
    fail_on: Severity = "error"
    root: str = "."
    """Directory per-file-ignores patterns (and SARIF paths) are relative to."""
    path: str | None = None
    """The pyproject.toml the settings came from, if any."""
    snapshot: str | None = None
    """Data source from the settings: a snapshot file (absolute, or as given)."""
    org: str | None = None
    """Data source from the settings: an org URL whose cached harvest to use."""

    def enabled(self, code: str) -> bool:
        selected = self.select is None or any(code.startswith(s) or s == "ALL" for s in self.select)
        return selected and not any(code.startswith(i) for i in self.ignore)

    def ignored_for(self, path: str) -> frozenset[str]:
        """Codes (prefixes) ignored for one file by per-file-ignores."""
        if not self.per_file_ignores:
            return frozenset()
        rel = os.path.relpath(os.path.abspath(path), os.path.abspath(self.root))
        rel = rel.replace(os.sep, "/")
        found: set[str] = set()
        for pattern, codes in self.per_file_ignores:
            if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(os.path.basename(rel), pattern):
                found.update(codes)
        return frozenset(found)

    def replace(self, **changes: t.Any) -> LintConfig:
        return self._replace(**{k: v for k, v in changes.items() if v is not None})


def parse_age(value: object, *, where: str = "max-metadata-age") -> dt.timedelta | None:
    """``"30d"``, ``"12h"``, ``"2w"``, a number of seconds, or ``"off"``/false (no limit): the
    one duration parser (metadata.duration), as for ``--ttl``."""
    from metadata.duration import parse_duration

    return parse_duration(value, where=where, allow_off=True)


def parse_codes(value: object, *, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        items = [v for v in re.split(r"[,\s]+", value) if v]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        raise ConfigError(f'{where}: expected a list of codes such as ["MA005"]')
    codes = tuple(i.strip().upper() for i in items)
    for c in codes:
        if c != "ALL" and not any(r.startswith(c) for r in RULES):
            raise ConfigError(f"{where}: {c!r} matches no rule (see `msgavail rules`)")
    return codes


def find_pyproject(start: str) -> str | None:
    """The nearest pyproject.toml at or above ``start`` that has a [tool.msgavail] table."""
    d = os.path.abspath(start)
    if not os.path.isdir(d):
        d = os.path.dirname(d)
    while True:
        candidate = os.path.join(d, "pyproject.toml")
        if os.path.isfile(candidate) and _has_table(candidate):
            return candidate
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def _has_table(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return "[tool.msgavail" in fh.read()
    except OSError:
        return False


def _toml() -> t.Any:
    if sys.version_info >= (3, 11):
        import tomllib

        return tomllib
    import tomli  # type: ignore[import-not-found, unused-ignore]  # python < 3.11 dependency

    return tomli


def load_config(start: str | None = None) -> LintConfig:
    """Settings from the nearest pyproject.toml with [tool.msgavail], else the defaults."""
    found = find_pyproject(start or os.getcwd())
    if found is None:
        return LintConfig(root=os.path.abspath(start or os.getcwd()) if start and
                          os.path.isdir(start) else os.getcwd())  # fmt: skip
    toml = _toml()
    try:
        with open(found, "rb") as fh:
            doc = toml.load(fh)
    except (OSError, toml.TOMLDecodeError) as exc:
        raise ConfigError(f"{found}: cannot read: {exc}") from None
    table = doc.get("tool", {}).get("msgavail", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{found}: [tool.msgavail] must be a table")
    return from_table(table, path=found)


KEYS = frozenset(
    {"mode", "profile", "select", "ignore", "max-metadata-age", "fail-on", "per-file-ignores",
     "snapshot", "org"}
)  # fmt: skip


def _key_line(path: str, key: str) -> int | None:
    """The line of ``key`` inside [tool.msgavail] of the file at ``path`` (None: not found)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    quoted = re.escape(key)
    pattern = re.compile(rf"""^\s*(?:{quoted}|"{quoted}"|'{quoted}')\s*=""")
    dotted = re.compile(rf"""^\s*tool\.msgavail\.(?:{quoted}|"{quoted}")\s*=""")
    table = re.compile(r"^\s*\[\s*tool\s*\.\s*msgavail\s*\]")
    sub = re.compile(rf"""^\s*\[\s*tool\s*\.\s*msgavail\s*\.\s*["']?{quoted}["']?\s*\]""")
    inside = False
    for n, text in enumerate(lines, 1):
        if text.lstrip().startswith("["):
            if sub.match(text):
                return n
            inside = bool(table.match(text))
            continue
        if (inside and pattern.match(text)) or dotted.match(text):
            return n
    return None


def _unknown_key(table: t.Mapping[str, t.Any], path: str) -> None:
    for key in table:
        if key in KEYS:
            continue
        line = _key_line(path, key)
        where = f"{path}:{line}" if line else path
        from difflib import get_close_matches

        near = get_close_matches(key, sorted(KEYS), n=1)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        raise ConfigError(
            f"{where}: unknown key {key!r} in [tool.msgavail]{hint} "
            f"(known: {', '.join(sorted(KEYS))})"
        )


def from_table(table: t.Mapping[str, t.Any], *, path: str) -> LintConfig:
    where = f"{path}: [tool.msgavail]"
    _unknown_key(table, path)
    cfg = LintConfig(root=os.path.dirname(os.path.abspath(path)), path=path)
    changes: dict[str, t.Any] = {}
    if "snapshot" in table:
        value = table["snapshot"]
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where} snapshot: expected the path of a snapshot file")
        changes["snapshot"] = os.path.join(cfg.root, os.path.expanduser(value))
    if "org" in table:
        if not isinstance(table["org"], str) or not table["org"].strip():
            raise ConfigError(
                f"{where} org: expected an org URL such as https://contoso.crm.dynamics.com"
            )
        changes["org"] = table["org"].strip()
    if "mode" in table:
        if table["mode"] not in MODES:
            raise ConfigError(f'{where} mode: expected "offline", "online" or "mobile"')
        changes["mode"] = table["mode"]
    if "profile" in table:
        if not isinstance(table["profile"], str) or not table["profile"].strip():
            raise ConfigError(f"{where} profile: expected the name of a mobile offline profile")
        changes["profile"] = table["profile"]
    if "select" in table:
        changes["select"] = parse_codes(table["select"], where=f"{where} select")
    if "ignore" in table:
        changes["ignore"] = parse_codes(table["ignore"], where=f"{where} ignore")
    if "fail-on" in table:
        if table["fail-on"] not in SEVERITIES:
            raise ConfigError(f'{where} fail-on: expected "error" or "warning"')
        changes["fail_on"] = table["fail-on"]
    if "max-metadata-age" in table:
        changes["max_metadata_age"] = parse_age(
            table["max-metadata-age"], where=f"{where} max-metadata-age"
        )
    pfi = table.get("per-file-ignores", {})
    if not isinstance(pfi, dict):
        raise ConfigError(f"{where} per-file-ignores: expected a table of glob = [codes]")
    changes["per_file_ignores"] = tuple(
        (str(k), parse_codes(v, where=f"{where} per-file-ignores {k!r}")) for k, v in pfi.items()
    )
    return cfg._replace(**changes)
