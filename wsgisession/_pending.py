"""What a middleware shares with its sessions, and what one save hands to the back end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import _lifecycle
from .events import Events
from .serializers import Serializer

if TYPE_CHECKING:
    from .backends import SessionBackend
    from .settings import Settings


@dataclass(frozen=True)
class SessionContext:
    """What every session of one middleware shares: built once, read-only."""

    settings: Settings
    backend: SessionBackend
    serializer: Serializer
    clock: Callable[[], float]
    events: Events


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
