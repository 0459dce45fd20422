"""``SESSION_MIGRATE_FROM``: move between engines without logging anyone out.

While the setting is set, :class:`MigratingBackend` sits in front of the new engine's back
end: a cookie the new store does not know is looked up in the engine being left (another
wsgisession engine, Django's ``django_session`` table, Flask-Session's Redis records or
Beaker's cookies).
A session found there starts the request with its data under a fresh key; the commit saves
it whole to the new store (the browser gets the new cookie), and the old record is deleted
once that save landed.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from .. import _lifecycle
from ..backends import Loaded, Rejected, SessionBackend
from ..backends.server_side import StoreBackend
from .sources import OldSessions as OldSessions  # public here too
from .sources import old_sessions

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..backends.contract import Pending
    from ..serializers import Serializer
    from ..settings import Settings

#: Marks a retired key as the old engine's (wsgisession keys never hold a colon).
OLD_KEY_PREFIX = "migrate-from:"

class MigratingBackend(SessionBackend):
    """The new engine's back end, falling back to the engine being left for cookies it does not know.

    Thread-safe as both back ends are. Two requests carrying the same old cookie at once
    each move the session; the browser keeps the last new cookie it is sent.
    """

    def __init__(self, new: SessionBackend, old: OldSessions) -> None:
        self.new = new
        self.old = old
        self.lifetime = new.lifetime
        #: Where ``wsgisession migrate`` put the sessions it moved ahead, keyed by the old cookie.
        self._copies = new if isinstance(new, StoreBackend) else None

    def load(self, cookie_value: str, now: float) -> Loaded | Rejected:
        loaded = self.new.load(cookie_value, now)
        if isinstance(loaded, Loaded) or loaded is Rejected.UNDECODABLE:
            return loaded
        found = self.old.load(cookie_value, now)
        if found is Rejected.MISSING and self._copies is not None and cookie_value.isascii():  # moved ahead?
            found = self._copies.load_key(OLD_KEY_PREFIX + cookie_value, now)
            if isinstance(found, Loaded):
                found.key = cookie_value
        if not isinstance(found, Loaded):
            # A cookie neither engine signed is counted as forged; one the old engine knows the shape of is a miss.
            return loaded if found is Rejected.BAD_SIGNATURE else found
        return Loaded(_lifecycle.new_session_key(), found.data, found.expiry, found.created_at, found.expires_at,
                      user_id=found.user_id, retired_key=OLD_KEY_PREFIX + found.key)

    def save(self, pending: Pending) -> str | None:
        old_key = _old_key(pending.retired_key)
        if old_key is None:
            return self.new.save(pending)
        cookie = self.new.save(dataclasses.replace(pending, retired_key=None))
        if cookie is not None:  # landed: only now may the old record (or its copy made ahead) go
            self._forget(old_key)
        return cookie

    def touch(self, pending: Pending) -> str | None:
        return self.new.touch(pending)

    def delete(self, key: str) -> None:
        old_key = _old_key(key)
        if old_key is None:
            self.new.delete(key)
        else:  # flush() of a session just moved: it must not live on in the old store
            self._forget(old_key)

    def release(self, key: str, token: str) -> None:
        self.new.release(key, token)

    def user_sessions(self, user_id: str) -> list[str]:
        return self.new.user_sessions(user_id)

    def delete_user_sessions(self, user_id: str, except_key: str | None = None) -> int:
        return self.new.delete_user_sessions(user_id, except_key)

    def clear_expired(self, now: float) -> int | None:
        return self.new.clear_expired(now)

    def _forget(self, old_key: str) -> None:
        """Delete the old record and any copy `wsgisession migrate` made of it in the new store."""
        self.old.delete(old_key)
        if self._copies is not None:
            self._copies.delete(OLD_KEY_PREFIX + old_key)  # a Django or Flask-Session session's copy
            self._copies.delete(old_key)  # a wsgisession session's copy keeps its key

    @property
    def store(self) -> object:
        """The new engine's store, if it has one."""
        return getattr(self.new, "store", None)


def _old_key(key: str | None) -> str | None:
    if key is None or not key.startswith(OLD_KEY_PREFIX):
        return None
    return key[len(OLD_KEY_PREFIX):]


def migrating_backend(new: SessionBackend, settings: Settings, serializer: Serializer, *,
                      build_backend: Callable[[Settings], SessionBackend],
                      build_serializer: Callable[[Settings], Serializer]) -> MigratingBackend:
    """``new`` behind a :class:`MigratingBackend` reading ``settings.migrate_from``.

    ``build_backend`` and ``build_serializer`` build the old engine's back end and serializer
    (``wsgisession.engines`` passes its own, so this package needs no import of it).
    """
    assert settings.migrate_from is not None  # the caller checked
    return MigratingBackend(new, old_sessions(settings.migrate_from, settings, serializer,
                                              build_backend, build_serializer))
