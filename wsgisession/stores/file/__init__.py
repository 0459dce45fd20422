"""The ``file`` engine: one JSON file per session in a folder.

Use it on one machine, or with a folder shared by several machines whose file
system honours ``flock`` (a local disk, or a network file system with working
advisory locks). Do not use it on NFS without lock support: concurrent saves
would then overwrite each other's keys. The folder must be the process's own
(checked at start, see :mod:`._folder`). A file there that is not a regular
file of the process (a FIFO, another user's) is never waited on: a session file
reads as corrupt, a lock file fails the operation.

Files are written to a temporary file in the same folder and swapped in (a
``renameat2`` exchange on Linux, ``os.replace`` elsewhere), so a reader never
sees a half-written session. Session files that are symlinks are refused. Saves take an
exclusive ``flock`` on one of :data:`LOCK_STRIPES` lock files, so concurrent
saves from threads and processes merge instead of losing keys.

Session locks (``SESSION_LOCKING``) are leases kept in the session file itself
(its ``lt`` token and ``lx`` deadline), read and written under the same stripe
lock, so they hold across processes and end by themselves when a holder dies.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import logging
import os
import secrets
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ...errors import LockLostError, StoreError, StoreMisconfigured
from .._backoff import FIRST_PAUSE, LONGEST_PAUSE, LockWait
from ..base import RECORD_ID_PATTERN, Change, CorruptRecord, Record
from . import _checks, _folder, _io
from ._format import NOTHING, Corrupt, Lease, Stored, decode, encode, holds
from ._io import TEMP_PREFIX, Foreign, PlantedLink

if TYPE_CHECKING:
    from types import TracebackType

    from ...checks import CheckResult
    from ...settings import Settings

logger = logging.getLogger("wsgisession")
security_logger = logging.getLogger("wsgisession.security")

#: A session file is named this prefix followed by its record id.
FILE_PREFIX = "wsgisession-"
#: Lock files are this prefix and a two-digit stripe number; never deleted.
LOCK_PREFIX = ".wsgisession-lock-"
#: How many lock files a folder holds (records share them by their first hex digits).
LOCK_STRIPES = 64
#: Seconds after which a leftover temporary file (:data:`TEMP_PREFIX`, a crashed writer) is removed.
STALE_TEMP_AGE = 3600.0
#: What a failed file operation says when the folder is no longer usable (a misconfiguration).
_NOT_OURS = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR)
#: First and longest pause (seconds) between two tries of a waiting ``acquire``; jittered.
LOCK_RETRY_FIRST, LOCK_RETRY_MAX = FIRST_PAUSE, LONGEST_PAUSE


class FileStore:
    """Records as files in ``folder``; thread- and process-safe where ``flock`` works.

    Every method raises :class:`StoreError` for a system failure (permission
    denied, disk full, folder gone). Record ids that are not 64 lowercase hex
    digits, and session files that are symlinks, are refused with a warning on
    ``wsgisession.security``: the store never reads or writes outside ``folder``.
    A waiting ``acquire`` polls (the lease lives in a file nobody can wait on),
    with a jittered backoff from :data:`LOCK_RETRY_FIRST` to
    :data:`LOCK_RETRY_MAX` seconds.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = os.path.realpath(os.fspath(folder))
        self._prefix = os.path.join(self.folder, FILE_PREFIX)
        self._locks = [os.path.join(self.folder, f"{LOCK_PREFIX}{n:02d}") for n in range(LOCK_STRIPES)]

    @classmethod
    def from_settings(cls, settings: Settings) -> FileStore:
        """A store in ``SESSION_FILE_PATH``; ConfigurationError unless only this process's user can write there."""
        return cls(_folder.private_folder(settings.file_path))

    def check(self) -> list[CheckResult]:
        """The folder (checked at start) takes a new file, and its lock files open."""
        return _checks.check(self.folder, self._errors, self.check_locks)

    def check_locks(self) -> None:
        """Open (making them if missing) and close every lock file; OSError or Foreign if one cannot be."""
        for lock in self._locks:
            os.close(_io.open_lock(lock))

    def load(self, record_id: str) -> Record | None:
        path = self._path(record_id, "load")
        if path is None:
            return None
        with self._errors("load"):
            try:
                stored = _read(path)
            except Corrupt:
                raise CorruptRecord(f"a session file in {self.folder} does not hold session data") from None
            return stored.record if stored is not None else None
        return None  # a symlink: _errors refused it

    def save(self, record_id: str, change: Change) -> bool:
        """Apply ``change``; :class:`LockLostError` if ``change.lock_token`` no longer holds the lease.

        A save without a token ignores the lease and keeps it for its holder.
        """
        path = self._path(record_id, "save")
        if path is None:
            return False
        with self._errors("save"), self._locked(record_id):
            current = self._read_or_warn(path)
            if current is None and not change.create:
                return False
            if change.lock_token is not None and not holds(current, change.lock_token):
                raise LockLostError("file")
            old = current if current is not None else NOTHING
            record = Record(change.apply_to(old.record.data), change.meta, change.expires_at, old.record.version + 1)
            _io.replace(self.folder, path, encode(record, old.lease))
            return True
        return False  # a symlink: _errors refused it

    def touch(self, record_id: str, expires_at: float) -> bool:
        """Move the expiry to ``expires_at`` (data, metadata, version and lease unchanged)."""
        path = self._path(record_id, "touch")
        if path is None:
            return False
        with self._errors("touch"), self._locked(record_id):
            current = self._read_or_warn(path)
            if current is None:
                return False
            record = dataclasses.replace(current.record, expires_at=expires_at)
            _io.replace(self.folder, path, encode(record, current.lease))
            return True
        return False  # a symlink: _errors refused it

    def acquire(self, record_id: str, lease: float, wait: float) -> str | None:
        """Take the session lock for ``lease`` seconds; None if there is no session.

        Raises :class:`LockTimeoutError` when another holder keeps it past ``wait`` seconds.
        """
        path = self._path(record_id, "lock")
        if path is None:
            return None
        waiting = LockWait("file", wait)
        with self._errors("lock"):
            while True:
                with self._locked(record_id):
                    current = self._read_or_warn(path)
                    if current is None:
                        return None
                    if current.lease is None or current.lease.deadline <= time.time():
                        token = secrets.token_hex(16)
                        _io.replace(self.folder, path, encode(current.record, Lease(token, time.time() + lease)))
                        return token
                waiting.pause()
        return None  # a symlink: _errors refused it

    def release(self, record_id: str, token: str) -> None:
        """Clear the lease if ``token`` holds it; otherwise (a newer holder, no session) do nothing."""
        path = self._path(record_id, "release the lock")
        if path is None:
            return
        with self._errors("release the lock"), self._locked(record_id):
            current = self._read_or_warn(path)
            if current is not None and current.lease is not None and current.lease.token == token:
                _io.replace(self.folder, path, encode(current.record, None))

    def delete(self, record_id: str) -> None:
        self.retire(record_id)

    def retire(self, record_id: str) -> bool:
        path = self._path(record_id, "delete")
        if path is None:
            return False
        with self._errors("delete"), self._locked(record_id):
            if _io.is_link(path):
                raise PlantedLink  # unlinking it would be harmless, but it must be reported
            return _io.unlink(path)
        return False  # a symlink: _errors refused it

    def clear_expired(self, now: float) -> int:
        """Delete sessions that expired before ``now`` and stale temporary files.

        Returns how many sessions were deleted. Corrupted session files are left in
        place (they load as empty sessions) and reported in one warning.
        """
        deleted = corrupted = 0
        with self._errors("clear expired sessions"):
            for name in os.listdir(self.folder):
                if name.startswith(TEMP_PREFIX):
                    self._remove_if_stale(name, now)
                elif name.startswith(FILE_PREFIX) and RECORD_ID_PATTERN.fullmatch(name[len(FILE_PREFIX):]):
                    try:
                        deleted += self._delete_if_expired(name[len(FILE_PREFIX):], now)
                    except Corrupt:
                        corrupted += 1
                    except PlantedLink:
                        _refuse_link("clear", self.folder)
        if corrupted:
            logger.warning("%d session files in %s could not be decoded; left in place", corrupted, self.folder)
        return deleted

    # --- paths, locks and errors --------------------------------------------------

    def _path(self, record_id: str, operation: str) -> str | None:
        """The file of ``record_id``, or None (with a security warning) if the id is malformed.

        The id pattern leaves no room for a separator, so the only way out of the
        folder is a symlink as the file itself: see :mod:`._io`.
        """
        if not isinstance(record_id, str) or RECORD_ID_PATTERN.fullmatch(record_id) is None:
            length = len(record_id) if isinstance(record_id, str) else -1
            security_logger.warning("file store refused to %s a malformed record id (%s of length %d)",
                                    operation, type(record_id).__name__, length)
            return None
        return self._prefix + record_id

    @contextlib.contextmanager
    def _locked(self, record_id: str) -> Iterator[None]:
        """Hold the exclusive lock of ``record_id``'s stripe (against threads and processes)."""
        # flock belongs to the open file description: threads sharing one descriptor
        # would all "hold" the lock at once, so every call opens its own (one cheap
        # open/close per save, and no descriptors kept per thread that never close).
        fd = _io.open_lock(self._locks[int(record_id[:2], 16) % LOCK_STRIPES])
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _errors(self, operation: str) -> _Errors:
        return _Errors(self.folder, operation)

    # --- reading and sweeping -----------------------------------------------------

    def _read_or_warn(self, path: str) -> Stored | None:
        try:
            return _read(path)
        except Corrupt:
            logger.warning("a session file in %s could not be decoded; starting an empty session", self.folder)
            return None

    def _delete_if_expired(self, record_id: str, now: float) -> bool:
        path = self._prefix + record_id
        if not _expired(path, now):
            return False
        with self._locked(record_id):
            # A save may have renewed it between the check and the lock.
            return _expired(path, now) and _io.unlink(path)

    def _remove_if_stale(self, name: str, now: float) -> None:
        path = os.path.join(self.folder, name)
        try:
            stale = os.lstat(path).st_mtime < now - STALE_TEMP_AGE
        except FileNotFoundError:
            return
        if stale:
            _io.unlink(path)


