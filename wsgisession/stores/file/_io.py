"""Reading and atomically replacing files without following a symlink, on bare descriptors.

Files are opened with ``O_NONBLOCK``, so a FIFO planted at one of our names cannot
hang the open, and used only if ``fstat`` shows a regular file owned by this process.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat

from ._swap import exchange

#: Temporary files being written are named this prefix and 16 random hex digits.
TEMP_PREFIX = ".wsgisession-tmp-"

_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_LOCK = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
# What opening a folder (EISDIR) or a socket (ENXIO) for writing raises: not a file of ours.
_NOT_A_FILE = frozenset({errno.EISDIR, errno.ENXIO})


class PlantedLink(Exception):
    """The file to read is a symlink, which no writer of ours creates."""


class Foreign(Exception):
    """A file at one of our names that is not a regular file owned by this process: someone else put it there."""


def read(path: str) -> bytes | None:
    """The content of ``path``, None if there is no file.

    Raises :class:`PlantedLink` if it is a symlink, :class:`Foreign` if it is not a
    regular file owned by this process (a FIFO, a socket, a file of another user).
    """
    try:
        fd = os.open(path, _READ)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise PlantedLink from None
        if exc.errno in _NOT_A_FILE:
            raise Foreign from None
        raise
    try:
        info = os.fstat(fd)
        if not _ours(info):
            raise Foreign
        hint = info.st_size + 1
        chunks = []
        while chunk := os.read(fd, hint):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def replace(folder: str, path: str, payload: bytes) -> None:
    """Write ``payload`` to ``path`` in ``folder`` atomically (mode 0600).

    A symlink at ``path`` is replaced, not followed. No temporary file is left on failure.
    """
    temp_path = os.path.join(folder, TEMP_PREFIX + secrets.token_hex(8))
    fd = os.open(temp_path, _CREATE, 0o600)
    try:
        try:
            written = os.write(fd, payload)
            while written < len(payload):  # a short write: the next one reports why (disk full)
                written += os.write(fd, payload[written:])
        finally:
            os.close(fd)
        # No fsync: the swap makes every write all-or-nothing for readers and for a
        # crashed process; only a power cut can lose the last writes (a file it leaves
        # unreadable reads as an empty session). Syncing cost ~0.5 ms per save.
        swapped = exchange(temp_path, path)
        if not swapped:
            os.replace(temp_path, path)
    except BaseException:
        unlink(temp_path)
        raise
    if swapped:
        unlink(temp_path)  # the old file


def open_lock(path: str) -> int:
    """A descriptor of the lock file ``path``, made (mode 0600) if missing.

    Raises :class:`Foreign` if ``path`` is anything but a regular file owned by this
    process: a lock file another user made could be held by them for ever.
    """
    try:
        fd = os.open(path, _LOCK, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP or exc.errno in _NOT_A_FILE:
            raise Foreign from None
        raise
    try:
        ours = _ours(os.fstat(fd))
    except BaseException:
        os.close(fd)
        raise
    if not ours:
        os.close(fd)
        raise Foreign
    return fd


def _ours(info: os.stat_result) -> bool:
    # The euid is read each time: a server may switch users after importing the app.
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid()


def is_link(path: str) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def unlink(path: str) -> bool:
    """Remove ``path``; False if it was already gone (any other error propagates)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True
