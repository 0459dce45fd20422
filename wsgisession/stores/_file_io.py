"""Reading and atomically replacing files without following a symlink, on bare descriptors."""

from __future__ import annotations

import errno
import os
import secrets
import stat

from ._file_swap import exchange

#: Temporary files being written are named this prefix and 16 random hex digits.
TEMP_PREFIX = ".wsgisession-tmp-"

_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class PlantedLink(Exception):
    """The file to read is a symlink, which no writer of ours creates."""


def read(path: str) -> bytes | None:
    """The content of ``path``, None if there is no file; :class:`PlantedLink` if it is a symlink."""
    try:
        fd = os.open(path, _READ)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise PlantedLink from None
        raise
    try:
        hint = os.fstat(fd).st_size + 1
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
