"""The back-end contract: what the session asks of a back end, and what passes between them.

:class:`SessionBackend` is the interface; :class:`Loaded` is what a load gives back,
:class:`Rejected` why it gave nothing, and :class:`Pending` what one save writes.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from .. import _lifecycle
from .._lifecycle import Expiry
from ..errors import UnsupportedOperation


@dataclass(slots=True)  # read-only by convention: built per request, and frozen ones build 3x slower
class Loaded:
    """A session read back from its back end."""

    #: The session key (for signed cookies, the id carried inside the cookie).
    key: str
    #: Session key -> serialized value.
    data: dict[str, str]
    expiry: Expiry
    created_at: float
    #: When the stored session expires (Unix time): touches are counted from it.
    expires_at: float
    #: The store's version of the record, if it keeps one.
    version: int | None = None
    #: The lock's token, when the back end locked the session for this request.
    lock_token: str | None = None
    #: The user the session belongs to (``session.set_user``), if any.
    user_id: str | None = None
    #: The cookie value, when a save under the same key may send it again as it is.
    reusable_cookie: str | None = None
    #: Set for a session brought over from the engine being left (``SESSION_MIGRATE_FROM``): ``key`` is
    #: new, so the session is saved whole under it, and the back end deletes this key once that save landed.
    retired_key: str | None = None


class Rejected(enum.Enum):
    """Why a cookie gave no session (the session logs and counts the last two)."""

    #: Unknown, expired or malformed: an everyday miss.
    MISSING = "missing"
    #: The cookie's signature (or encryption tag) does not check out: forged or tampered.
    BAD_SIGNATURE = "bad signature"
    #: Authentic, but what it points to cannot be decoded: corrupted data.
    UNDECODABLE = "undecodable"


class RefusedCookie(Exception):
    """Raised within a back end: the cookie gives no session, for ``reason``."""

    def __init__(self, reason: Rejected) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(slots=True)  # read-only by convention: built per request, and frozen ones build 3x slower
class Pending:
    """What one save writes, handed to :meth:`SessionBackend.save`.

    Built positionally by ``_commit.pending_for``: keep the fields in this order.
    """

    #: The key to save under (a fresh one for a new session).
    key: str
    #: True: the key is not in the store yet (new session, or ``cycle_key``).
    is_new: bool
    #: Serialized values of the keys to write (every key when ``is_new``).
    changed: dict[str, str]
    #: Keys to remove.
    deleted: frozenset[str]
    expiry: _lifecycle.Expiry
    created_at: float
    expires_at: float
    #: The cookie's Max-Age; None for a cookie that ends with the browser session.
    cookie_max_age: int | None
    #: What the request loaded (serialized) and the store's version of it, if anything.
    loaded: dict[str, str] | None
    version: int | None
    #: A key to delete once this save landed (the key ``cycle_key`` replaced).
    retired_key: str | None
    #: The token of the lock held on ``key`` (``SESSION_LOCKING``), if any.
    lock_token: str | None
    #: The user the session belongs to, and whether this save sets it (for the per-user index).
    user_id: str | None
    user_changed: bool
    #: The cookie value the browser holds for ``key``, if it can be sent again unchanged.
    reusable_cookie: str | None
    #: Every value, serialized: for back ends that write the whole session.
    all_data: Callable[[], dict[str, str]]

    def meta(self) -> str:
        """The bookkeeping stored beside the data, serialized."""
        return _lifecycle.encode_meta(self.expiry, self.created_at, self.user_id)


class SessionBackend(ABC):
    """Loads and saves sessions for the middleware. Implementations are thread-safe."""

    #: Where a session cannot be revoked (a copied signed cookie) and ``SESSION_ABSOLUTE_AGE``
    #: is not set: the seconds it lives at most after it began (see ``_lifecycle.lifetime_deadline``).
    lifetime: int | None = None

    @abstractmethod
    def load(self, cookie_value: str, now: float) -> Loaded | Rejected:
        """Return the live session the cookie names, or why there is none.

        Raise :class:`~wsgisession.errors.StoreError` only when the store fails.
        """

    @abstractmethod
    def save(self, pending: Pending) -> str | None:
        """Write ``pending``; return the cookie value to send, or None if the save was dropped."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Forget the session ``key`` (``flush()``); a no-op where the data lives in the cookie."""

    def touch(self, pending: Pending) -> str | None:
        """Renew the expiry of an unchanged session; return the cookie value to send, or None.

        By default a save: right where the expiry travels inside the cookie.
        """
        return self.save(pending)

    def release(self, key: str, token: str) -> None:
        """Release the lock ``load`` took for this request (``SESSION_LOCKING``).

        Back ends that never lock have nothing to release.
        """
        return None

    def user_sessions(self, user_id: str) -> list[str]:
        """Ids of the user's live sessions; UnsupportedOperation where no index is kept."""
        raise UnsupportedOperation(f"{type(self).__name__} keeps no index of users' sessions")

    def delete_user_sessions(self, user_id: str, except_key: str | None = None) -> int:
        """End the user's sessions but ``except_key``; UnsupportedOperation where no index is kept."""
        raise UnsupportedOperation(f"{type(self).__name__} keeps no index of users' sessions")

    def clear_expired(self, now: float) -> int | None:
        """Delete expired sessions; return how many, or None where the store expires them itself."""
        return None
