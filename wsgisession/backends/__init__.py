"""Session back ends: where a session's data lives between requests.

:class:`SessionBackend` is the interface the :class:`~wsgisession.session.Session`
talks to. Two implementations ship: :class:`~.server_side.StoreBackend` keeps data
in a :class:`~wsgisession.stores.base.Store` and only a key in the cookie;
:class:`~.signed_cookies.SignedCookieBackend` keeps the data itself in a signed cookie.
"""

from __future__ import annotations

import enum
import functools
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from .._lifecycle import Expiry
from ..errors import UnsupportedOperation

if TYPE_CHECKING:
    from .._pending import Pending


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


_Read = TypeVar("_Read")


def remember_accepted(read: Callable[[str], _Read], size: int) -> Callable[[str], _Read]:
    """``read`` (a cookie value's check), memoized for the last ``size`` values it accepted.

    A browser sends the same cookie until it is given another, so each value is checked
    once per worker, not per request. A refusal is raised (:class:`RefusedCookie`), and
    ``lru_cache`` keeps no exceptions: a forged value is checked, refused and counted every
    time, and cannot crowd out the genuine ones. A hit matches the whole value by its
    (randomized) hash, so it tells a guesser nothing about a signature.
    """
    return functools.lru_cache(maxsize=size)(read)


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
