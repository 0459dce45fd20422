"""The back end of every server-side engine: the cookie holds a key, a store holds the data."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from .. import _lifecycle
from ..errors import StoreError
from ..session import Pending
from ..stores.base import Change, Locks, PurgesExpired, Record, Store, Touches
from . import Loaded, SessionBackend

logger = logging.getLogger("wsgisession")

_T = TypeVar("_T")


class StoreBackend(SessionBackend):
    """Keeps sessions in ``store`` under a hash of their key.

    A cookie that does not look like a key we issue is refused without a store call.
    A save for a session deleted meanwhile (logout in another tab, ``cycle_key``) is
    dropped with a warning instead of bringing the session back. With ``lock_timeout``
    set (``SESSION_LOCKING``), ``load`` locks the session until :meth:`release`.
    """

    def __init__(self, store: Store, lock_timeout: float | None = None) -> None:
        if lock_timeout is not None and not isinstance(store, Locks):
            raise TypeError(f"{type(store).__name__} cannot lock sessions")
        self.store = store
        self.lock_timeout = lock_timeout

    def load(self, cookie_value: str, now: float) -> Loaded | None:
        if not _lifecycle.looks_like_key(cookie_value):
            return None
        record_id = _lifecycle.record_id(cookie_value)
        token = self._lock(record_id)
        record = self._call("load", self.store.load, record_id)
        loaded = self._loaded(cookie_value, record, now, token)
        if loaded is None and token is not None:
            self.release(cookie_value, token)
        return loaded

    def save(self, pending: Pending) -> str | None:
        change = Change(
            set=pending.changed, deleted=pending.deleted, replace=pending.is_new,
            meta=_lifecycle.encode_meta(pending.expiry, pending.created_at), expires_at=pending.expires_at,
            create=pending.is_new, base=pending.loaded, version=pending.version, lock_token=pending.lock_token,
        )
        if not self._call("save", self.store.save, _lifecycle.record_id(pending.key), change):
            logger.warning("session was deleted by another request (logout or a new key) before this"
                           " request saved it; its changes were dropped")
            return None
        if pending.retired_key is not None:
            self.delete(pending.retired_key)
        return pending.key

    def touch(self, pending: Pending) -> str | None:
        record_id = _lifecycle.record_id(pending.key)
        if isinstance(self.store, Touches):
            alive = self._call("touch", self.store.touch, record_id, pending.expires_at)
        else:
            change = Change(set={}, meta=_lifecycle.encode_meta(pending.expiry, pending.created_at),
                            expires_at=pending.expires_at)
            alive = self._call("touch", self.store.save, record_id, change)
        return pending.key if alive else None

    def delete(self, key: str) -> None:
        self._call("delete", self.store.delete, _lifecycle.record_id(key))

    def release(self, key: str, token: str) -> None:
        if isinstance(self.store, Locks):
            self._call("release the lock", self.store.release, _lifecycle.record_id(key), token)

    def clear_expired(self, now: float) -> int | None:
        if isinstance(self.store, PurgesExpired):
            return self.store.clear_expired(now)
        return None

    def _lock(self, record_id: str) -> str | None:
        if self.lock_timeout is None or not isinstance(self.store, Locks):
            return None
        return self._call("lock", self.store.acquire, record_id, self.lock_timeout, self.lock_timeout)

    def _loaded(self, key: str, record: Record | None, now: float, token: str | None) -> Loaded | None:
        if record is None or record.expires_at <= now:
            return None
        try:
            expiry, created_at = _lifecycle.decode_meta(record.meta)
        except ValueError:
            logger.warning("stored session metadata could not be decoded; starting an empty session")
            return None
        return Loaded(key, record.data, expiry, created_at, record.expires_at, record.version, token)

    def _call(self, operation: str, method: Callable[..., _T], *args: object) -> _T:
        try:
            return method(*args)
        except StoreError as exc:
            logger.error("%s", exc)
            raise
