"""The back end of every server-side engine: the cookie holds a key, a store holds the data."""

from __future__ import annotations

import logging

from .. import _lifecycle
from ..errors import UnsupportedOperation
from ..signing import SessionIdSigner
from ..stores.base import (
    Change,
    CorruptRecord,
    IndexesUsers,
    Locks,
    PurgesExpired,
    Record,
    Retires,
    Store,
    Touches,
)
from ._memo import remember_accepted
from .contract import Loaded, Pending, RefusedCookie, Rejected, SessionBackend

logger = logging.getLogger("wsgisession")

#: How many verified cookies each back end remembers (about 0.5 KiB each).
IDENTIFIED_COOKIES = 4096


class StoreBackend(SessionBackend):
    """Keeps sessions in ``store`` under a hash of their key; the cookie holds the key, signed.

    A cookie whose signature does not check out is refused without a store call.
    A save for a session deleted meanwhile (logout in another tab, ``cycle_key``) is
    dropped with a warning instead of bringing the session back; so is a ``cycle_key``
    whose old record is gone. With ``lock_timeout`` set (``SESSION_LOCKING``), ``load``
    locks the session until :meth:`release`.
    """

    def __init__(self, store: Store, signer: SessionIdSigner, lock_timeout: float | None = None) -> None:
        if lock_timeout is not None and not isinstance(store, Locks):
            raise TypeError(f"{type(store).__name__} cannot lock sessions")
        self.store = store
        self.signer = signer
        self.lock_timeout = lock_timeout
        self._identify = remember_accepted(self._check_cookie, IDENTIFIED_COOKIES)

    def load(self, cookie_value: str, now: float) -> Loaded | Rejected:
        try:
            key, current, record_id = self._identify(cookie_value)
        except RefusedCookie as refused:
            return refused.reason
        token = None if self.lock_timeout is None else self._lock(record_id, self.lock_timeout)
        try:
            loaded = self._loaded(key, self.store.load(record_id), now, token)
            if current and isinstance(loaded, Loaded):
                loaded.reusable_cookie = cookie_value  # signed by SECRET_KEY: no need to sign it again
        except CorruptRecord:
            loaded = Rejected.UNDECODABLE
        if not isinstance(loaded, Loaded) and token is not None:
            self.release(key, token)
        return loaded

    def load_key(self, key: str, now: float) -> Loaded | Rejected:
        """The live session stored under ``key``, which no cookie carries (``SESSION_MIGRATE_FROM``'s copies)."""
        try:
            return self._loaded(key, self.store.load(_lifecycle.record_id(key)), now, None)
        except CorruptRecord:
            return Rejected.UNDECODABLE

    def save(self, pending: Pending) -> str | None:
        is_new = pending.is_new
        user_id = pending.user_id if pending.user_changed or is_new else None
        # Positional, in Change's field order (set, deleted, replace, meta, expires_at, create,
        # base, version, lock_token, user_id): keyword arguments cost as much again on CPython 3.11.
        change = Change(pending.changed, pending.deleted, is_new, pending.meta(), pending.expires_at, is_new,
                        pending.loaded, pending.version, pending.lock_token, user_id)
        if pending.retired_key is None:  # the hot path: no more steps than before rotations were checked
            if self.store.save(_lifecycle.record_id(pending.key), change):
                return pending.reusable_cookie or self.signer.sign(pending.key)
        elif self._rotate(_lifecycle.record_id(pending.retired_key), _lifecycle.record_id(pending.key), change):
            return pending.reusable_cookie or self.signer.sign(pending.key)
        logger.warning("session was deleted by another request (logout or a new key) before this"
                       " request saved it; its changes were dropped")
        return None

    def touch(self, pending: Pending) -> str | None:
        record_id = _lifecycle.record_id(pending.key)
        if isinstance(self.store, Touches):
            alive = self.store.touch(record_id, pending.expires_at)
        else:
            change = Change(set={}, meta=pending.meta(),
                            expires_at=pending.expires_at)
            alive = self.store.save(record_id, change)
        if not alive:
            return None
        return pending.reusable_cookie or self.signer.sign(pending.key)

    def delete(self, key: str) -> None:
        self.store.delete(_lifecycle.record_id(key))

    def release(self, key: str, token: str) -> None:
        if isinstance(self.store, Locks):
            self.store.release(_lifecycle.record_id(key), token)

    def user_sessions(self, user_id: str) -> list[str]:
        if not isinstance(self.store, IndexesUsers):
            return super().user_sessions(user_id)
        return self.store.user_sessions(user_id)

    def delete_user_sessions(self, user_id: str, except_key: str | None = None) -> int:
        if not isinstance(self.store, IndexesUsers):
            return super().delete_user_sessions(user_id, except_key)
        keep = _lifecycle.record_id(except_key) if except_key is not None else None
        return self.store.delete_user_sessions(user_id, keep)

    def clear_expired(self, now: float) -> int | None:
        """The count deleted; None if the store expires records by itself; UnsupportedOperation if neither."""
        name = type(self.store).__qualname__
        if isinstance(self.store, PurgesExpired):
            try:
                deleted = self.store.clear_expired(now)
            except NotImplementedError:  # Django's stub: the store cannot purge after all
                raise UnsupportedOperation(f"the store {name} cannot delete expired sessions (its clear_expired(now)"
                                           " raised NotImplementedError): they pile up") from None
            if isinstance(deleted, int):
                return deleted
            raise UnsupportedOperation(f"the store {name}'s clear_expired(now) returned {type(deleted).__name__},"
                                       " not the count of sessions it deleted")
        if getattr(self.store, "expires_by_itself", False) is True:
            return None
        raise UnsupportedOperation(
            f"the store {name} cannot delete expired sessions (it has no"
            " clear_expired(now)) and does not expire them by itself (no expires_by_itself = True):"
            " they pile up until it gets one of the two")

    def _check_cookie(self, cookie_value: str) -> tuple[str, bool, str]:
        """The key a cookie names, whether SECRET_KEY itself signed it, and the key's record id."""
        unsigned = self.signer.unsign(cookie_value)
        if unsigned is None:
            raise RefusedCookie(Rejected.BAD_SIGNATURE)
        key, current = unsigned
        if not _lifecycle.looks_like_key(key):
            raise RefusedCookie(Rejected.MISSING)
        return key, current, _lifecycle.record_id(key)

    def _rotate(self, old_record_id: str, record_id: str, change: Change) -> bool:
        """Move the session to ``record_id`` (``cycle_key``), only if its old record is still there.

        Retiring the old record first is the check and the claim at once (see :class:`Retires`),
        so a logout racing the rotation is never undone.
        """
        store = self.store
        if isinstance(store, Retires):
            return store.retire(old_record_id) and store.save(record_id, change)
        if store.load(old_record_id) is None:  # a store of the application's own: check, then write
            return False
        saved = store.save(record_id, change)
        store.delete(old_record_id)
        return saved

    def _lock(self, record_id: str, timeout: float) -> str | None:
        if not isinstance(self.store, Locks):  # refused by __init__; this tells the type checker
            return None
        return self.store.acquire(record_id, timeout, timeout)

    def _loaded(self, key: str, record: Record | None, now: float, token: str | None) -> Loaded | Rejected:
        if record is None or record.expires_at <= now:
            return Rejected.MISSING
        try:
            meta = _lifecycle.decode_meta(record.meta)
        except ValueError:
            return Rejected.UNDECODABLE
        return Loaded(key, record.data, meta.expiry, meta.created_at, record.expires_at, record.version, token,
                      meta.user_id)

