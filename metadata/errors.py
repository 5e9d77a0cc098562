"""Every exception msgavail raises on purpose, in one place.

The hierarchy::

    MsgavailError                      anything msgavail reports to a user (CLI exit status 2)
    ├── ErrorsAfterOutput              a command wrote its output, then failed for these reasons
    ├── InputError                     a file the user gave cannot be used (path, line, column)
    │   ├── SnapshotFormatError        a snapshot file fails the snapshot schema
    │   └── PlanError                  a plan or batch file cannot be read
    ├── UnknownNameError               a message or table name is not in the data (suggestions)
    │   ├── UnknownMessageError
    │   │   └── UnlistedMessageError   a real message the published 9.0 table does not list
    │   ├── UnknownTableError
    │   └── UnknownProfileError        a mobile offline profile name (suggestions)
    ├── ConfigError                    bad [tool.msgavail] settings or option values
    ├── DataUnavailableError           no data for the request (e.g. no cached harvest for an org)
    ├── CacheError                     the local cache cannot be read or written
    │   └── CacheLocationError         the cache directory cannot be created or used (a path
    │                                  problem to fix, not damage that a re-harvest repairs)
    ├── JournalError                   the offline journal cannot be read or written
    │   ├── JournalLockedError         another sync is already playing the journal back
    │   └── JournalDamagedError        the journal's database or some entries are unreadable
    ├── NotAvailableError              validator.guard refused an SDK write before sending it:
    │   │                              the verdict says it does not run in the mode
    │   └── NotQueueableError          the queueing guard cannot journal this kind of write
    └── WebAPIError                    talking to a Dataverse organization failed
        ├── InsecureURLError           http:// to a host that is not loopback, or a malformed URL
        ├── TransportError             connection refused, reset, timed out (after retries)
        ├── AuthenticationError        401 / 403, or no token could be obtained
        ├── NotFoundError              404
        ├── ThrottledError             429 that outlasted the retry budget
        └── ServerError                5xx that outlasted the retry budget, or another HTTP error

Each class carries the context a user needs as attributes (``path``, ``line``, ``column``,
``url``, ``status``, ``suggestions``); ``str(exc)`` is always one line that can be shown as is.
Messages never contain an access token.
"""

from __future__ import annotations

import typing as t

__all__ = [
    "AuthenticationError",
    "CacheError",
    "CacheLocationError",
    "ConfigError",
    "DataUnavailableError",
    "ErrorsAfterOutput",
    "InputError",
    "InsecureURLError",
    "JournalDamagedError",
    "JournalError",
    "JournalLockedError",
    "MsgavailError",
    "NotAvailableError",
    "NotFoundError",
    "NotQueueableError",
    "PlanError",
    "ServerError",
    "SnapshotFormatError",
    "ThrottledError",
    "TransportError",
    "UnknownMessageError",
    "UnknownNameError",
    "UnknownProfileError",
    "UnknownTableError",
    "UnlistedMessageError",
    "WebAPIError",
]


class MsgavailError(Exception):
    """Base class: a failure msgavail explains to its user in one line."""


class ErrorsAfterOutput(MsgavailError):
    """A command that wrote its output (a lint report, a sync summary) and still failed:
    ``reasons`` holds one line per cause (e.g. each plan file that could not be read), which the
    CLI boundary prints as ``msgavail: error: ...`` lines before exiting with status 2."""

    def __init__(self, reasons: t.Sequence[object]) -> None:
        self.reasons = tuple(str(r) for r in reasons) or ("failed",)
        super().__init__("; ".join(self.reasons))


class NotAvailableError(MsgavailError):
    """A write the guard (``validator.guard``) refused before anything was sent.

    ``verdict`` is the engine's ``validator.engine.Verdict`` (its ``reason`` names the deciding
    column and value; None for a write that cannot be queued at all), ``operation`` what the
    SDK was asked (e.g. ``records.create``)."""

    def __init__(self, operation: str, verdict: t.Any, detail: str = "") -> None:
        self.operation = operation
        self.verdict = verdict
        text = f"{operation}: {verdict.reason}" if verdict is not None else operation
        super().__init__(text + (f": {detail}" if detail else ""))


