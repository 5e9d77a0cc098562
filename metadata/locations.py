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
