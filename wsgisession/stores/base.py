"""The store contract: what an engine must do to keep sessions.

A store keeps *records* under opaque record ids (never the session key itself:
the backend hands stores a hash of it). A record is a mapping of session keys to
serialized values (strings), an opaque metadata string, and an expiry time.

Saves are per-key: a :class:`Change` names the keys set and the keys deleted, and
the store applies it atomically onto the record *as it is in the store at that
moment*, so concurrent requests that change different keys keep each other's
writes. Implement :class:`Store` (three methods) to plug in a store of your own;
the optional capabilities below are separate small protocols.

Error rules (for every method): a missing record is not an error. Raise
:class:`wsgisession.errors.StoreError` only for system failures (server down,
disk full, permission denied), ``from`` the original exception. ``load`` raises
:class:`CorruptRecord` for a record that exists but cannot be read; the session
then starts empty and the event is logged and counted.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

#: What a record id looks like: stores may rely on it (and the file store checks it).
RECORD_ID_PATTERN = re.compile(r"[0-9a-f]{64}")


class CorruptRecord(Exception):
    """``load`` found a record it cannot read (not what the store writes); never a system failure."""


@dataclass(slots=True)  # read-only by convention: built per request, and frozen ones build 3x slower
class Record:
    """One session as a store holds it."""

    #: Session key -> serialized value.
    data: dict[str, str]
    #: Bookkeeping (expiry setting, creation time), serialized by the backend.
    meta: str
    #: Unix time after which the record is dead. Expiry is enforced by the
    #: backend on load; stores use it for TTLs and for ``clear_expired``.
    expires_at: float
    #: Bumped on every save by stores that keep versions (0 for those that don't).
    version: int = 0


@dataclass(slots=True)  # read-only by convention: built per request, and frozen ones build 3x slower
class Change:
    """What one request changed in a record, applied atomically by :meth:`Store.save`.

    Built positionally by ``StoreBackend.save``: keep the fields in this order.
    """

    #: Keys written, with their new serialized values.
    set: Mapping[str, str]
    #: Keys removed (ignored when ``replace`` is true).
    deleted: frozenset[str] = frozenset()
    #: True: the record's data becomes exactly ``set`` (new session, ``clear()``).
    replace: bool = False
    #: The new metadata string and expiry time (always written).
    meta: str = ""
    expires_at: float = 0.0
    #: True: create the record if it does not exist. False: apply only to an
    #: existing record, so a session deleted meanwhile (logout) stays deleted.
    create: bool = False
    #: The data and version the request loaded (``None`` when nothing was). A store
    #: that keeps versions may write ``apply_to(base)`` in one statement guarded by
    #: ``version``, and merge onto the current record when the version moved on.
    base: Mapping[str, str] | None = None
    version: int | None = None
    #: Set when the request holds the record's lock (``SESSION_LOCKING``): the store
    #: applies the change only while this token still holds the lock, and raises
    #: :class:`~wsgisession.errors.LockLostError` otherwise (fencing).
    lock_token: str | None = None
    #: The user the session now belongs to (``session.set_user``), when this save sets or
    #: changes it; None leaves it as it is. Stores that index users (:class:`IndexesUsers`)
    #: add the record to that user's index.
    user_id: str | None = None

    def apply_to(self, data: Mapping[str, str]) -> dict[str, str]:
        """Return ``data`` with this change applied (for stores that merge in Python)."""
        if self.replace:
            return dict(self.set)
        if not self.deleted:
            return {**data, **self.set}
        merged = {key: value for key, value in data.items() if key not in self.deleted}
        merged.update(self.set)
        return merged


@runtime_checkable
class Store(Protocol):
    """Keeps session records. Implementations must be thread-safe."""

    def load(self, record_id: str) -> Record | None:
        """Return the record, or ``None`` if there is none (expired ones may be returned)."""
        ...

    def save(self, record_id: str, change: Change) -> bool:
        """Apply ``change`` atomically; return False if the record is gone and ``create`` is false."""
        ...

    def delete(self, record_id: str) -> None:
        """Remove the record; deleting a missing record is not an error."""
        ...


@runtime_checkable
class Retires(Protocol):
    """A store whose delete tells whether it found the record, so ``cycle_key`` cannot undo a logout.

    A key rotation retires the old record first and writes the new one only if this call
    deleted it: a logout that came first leaves nothing to retire (the rotation is dropped),
    one that comes after finds nothing to delete. A store without it is checked with a
    ``load`` before the write, which a logout landing in between still slips past.
    """

    def retire(self, record_id: str) -> bool:
        """Delete the record; True if this call deleted it, False if it was already gone."""
        ...


@runtime_checkable
class Touches(Protocol):
    """A store that can renew a record's expiry without rewriting its data."""

    def touch(self, record_id: str, expires_at: float) -> bool:
        """Move the record's expiry to ``expires_at``; False if the record is gone."""
        ...


