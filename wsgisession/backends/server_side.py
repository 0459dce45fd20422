"""The back end of every server-side engine: the cookie holds a key, a store holds the data."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from .. import _lifecycle
from ..errors import StoreError
from ..session import Pending
from ..stores.base import Change, PurgesExpired, Store
from . import Loaded, SessionBackend

logger = logging.getLogger("wsgisession")

_T = TypeVar("_T")


class StoreBackend(SessionBackend):
    """Keeps sessions in ``store`` under a hash of their key.

    A cookie that does not look like a key we issue is refused without a store call.
    A save for a session deleted meanwhile (logout in another tab, ``cycle_key``) is
    dropped with a warning instead of bringing the session back.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def load(self, cookie_value: str, now: float) -> Loaded | None:
        if not _lifecycle.looks_like_key(cookie_value):
            return None
        record = self._call("load", self.store.load, _lifecycle.record_id(cookie_value))
        if record is None or record.expires_at <= now:
            return None
        try:
            expiry, created_at = _lifecycle.decode_meta(record.meta)
        except ValueError:
            logger.warning("stored session metadata could not be decoded; starting an empty session")
            return None
        return Loaded(cookie_value, record.data, expiry, created_at, record.version)

    def save(self, pending: Pending) -> str | None:
        change = Change(
            set=pending.changed, deleted=pending.deleted, replace=pending.is_new,
            meta=_lifecycle.encode_meta(pending.expiry, pending.created_at), expires_at=pending.expires_at,
            create=pending.is_new, base=pending.loaded, version=pending.version,
        )
        if not self._call("save", self.store.save, _lifecycle.record_id(pending.key), change):
            logger.warning("session was deleted by another request (logout or a new key) before this"
                           " request saved it; its changes were dropped")
            return None
        if pending.retired_key is not None:
            self.delete(pending.retired_key)
        return pending.key

    def delete(self, key: str) -> None:
        self._call("delete", self.store.delete, _lifecycle.record_id(key))

    def clear_expired(self, now: float) -> int | None:
        if isinstance(self.store, PurgesExpired):
            return self.store.clear_expired(now)
        return None

    def _call(self, operation: str, method: Callable[..., _T], *args: object) -> _T:
        try:
            return method(*args)
        except StoreError as exc:
            logger.error("%s", exc)
            raise
