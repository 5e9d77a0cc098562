"""msgavail's decisions: names, the rules engine, the linter, the executor and the CLI.

The public library surface is re-exported here::

    import validator
    verdict = validator.check("Create", "queue")      # published default
    if not verdict.available:
        raise SystemExit(verdict.reason)
"""

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
from validator.api import check, default_engine, load_engine
from validator.engine import Engine, Verdict
from validator.guards import GuardedClient, guard

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
