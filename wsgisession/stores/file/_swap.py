"""Swapping two paths in one step, with Linux's ``renameat2(RENAME_EXCHANGE)``.

Why: renamed over an existing file, a file's data starts being written out at
once on ext4 (``auto_da_alloc``, its guard for programs that never fsync). That
partial fsync tripled the cost of a save (docs/performance.md) and buys nothing we
rely on: see the no-fsync note in :mod:`._io`.
Swapping the new file in and unlinking the old one is as atomic for readers.
Elsewhere, and on file systems that cannot swap, callers rename."""

from __future__ import annotations

import ctypes
import errno
import os
import sys
from collections.abc import Callable

_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100
# Not an error of the swap, only a sign that it is unavailable: fall back to a rename.
_UNAVAILABLE = frozenset({errno.ENOENT, errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV})


def _load() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):  # a libc older than glibc 2.28
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_renameat2 = _load()


def exchange(first: str, second: str) -> bool:
    """Swap the files at ``first`` and ``second`` (symlinks are swapped, not followed).

    Returns False, having changed nothing, if ``second`` does not exist or the
    system or file system cannot swap; raises OSError for any other failure.
    """
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _UNAVAILABLE:
        return False
    raise OSError(code, os.strerror(code))
