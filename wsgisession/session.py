"""The session object an application touches: Django's ``request.session``, for WSGI."""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

from . import _changes, _lifecycle, cookies
from ._context import SessionContext
from .backends.contract import Loaded, Pending, Rejected
from .errors import StoreError


class Session(MutableMapping[str, Any]):
    """A dict-like session, loaded from its back end on first use.

    One instance serves one request; it is not shared between threads. Values must
    be serializable by ``SESSION_SERIALIZER`` (JSON by default) when the response
    starts; a value that is not raises :class:`~wsgisession.errors.SessionDataError`.
    """

    __slots__ = (
        "_cookie_header",
        "_created_at",
        "_ctx",
        "_data",
        "_degraded",
        "_dirty",
        "_expires_at",
        "_expiry",
        "_had_cookie",
        "_key",
        "_key_is_new",
        "_lock",
        "_retired_key",
        "_reusable_cookie",
        "_saved_cookie",
        "_snapshot",
        "_user_changed",
        "_user_id",
        "_version",
        "accessed",
        "modified",
    )

    # Set on first use by _load (or _start_empty): the data and what the store had.
    _data: dict[str, Any] | None
    _snapshot: dict[str, str]
    _dirty: set[str]
    _key: str | None
    _key_is_new: bool
    _retired_key: str | None
    #: The browser's cookie value for ``_key`` while it can be sent again as it is.
    _reusable_cookie: str | None
    _expiry: _lifecycle.Expiry
    _expires_at: float
    _lock: tuple[str, str] | None
    _created_at: float
    _version: int | None
    _had_cookie: bool
    _user_id: str | None
    _user_changed: bool
    #: The store failed at load and SESSION_STORE_FAILURE is "anonymous": save nothing.
    _degraded: bool
    #: The Set-Cookie header of a ``save()`` made during the request, for the commit point to send (set on load).
    _saved_cookie: tuple[str, str] | None

    #: Django's names for the test cookie (:meth:`set_test_cookie`).
    TEST_COOKIE_NAME = "testcookie"
    TEST_COOKIE_VALUE = "worked"

    def __init__(self, context: SessionContext, cookie_header: str | None) -> None:
        self._ctx = context
        self._cookie_header = cookie_header
        self._data = None
        #: True once the application read or wrote the session (the response then varies on Cookie).
        self.accessed = False
        #: True once the data changed; set it yourself after changing a value in place, as in Django.
        self.modified = False

    # --- loading ---------------------------------------------------------------------

    def _load(self) -> dict[str, Any]:
        self.accessed = True
        if self._data is not None:
            return self._data
        now = self._ctx.clock()
        settings = self._ctx.settings
        values = cookies.read_session_cookies(self._cookie_header, settings.cookie_name)
        if not values and settings.migrate_from is not None:  # the cookie of the engine being left
            values = cookies.read_session_cookies(self._cookie_header, settings.migrate_from.cookie_name)
        self._lock, self._degraded = None, False
        if len(values) == 1:
            self._had_cookie = True
            loaded = self._fetch(values[0], now) if values[0] else Rejected.MISSING
        else:
            loaded = self._fetch_first(values, now) if values else Rejected.MISSING
            # Of several values only one that loaded (so ours) may be deleted: not for another one being bad.
            self._had_cookie = isinstance(loaded, Loaded)
        if isinstance(loaded, Loaded):
            if loaded.lock_token:
                self._lock = (loaded.key, loaded.lock_token)
            absolute_age = settings.absolute_age
            if absolute_age is None or loaded.created_at + absolute_age > now:  # else: too old, start afresh
                data = self._decode(loaded.data)
                if data is not None:
                    self._data, self._snapshot = data, loaded.data
                    self._key, self._expiry, self._created_at = loaded.key, loaded.expiry, loaded.created_at
                    self._expires_at, self._version = loaded.expires_at, loaded.version
                    self._user_id, self._user_changed = loaded.user_id, False
                    self._dirty = set()
                    self._key_is_new, self._retired_key = False, None
                    self._reusable_cookie, self._saved_cookie = loaded.reusable_cookie, None
                    if loaded.retired_key is not None:  # moved from SESSION_MIGRATE_FROM: save it, under its new key
                        self._key_is_new, self._retired_key, self.modified = True, loaded.retired_key, True
                    return data
        self._start_empty(now)
        return self._data  # type: ignore[return-value]  # set by _start_empty

    def _fetch_first(self, values: tuple[str, ...], now: float) -> Loaded | Rejected:
        """Several cookies of the session's name: the first value that loads (logged once).

        Another site of the domain can add cookies of this name that the browser sends
        before ours ("cookie tossing"): reading only the first would lose the session and,
        as its cookie is bad, delete the genuine one.
        """
        loaded: Loaded | Rejected = Rejected.MISSING
        used = 0
        for number, value in enumerate(values, 1):
            if value:
                loaded = self._fetch(value, now)
                if isinstance(loaded, Loaded):
                    used = number
                    break
                if self._degraded:
                    break
        self._ctx.events.several_cookies(len(values), used)
        return loaded

    def _fetch(self, value: str, now: float) -> Loaded | Rejected:
        """Load through the back end; log and count what went wrong; apply SESSION_STORE_FAILURE."""
        events = self._ctx.events
        try:
            loaded = self._ctx.backend.load(value, now)
        except StoreError as exc:
            events.store_failure(exc)
            if self._ctx.settings.store_failure == "raise":
                raise
            self._degraded = True
            return Rejected.MISSING
        if loaded is Rejected.BAD_SIGNATURE:
            events.bad_signature("session cookie")
        elif loaded is Rejected.UNDECODABLE:
            events.undecodable("stored session")
        return loaded

    def _decode(self, raw: dict[str, str]) -> dict[str, Any] | None:
        loads = self._ctx.serializer.loads
        data = {}
        try:
            for key, text in raw.items():  # a loop, not a comprehension: no function built per call
                data[key] = loads(text)
        except (ValueError, TypeError):
            self._ctx.events.undecodable("stored session data")
            return None
        return data

    def _start_empty(self, now: float) -> None:
        self._data, self._snapshot, self._dirty = {}, {}, set()
        self._key, self._key_is_new, self._retired_key, self._reusable_cookie = None, False, None, None
        self._expiry, self._created_at, self._version, self._expires_at = None, now, None, 0.0
        self._user_id, self._user_changed = None, False
        self._saved_cookie = None

    # --- the mapping -----------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._load()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"session keys are strings, not {type(key).__name__}")
        self._load()[key] = value
        self._dirty.add(key)
        self.modified = True

    def __delitem__(self, key: str) -> None:
        del self._load()[key]
        self._dirty.discard(key)
        self.modified = True

    def __contains__(self, key: object) -> bool:
        return key in self._load()

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._load()))

    def __len__(self) -> int:
        return len(self._load())

    def __repr__(self) -> str:
        state = "not loaded" if self._data is None else f"{len(self._data)} keys"
        return f"<Session {state}>"

    def get(self, key: str, default: Any = None) -> Any:
        return self._load().get(key, default)

    def has_key(self, key: str) -> bool:
        """Django's spelling of ``key in session``."""
        return key in self._load()

    _MISSING: Any = object()

    def pop(self, key: str, default: Any = _MISSING) -> Any:
        data = self._load()
        if key in data:
            self._dirty.discard(key)
            self.modified = True
            return data.pop(key)
        if default is self._MISSING:
            raise KeyError(key)
        return default

    def setdefault(self, key: str, default: Any = None) -> Any:
        data = self._load()
        if key not in data:
            self[key] = default
        return data[key]

    # --- Django's session API --------------------------------------------------------

    @property
    def session_key(self) -> str | None:
        """The key the browser holds, or None for a session never saved."""
        self._load()
        return self._key

    @property
    def created_at(self) -> float:
        """When the session began, in seconds since the epoch; ``cycle_key`` keeps it, ``flush`` resets it."""
        self._load()
        return self._created_at

    def is_empty(self) -> bool:
        """True when the session has neither data nor a key."""
        data = self._load()
        return self._key is None and not data

    def clear(self) -> None:
        """Remove every value; the key stays (use :meth:`flush` to log out)."""
        self._load().clear()
        self._dirty.clear()
        self.modified = True

    def flush(self) -> None:
        """Delete the session from the store now and the cookie from the browser.

        Setting values afterwards starts a new session under a new key.
        """
        self._load()
        for key in (self._key, self._retired_key):
            if key is not None and not (key == self._key and self._key_is_new):
                try:
                    self._ctx.backend.delete(key)
                except StoreError as exc:
                    self._ctx.events.store_failure(exc)
                    raise
        self._start_empty(self._ctx.clock())
        self.modified = True

    def cycle_key(self) -> None:
        """Keep the data under a new key and delete the old one (call it at login).

        The new key is written, and the old one deleted, when the response starts.
        """
        self._load()
        if self._key is not None and not self._key_is_new:
            self._retired_key = self._key
        self._key = _lifecycle.new_session_key()
        self._key_is_new = True
        self.modified = True

    def set_user(self, user_id: str | int) -> None:
        """Record whose session this is, so :meth:`delete_user_sessions` can end all of them.

        Kept beside the data (not as a key); stores with a per-user index (Redis, SQL,
        memory) add the session to the user's index when it is saved. ValueError for an
        id no store can write (a lone surrogate).
        """
        user = str(user_id)
        if not user.isascii() and _changes.unencodable(user) is not None:
            raise ValueError("set_user: the user id holds a lone surrogate, which no store can encode as UTF-8")
        self._load()
        self._user_id, self._user_changed = user, True
        self.modified = True

    @property
    def user_id(self) -> str | None:
        """The user given to :meth:`set_user`, or None."""
        self._load()
        return self._user_id

    def delete_user_sessions(self, keep_current: bool = True) -> int:
        """End this user's other sessions ("log out everywhere else"); return how many ended.

        With ``keep_current=False`` this session's record goes too (then call :meth:`flush`).
        Raises UnsupportedOperation where the engine keeps no per-user index, and
        ValueError for a session without a user.
        """
        self._load()
        if self._user_id is None:
            raise ValueError("this session has no user: call set_user() first")
        keep = self._key if keep_current and not self._key_is_new else None
        return self._ctx.backend.delete_user_sessions(self._user_id, keep)

    def save(self) -> None:
        """Save the session now, as Django's ``request.session.save()``: it has a :attr:`session_key` afterwards.

        Saves even an empty session (Django apps call it to get a key). The cookie
        still goes out when the response starts, and that commit saves again only
        if the session changed since. Raises StoreError (as the commit would) or
        SessionDataError; does nothing while the store is down and
        ``SESSION_STORE_FAILURE`` is ``"anonymous"``.
        """
        from ._commit import save_now  # _commit imports this module

        save_now(self)

    def set_test_cookie(self) -> None:
        """Django's check that the browser keeps cookies: see :meth:`test_cookie_worked` on the next request."""
        self[self.TEST_COOKIE_NAME] = self.TEST_COOKIE_VALUE

    def test_cookie_worked(self) -> bool:
        """True when the browser sent back the session :meth:`set_test_cookie` set on an earlier request."""
        return bool(self.get(self.TEST_COOKIE_NAME) == self.TEST_COOKIE_VALUE)

    def delete_test_cookie(self) -> None:
        """Remove the value :meth:`set_test_cookie` set."""
        del self[self.TEST_COOKIE_NAME]

    def set_expiry(self, value: int | datetime | timedelta | None) -> None:
        """Seconds of inactivity, 0 (browser close), a datetime/timedelta deadline, or None (default).

        As in Django, a negative number of seconds or a deadline in the past ends the
        session: nothing is saved and the browser is told to drop its cookie.
        """
        self._load()
        self._expiry = _lifecycle.normalize_expiry(value, self._ctx.clock())
        self.modified = True

    def get_expiry_age(self, *, modification: datetime | None = None, expiry: Any = _MISSING) -> int:
        """Seconds from ``modification`` (default now) until the session expires."""
        chosen = self._load_expiry() if expiry is self._MISSING else expiry
        return _lifecycle.expiry_age(chosen, self._moment(modification), self._ctx.settings.cookie_age,
                                     self._deadline())

    def get_expiry_date(self, *, modification: datetime | None = None, expiry: Any = _MISSING) -> datetime:
        """When the session expires, as an aware UTC datetime."""
        chosen = self._load_expiry() if expiry is self._MISSING else expiry
        when = _lifecycle.expires_at(chosen, self._moment(modification), self._ctx.settings.cookie_age,
                                     self._deadline())
        return datetime.fromtimestamp(when, UTC)

    def get_expire_at_browser_close(self) -> bool:
        """Whether the cookie ends with the browser session."""
        return _lifecycle.expire_at_browser_close(self._load_expiry(), self._ctx.settings.expire_at_browser_close)

    def _deadline(self) -> float | None:
        """The absolute end of the session (SESSION_ABSOLUTE_AGE after it began, or the back end's lifetime)."""
        age = self._ctx.settings.absolute_age
        if age is not None:
            return self._created_at + age
        lifetime = self._ctx.backend.lifetime
        return None if lifetime is None else _lifecycle.lifetime_deadline(self._expiry, self._created_at, lifetime)

    def _load_expiry(self) -> _lifecycle.Expiry:
        self._load()
        return self._expiry

    def _moment(self, when: datetime | None) -> float:
        if when is None:
            return self._ctx.clock()
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()

    # --- bookkeeping for the commit (see _commit) -----------------------------------

    def _release_lock(self) -> None:
        """Release the session lock taken at load (SESSION_LOCKING); safe to call twice."""
        if self._data is not None and self._lock is not None:
            key, token = self._lock
            self._lock = None
            try:
                self._ctx.backend.release(key, token)
            except StoreError as exc:  # the lease ends by itself; nothing else to do
                self._ctx.events.store_failure(exc)

    def _saved(self, pending: Pending, version: int | None = None) -> None:
        """Record that ``pending`` landed: later changes are measured from here."""
        if pending.is_new:  # the browser's cookie, if any, names another key
            self._reusable_cookie = None
        self._key, self._key_is_new, self._retired_key = pending.key, False, None
        self._expires_at, self._user_changed = pending.expires_at, False
        self._snapshot = _changes.after_save(self._snapshot, pending.changed, pending.deleted, pending.is_new)
        self._dirty = set()
        self._version = version
        self.modified = False
