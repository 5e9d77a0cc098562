"""Durations in options and settings: one parser for ``--ttl`` and ``--max-metadata-age``.

``90`` / ``90s`` seconds, ``15m`` minutes, ``24h`` hours, ``7d`` days, ``2w`` weeks; decimals
allowed (``1.5d``). A bare number (on the command line or a TOML number in
``[tool.msgavail]``) is **seconds** everywhere, as in ``sleep`` and systemd. ``off`` / ``none`` /
TOML ``false`` mean "no limit" where the setting allows it.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from metadata.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$", re.I)
_SECONDS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_MAX_SECONDS = 100 * 365 * 86400.0
EXAMPLES = '"3600", "30m", "24h", "7d" or "2w"'


def parse_duration(value: object, *, where: str, allow_off: bool = False) -> dt.timedelta | None:
    """The duration ``value`` names; None for ``off`` when ``allow_off``.

    Raises ConfigError naming ``where`` (the option or setting) for anything else.
    """
    off = value is False or (isinstance(value, str) and value.strip().lower() in ("off", "none"))
    if off:
        if allow_off:
            return None
        raise ConfigError(f"expected a duration such as {EXAMPLES}, not {value!r}", where=where)
    if isinstance(value, bool):  # TOML true: not a duration
        raise ConfigError(f"expected a duration such as {EXAMPLES}, not true", where=where)
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif (
        isinstance(value, str) and (m := _DURATION.match(value)) and m.group(2).lower() in _SECONDS
    ):
        seconds = float(m.group(1)) * _SECONDS[m.group(2).lower()]
    else:
        extra = ' or "off"' if allow_off else ""
        raise ConfigError(
            f"expected a duration such as {EXAMPLES}{extra} (a bare number is seconds), "
            f"not {value!r}",
            where=where,
        )
    if not math.isfinite(seconds) or seconds > _MAX_SECONDS:
        raise ConfigError(f"{value!r} is too long a duration", where=where)
    if seconds < 0:
        raise ConfigError("a duration must not be negative", where=where)
    return dt.timedelta(seconds=seconds)


def format_duration(value: dt.timedelta) -> str:
    """A compact form that parses back to the same duration: ``24h``, ``30m``, ``7d``, ``90s``
    (the largest unit that divides it, used only from two of that unit up)."""
    seconds = value.total_seconds()
    for suffix in ("w", "d", "h", "m"):
        size = _SECONDS[suffix]
        if seconds >= 2 * size and seconds % size == 0:
            return f"{int(seconds // size)}{suffix}"
    return f"{seconds:g}s"