class NotQueueableError(NotAvailableError):
    """The queueing guard cannot put this write in the offline journal (an upsert by alternate
    key: playback creates and updates records by id)."""


class InputError(MsgavailError, ValueError):
    """A user-supplied file cannot be used; names the file, line and what was expected."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        super().__init__(self._render())

    def _render(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


class SnapshotFormatError(InputError):
    """A snapshot file is not valid JSON or does not match the snapshot schema."""


class PlanError(InputError):
    """A plan, $batch body or ExecuteMultiple request cannot be parsed."""


class UnknownNameError(MsgavailError, LookupError):
    """A name is not in the data; ``suggestions`` holds the nearest known names."""

    kind: t.ClassVar[str] = "name"

    def __init__(self, name: str, suggestions: t.Sequence[str] = (), *, detail: str = "") -> None:
        self.name = name
        self.suggestions = tuple(suggestions)
        text = f"unknown {self.kind} {name!r}"
        if detail:
            text += f" {detail}"
        if self.suggestions:
            text += "; did you mean " + ", ".join(self.suggestions) + "?"
        super().__init__(text)


class UnknownMessageError(UnknownNameError):
    """No message of that name in the data."""

    kind = "message"


class UnlistedMessageError(UnknownMessageError):
    """A real Dataverse message that the data does not list (the published 9.0 table predates
    it, or it was never plug-in supported): not a typo; the answer needs a harvest of the org."""

    def __init__(self, name: str, canonical: str) -> None:
        super().__init__(name)
        self.canonical = canonical
        self.args = (
            f"{canonical} is a Dataverse message the published 9.0 table does not list; harvest "
            "your org (`msgavail harvest --org URL`) or use a snapshot of it (--snapshot FILE)",
        )


class UnknownTableError(UnknownNameError):
    """No table of that logical, schema or entity set name (or alias) in the data."""

    kind = "table"


class UnknownProfileError(UnknownNameError):
    """No mobile offline profile of that name (case-insensitive) in the data."""

    kind = "mobile offline profile"


class ConfigError(MsgavailError, ValueError):
    """An option, environment variable or ``[tool.msgavail]`` setting has a value msgavail
    cannot use; ``where`` names it (e.g. ``--ttl``), ``detail`` says what is wrong."""

    def __init__(self, detail: str, *, where: str | None = None) -> None:
        self.where = where
        self.detail = detail
        super().__init__(f"{where}: {detail}" if where else detail)


class DataUnavailableError(MsgavailError):
    """The requested data source has no data (for example, no cached harvest for an org)."""


class CacheError(MsgavailError):
    """The cache directory cannot be read or written."""


class CacheLocationError(CacheError):
    """The cache directory cannot be created or used (for example, a parent is a file); names
    the option or environment variable that chose it."""


class JournalError(MsgavailError):
    """The offline journal cannot be read or written."""


class JournalLockedError(JournalError):
    """Another process holds the journal's playback lock (one sync at a time)."""


class JournalDamagedError(JournalError):
    """The journal's database is missing, empty or unreadable, or some entries are: ``path``
    names the journal, ``damaged`` the sequence numbers of the operations that cannot be read.
    Never answered by re-creating the journal; the message says how to save what is readable."""

    def __init__(
        self, message: str, *, path: str | None = None, damaged: t.Sequence[int] = ()
    ) -> None:
        super().__init__(message)
        self.path = path
        self.damaged = tuple(damaged)


class WebAPIError(MsgavailError):
    """A request to the Dataverse Web API failed; ``url`` and ``status`` say which and how."""

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        self.url = url
        self.status = status
        self.code = code
        super().__init__(message)


class InsecureURLError(WebAPIError, ValueError):
    """The organization URL is malformed, or uses http:// for a host that is not loopback."""


class TransportError(WebAPIError):
    """The connection failed (refused, reset, timed out) after the retries allowed."""


class AuthenticationError(WebAPIError):
    """The server refused the credentials (401/403), or no token could be obtained."""


class NotFoundError(WebAPIError):
    """The resource does not exist (404)."""


class ThrottledError(WebAPIError):
    """Service protection limits (429) outlasted the retry budget."""


class ServerError(WebAPIError):
    """The server failed (5xx) after the retries allowed, or answered with another HTTP error."""
