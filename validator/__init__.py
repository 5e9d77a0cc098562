"""msgavail's decisions: names, the rules engine, the linter, the executor and the CLI.

The public library surface is re-exported here::

    import validator
    verdict = validator.check("Create", "queue")      # published default
    if not verdict.available:
        raise SystemExit(verdict.reason)
"""

import typing as t

from metadata import __version__
from metadata.errors import (
    AuthenticationError,
    CacheError,
    ConfigError,
    DataUnavailableError,
    InputError,
    InsecureURLError,
    JournalError,
    MsgavailError,
    NotAvailableError,
    NotFoundError,
    NotQueueableError,
    PlanError,
    ServerError,
    SnapshotFormatError,
    ThrottledError,
    TransportError,
    UnknownMessageError,
    UnknownNameError,
    UnknownProfileError,
    UnknownTableError,
    UnlistedMessageError,
    WebAPIError,
)
from metadata.model import Availability, Mode, OfflineProfile, ProfileItem, Snapshot, Source

if t.TYPE_CHECKING:
    from validator.api import check, default_engine, load_engine
    from validator.engine import Engine, Verdict
    from validator.guards import GuardedClient, guard

# Loaded on first use (PEP 562), so that `import validator.cli` (every command's start-up)
# does not pay for the engine or the SDK guard (uuid, which imports platform) before it needs
# them.
_LAZY = {
    "check": "validator.api",
    "default_engine": "validator.api",
    "load_engine": "validator.api",
    "Engine": "validator.engine",
    "Verdict": "validator.engine",
    "GuardedClient": "validator.guards",
    "guard": "validator.guards",
}


def __getattr__(name: str) -> t.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'validator' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "AuthenticationError",
    "Availability",
    "CacheError",
    "ConfigError",
    "DataUnavailableError",
    "Engine",
    "GuardedClient",
    "InputError",
    "InsecureURLError",
    "JournalError",
    "Mode",
    "MsgavailError",
    "NotAvailableError",
    "NotFoundError",
    "NotQueueableError",
    "OfflineProfile",
    "PlanError",
    "ProfileItem",
    "ServerError",
    "Snapshot",
    "SnapshotFormatError",
    "Source",
    "ThrottledError",
    "TransportError",
    "UnknownMessageError",
    "UnknownNameError",
    "UnknownProfileError",
    "UnknownTableError",
    "UnlistedMessageError",
    "Verdict",
    "WebAPIError",
    "__version__",
    "check",
    "default_engine",
    "guard",
    "load_engine",
]