class _Errors:
    """How an operation on ``folder`` ends early, a context manager.

    An OSError, or a lock file not ours, becomes a StoreError (the detail names the
    folder, never a record id). A session file found to be a symlink ends the operation
    quietly, with a security warning: the code after the ``with`` block says what it returns then.
    """

    def __init__(self, folder: str, operation: str) -> None:
        self.folder = folder
        self.operation = operation

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> bool:
        if isinstance(exc, PlantedLink):
            _refuse_link(self.operation, self.folder)
            return True
        if isinstance(exc, Foreign):
            security_logger.warning("file store found a lock file not its own in %s", self.folder)
            detail = f"a lock file is not a regular file owned by this process; remove it (folder {self.folder!r})"
            raise StoreError("file", self.operation, detail) from exc
        if isinstance(exc, OSError):
            detail = f"{exc.strerror or type(exc).__name__} (folder {self.folder!r})"
            if exc.errno in _NOT_OURS:  # the folder went away or became read-only: no retry mends that
                raise StoreMisconfigured("file", self.operation, detail, setting="SESSION_FILE_PATH",
                                         server=self.folder, problem="cannot write the folder",
                                         fix=_folder.FIX) from exc
            raise StoreError("file", self.operation, detail) from exc
        return False


def _refuse_link(operation: str, folder: str) -> None:
    security_logger.warning("file store refused to %s a session file that is a symlink in %s", operation, folder)


def _read(path: str) -> Stored | None:
    """The content of ``path``, None if there is no file; :class:`Corrupt` if it is malformed or not ours."""
    try:
        raw = _io.read(path)
    except Foreign:
        security_logger.warning("file store found a session file in %s that is not a regular file owned by"
                                " this process; read as corrupt", os.path.dirname(path))
        raise Corrupt("not a regular file of ours") from None
    return decode(raw) if raw is not None else None


def _expired(path: str, now: float) -> bool:
    stored = _read(path)
    return stored is not None and stored.record.expires_at < now
