"""Small file-system helpers shared by snapshot files and the store."""

from __future__ import annotations

import contextlib
import os
import tempfile


def atomic_write_text(path: str, text: str) -> None:
    """Write ``text`` to ``path`` so that a crash leaves the old file or the new one.

    The temporary file lives in the same directory (``os.replace`` is atomic only within a
    file system) and is fsynced before the rename, and the directory after it.
    """
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".msgavail-", suffix=".tmp", dir=directory)
    try:
        # mkstemp creates the file 0600; give it the mode a plain open() would have.
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def blocking_file(path: str) -> str | None:
    """The first existing ancestor of ``path`` (or ``path`` itself) that is not a directory,
    or None: why ``os.makedirs(path)`` fails with NotADirectoryError / FileExistsError."""
    current = os.path.abspath(path)
    chain = [current]
    while True:
        parent = os.path.dirname(current)
        if parent == current:
            break
        chain.append(parent)
        current = parent
    for candidate in reversed(chain):
        if not os.path.lexists(candidate):
            return None
        if not os.path.isdir(candidate):
            return candidate
    return None
