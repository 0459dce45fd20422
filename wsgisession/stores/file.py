"""The ``file`` engine: one JSON file per session in a folder.

Use it on one machine, or with a folder shared by several machines whose file
system honours ``flock`` (a local disk, or a network file system with working
advisory locks). Do not use it on NFS without lock support: concurrent saves
would then overwrite each other's keys. Give it a folder of its own: the default
(the system temp dir) is shared with every other program on the machine.

Files are written to a temporary file in the same folder and swapped in with
``os.replace``, so a reader never sees a half-written session. Saves take an
exclusive ``flock`` on one of :data:`LOCK_STRIPES` lock files, so concurrent
saves from threads and processes merge instead of losing keys.

Session locks (``SESSION_LOCKING``) are leases kept in the session file itself
(its ``lt`` token and ``lx`` deadline), read and written under the same stripe
lock, so they hold across processes and end by themselves when a holder dies.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import logging
import os
import random
import secrets
import tempfile
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import ConfigurationError, LockLostError, LockTimeoutError, SettingProblem, StoreError
from .base import RECORD_ID_PATTERN, Change, CorruptRecord, Record

if TYPE_CHECKING:
    from ..settings import Settings

logger = logging.getLogger("wsgisession")
security_logger = logging.getLogger("wsgisession.security")

#: A session file is named this prefix followed by its record id.
FILE_PREFIX = "wsgisession-"
#: Temporary files being written; ones older than :data:`STALE_TEMP_AGE` are swept.
TEMP_PREFIX = ".wsgisession-tmp-"
#: Lock files are this prefix and a two-digit stripe number; never deleted.
LOCK_PREFIX = ".wsgisession-lock-"
#: How many lock files a folder holds (records share them by their first hex digits).
LOCK_STRIPES = 64
#: Seconds after which a leftover temporary file (a crashed writer) is removed.
STALE_TEMP_AGE = 3600.0
#: First and longest pause (seconds) between two tries of a waiting ``acquire``; jittered.
LOCK_RETRY_FIRST = 0.002
LOCK_RETRY_MAX = 0.05


class _Corrupt(ValueError):
    """A session file that is not JSON of the expected shape."""


class _Lease(NamedTuple):
    token: str
    #: Unix time (``time.time()``), not a monotonic clock: other processes, and
    #: other machines sharing the folder, must read the same deadline.
    deadline: float


class _Stored(NamedTuple):
    """The content of one session file: the record and the session lock on it, if any."""

    record: Record
    lease: _Lease | None


#: What a save that creates a session builds on.
_NOTHING = _Stored(Record({}, "", 0.0, 0), None)


class FileStore:
    """Records as files in ``folder``; thread- and process-safe where ``flock`` works.

    Every method raises :class:`StoreError` for a system failure (permission
    denied, disk full, folder gone). Record ids that are not 64 lowercase hex
    digits are refused with a warning on ``wsgisession.security``, before any path
    is built. A waiting ``acquire`` polls (the lease lives in a file nobody can
    wait on), with a jittered backoff from :data:`LOCK_RETRY_FIRST` to
    :data:`LOCK_RETRY_MAX` seconds.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = os.path.abspath(os.fspath(folder))

    @classmethod
    def from_settings(cls, settings: Settings) -> FileStore:
        """A store in ``SESSION_FILE_PATH``; :class:`ConfigurationError` if it is not a folder."""
        if not os.path.isdir(settings.file_path):
            raise ConfigurationError([SettingProblem("SESSION_FILE_PATH", "an existing folder",
                                                     repr(settings.file_path))])
        return cls(settings.file_path)

    def load(self, record_id: str) -> Record | None:
        path = self._path(record_id, "load")
        if path is None:
            return None
        with self._errors("load"):
            try:
                stored = _read(path)
            except _Corrupt:
                raise CorruptRecord(f"a session file in {self.folder} does not hold session data") from None
        return stored.record if stored is not None else None

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
            if change.lock_token is not None and not _holds(current, change.lock_token):
                raise LockLostError("file")
            old = current if current is not None else _NOTHING
            record = Record(change.apply_to(old.record.data), change.meta, change.expires_at, old.record.version + 1)
            self._write(path, _encode(record, old.lease))
        return True

    def touch(self, record_id: str, expires_at: float) -> bool:
        """Move the expiry to ``expires_at`` (data, metadata, version and lease unchanged)."""
        path = self._path(record_id, "touch")
        if path is None:
            return False
        with self._errors("touch"), self._locked(record_id):
            current = self._read_or_warn(path)
            if current is None:
                return False
            self._write(path, _encode(dataclasses.replace(current.record, expires_at=expires_at), current.lease))
        return True

    def acquire(self, record_id: str, lease: float, wait: float) -> str | None:
        """Take the session lock for ``lease`` seconds; None if there is no session.

        Raises :class:`LockTimeoutError` when another holder keeps it past ``wait`` seconds.
        """
        path = self._path(record_id, "lock")
        if path is None:
            return None
        give_up = time.monotonic() + wait  # the wait is this process's own: a monotonic clock is right
        pause = LOCK_RETRY_FIRST
        with self._errors("lock"):
            while True:
                with self._locked(record_id):
                    current = self._read_or_warn(path)
                    if current is None:
                        return None
                    if current.lease is None or current.lease.deadline <= time.time():
                        token = secrets.token_hex(16)
                        self._write(path, _encode(current.record, _Lease(token, time.time() + lease)))
                        return token
                remaining = give_up - time.monotonic()
                if remaining <= 0:
                    raise LockTimeoutError("file", wait)
                time.sleep(min(remaining, random.uniform(pause / 2, pause)))  # jitter: waiters spread out
                pause = min(pause * 2, LOCK_RETRY_MAX)

    def release(self, record_id: str, token: str) -> None:
        """Clear the lease if ``token`` holds it; otherwise (a newer holder, no session) do nothing."""
        path = self._path(record_id, "release the lock")
        if path is None:
            return
        with self._errors("release the lock"), self._locked(record_id):
            current = self._read_or_warn(path)
            if current is not None and current.lease is not None and current.lease.token == token:
                self._write(path, _encode(current.record, None))

    def delete(self, record_id: str) -> None:
        path = self._path(record_id, "delete")
        if path is None:
            return
        with self._errors("delete"), self._locked(record_id):
            _unlink(path)

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
                    except _Corrupt:
                        corrupted += 1
        if corrupted:
            logger.warning("%d session files in %s could not be decoded; left in place", corrupted, self.folder)
        return deleted

    # --- paths, locks and errors --------------------------------------------------

    def _path(self, record_id: str, operation: str) -> str | None:
        """The file of ``record_id``, or None (with a security warning) if it is unsafe."""
        if not isinstance(record_id, str) or RECORD_ID_PATTERN.fullmatch(record_id) is None:
            length = len(record_id) if isinstance(record_id, str) else -1
            security_logger.warning("file store refused to %s a malformed record id (%s of length %d)",
                                    operation, type(record_id).__name__, length)
            return None
        path = os.path.join(self.folder, FILE_PREFIX + record_id)
        # Defence in depth: a symlink planted in the folder must not lead elsewhere.
        if os.path.dirname(os.path.realpath(path)) != os.path.realpath(self.folder):
            security_logger.warning("file store refused to %s a session file that resolves outside %s",
                                    operation, self.folder)
            return None
        return path

    @contextlib.contextmanager
    def _locked(self, record_id: str) -> Iterator[None]:
        """Hold the exclusive lock of ``record_id``'s stripe (against threads and processes)."""
        stripe = int(record_id[:2], 16) % LOCK_STRIPES
        lock_path = os.path.join(self.folder, f"{LOCK_PREFIX}{stripe:02d}")
        # flock belongs to the open file description: threads sharing one descriptor
        # would all "hold" the lock at once, so every call opens its own (one cheap
        # open/close per save, and no descriptors kept per thread that never close).
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    @contextlib.contextmanager
    def _errors(self, operation: str) -> Iterator[None]:
        """Turn an OSError into a StoreError (the detail names the folder, never a record id)."""
        try:
            yield
        except OSError as exc:
            detail = f"{exc.strerror or type(exc).__name__} (folder {self.folder!r})"
            raise StoreError("file", operation, detail) from exc

    # --- reading and writing ------------------------------------------------------

    def _read_or_warn(self, path: str) -> _Stored | None:
        try:
            return _read(path)
        except _Corrupt:
            logger.warning("a session file in %s could not be decoded; starting an empty session", self.folder)
            return None

    def _write(self, path: str, payload: bytes) -> None:
        """Write ``payload`` to ``path`` atomically (mode 0600); no temporary file is left on failure."""
        fd, temp_path = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=self.folder)
        try:
            # No fsync: the rename makes every write all-or-nothing for readers and for a
            # crashed process; only a power cut can lose the last writes (a file it leaves
            # unreadable reads as an empty session). Syncing cost ~0.5 ms per save.
            with os.fdopen(fd, "wb") as temp:
                temp.write(payload)
            os.replace(temp_path, path)
        except BaseException:
            _unlink(temp_path)
            raise

    def _delete_if_expired(self, record_id: str, now: float) -> bool:
        path = self._path(record_id, "clear")
        if path is None or not _expired(path, now):
            return False
        with self._locked(record_id):
            # A save may have renewed it between the check and the lock.
            return _expired(path, now) and _unlink(path)

    def _remove_if_stale(self, name: str, now: float) -> None:
        path = os.path.join(self.folder, name)
        try:
            stale = os.lstat(path).st_mtime < now - STALE_TEMP_AGE
        except FileNotFoundError:
            return
        if stale:
            _unlink(path)