@runtime_checkable
class Locks(Protocol):
    """A store that can lock one record for the length of a request (``SESSION_LOCKING``).

    A lock is a lease: it ends by itself ``lease`` seconds after it was taken, so a
    crashed worker never leaves a session locked for longer than that.
    """

    def acquire(self, record_id: str, lease: float, wait: float) -> str | None:
        """Lock the record and return the lock's token, or None if there is no such record.

        Wait up to ``wait`` seconds for another holder; then raise
        :class:`~wsgisession.errors.LockTimeoutError`.
        """
        ...

    def release(self, record_id: str, token: str) -> None:
        """Release the lock if ``token`` still holds it; otherwise do nothing."""
        ...


class Tombstone(enum.Enum):
    """What a cache holds for a record deleted moments ago (see :class:`CachesRecords`)."""

    GONE = "gone"


@runtime_checkable
class CachesRecords(Protocol):
    """A store that can be the cache in front of a database (the ``cached_db`` engine).

    Cached records carry the database's version, so a slow reader can never replace a
    newer copy with an older one, and a deleted record leaves a tombstone for a while,
    so a reader that fetched it just before the delete cannot bring it back.
    """

    def load_cached(self, record_id: str) -> Record | Literal[Tombstone.GONE] | None:
        """The cached copy, None on a miss, or ``Tombstone.GONE`` for a record deleted recently."""
        ...

    def store_record(self, record_id: str, record: Record) -> None:
        """Cache ``record`` whole, unless the cache holds a tombstone or a version >= ``record.version``."""
        ...

    def bury(self, record_id: str, ttl: float) -> None:
        """Replace the cached copy with a tombstone that lasts ``ttl`` seconds."""
        ...


@runtime_checkable
class IndexesUsers(Protocol):
    """A store that keeps an index of each user's sessions ("log out everywhere").

    The index is kept from ``Change.user_id``; reading or deleting a user's sessions
    uses the index only, never a scan of the whole store. Entries of sessions that
    expired or were deleted may linger in the index: readers skip them.
    """

    def user_sessions(self, user_id: str) -> list[str]:
        """The record ids of the user's live sessions."""
        ...

    def delete_user_sessions(self, user_id: str, except_record_id: str | None = None) -> int:
        """Delete every session of the user but ``except_record_id``; return how many were deleted."""
        ...


@runtime_checkable
class PurgesExpired(Protocol):
    """A store that keeps expired records until told to delete them."""

    def clear_expired(self, now: float) -> int:
        """Delete every record whose ``expires_at`` is before ``now``; return how many."""
        ...


@runtime_checkable
class ExpiresByItself(Protocol):
    """A store whose server drops each record at its ``expires_at`` (a TTL): there is nothing to purge.

    A store that neither purges (:class:`PurgesExpired`) nor declares this makes
    ``wsgisession clearsessions`` fail, so a cron job notices the records piling up.
    """

    #: True: every record is written with a TTL ending at its ``expires_at``.
    expires_by_itself: bool
