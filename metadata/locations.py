"""Where msgavail keeps things on disk: the cache (harvests) and the data dir (journals).

Both come from platformdirs, overridable by option or environment. Tests replace these
functions with ones that raise, so a test that forgets to choose a directory fails loudly
instead of writing into the real user cache.
"""

from __future__ import annotations

import os

APP = "msgavail"


def user_cache_dir() -> str:
    """``MSGAVAIL_CACHE_DIR``, else the platform user cache directory for msgavail."""
    env = os.environ.get("MSGAVAIL_CACHE_DIR")
    if env:
        return env
    import platformdirs

    return platformdirs.user_cache_dir(APP, appauthor=False)


def user_data_dir() -> str:
    """``MSGAVAIL_DATA_DIR``, else the platform user data directory (journals live here)."""
    env = os.environ.get("MSGAVAIL_DATA_DIR")
    if env:
        return env
    import platformdirs

    return platformdirs.user_data_dir(APP, appauthor=False)


class Location(os.PathLike[str]):
    """A directory and where the choice of it came from (``--cache-dir``,
    ``MSGAVAIL_CACHE_DIR``...), so an error about the directory names what the user set.

    It is path-like: anything that takes ``str | os.PathLike`` takes it.
    """

    __slots__ = ("origin", "path")

    def __init__(self, path: str | os.PathLike[str], origin: str | None = None) -> None:
        self.path = os.fspath(path)
        self.origin = origin

    def __fspath__(self) -> str:
        return self.path

    def __repr__(self) -> str:
        return f"Location({self.path!r}, origin={self.origin!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Location):
            return (self.path, self.origin) == (other.path, other.origin)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.path, self.origin))

    def describe(self) -> str:
        """``MSGAVAIL_CACHE_DIR=/x``, ``--cache-dir /x`` or just ``/x``."""
        if self.origin is None:
            return self.path
        if self.origin.startswith("-"):
            return f"{self.origin} {self.path}"
        if self.origin.isupper():  # an environment variable
            return f"{self.origin}={self.path}"
        return f"{self.origin} {self.path}"


def cache_location(directory: str | os.PathLike[str] | None = None) -> Location:
    """The cache directory to use and its origin: ``directory`` as given (a Location keeps
    its own origin), else ``MSGAVAIL_CACHE_DIR``, else the platform's user cache."""
    if isinstance(directory, Location):
        return directory
    if directory is not None:
        return Location(directory)
    if os.environ.get("MSGAVAIL_CACHE_DIR"):
        return Location(user_cache_dir(), origin="MSGAVAIL_CACHE_DIR")
    return Location(user_cache_dir(), origin="the platform cache directory")