def _read(path: str) -> _Stored | None:
    """The content of ``path``, None if there is no file; :class:`_Corrupt` if it is malformed."""
    try:
        with open(path, "rb") as file:
            raw = file.read()
    except FileNotFoundError:
        return None
    try:
        content = json.loads(raw)
    except ValueError as exc:  # also UnicodeDecodeError
        raise _Corrupt("not JSON") from exc
    return _decode(content)


def _decode(content: Any) -> _Stored:
    if not isinstance(content, dict) or set(content) not in ({"m", "e", "v", "d"}, {"m", "e", "v", "d", "lt", "lx"}):
        raise _Corrupt("not a session object")
    meta, expires_at, version, data = content["m"], content["e"], content["v"], content["d"]
    if (not isinstance(meta, str) or not _is_number(expires_at)
            or isinstance(version, bool) or not isinstance(version, int) or not isinstance(data, dict)
            or not all(isinstance(value, str) for value in data.values())):
        raise _Corrupt("unexpected field types")
    lease = None
    if "lt" in content:
        if not isinstance(content["lt"], str) or not _is_number(content["lx"]):
            raise _Corrupt("unexpected lease types")
        lease = _Lease(content["lt"], float(content["lx"]))
    return _Stored(Record(data, meta, float(expires_at), version), lease)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _encode(record: Record, lease: _Lease | None) -> bytes:
    content: dict[str, Any] = {"m": record.meta, "e": record.expires_at, "v": record.version, "d": record.data}
    if lease is not None:
        content.update(lt=lease.token, lx=lease.deadline)
    return json.dumps(content, separators=(",", ":")).encode("ascii")


def _holds(stored: _Stored | None, token: str) -> bool:
    """Whether ``token`` holds the unexpired lease of ``stored``."""
    lease = stored.lease if stored is not None else None
    return lease is not None and lease.token == token and lease.deadline > time.time()


def _expired(path: str, now: float) -> bool:
    stored = _read(path)
    return stored is not None and stored.record.expires_at < now


def _unlink(path: str) -> bool:
    """Remove ``path``; False if it was already gone (any other error propagates)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True
