"""The commit point: turn a session's state into a store write and response headers."""

from __future__ import annotations

import logging
from datetime import datetime

from . import _changes, _lifecycle, _limits, cookies
from ._headers import varies_on_cookie
from .backends.contract import Pending
from .errors import StoreError
from .session import Session

logger = logging.getLogger("wsgisession")

Header = tuple[str, str]

VARY: Header = ("Vary", "Cookie")


def commit(session: Session, status: int) -> list[Header]:
    """Save or touch the session if it must be, and return the headers the response needs.

    Called when the application calls ``start_response``, for a session it used (or
    for every session with ``SESSION_SAVE_EVERY_REQUEST``). Raises StoreError,
    SessionDataError or CookieTooLargeError before any header is sent. A session
    lock taken for this request is released here, whatever happens.
    """
    try:
        return _commit(session, status)
    finally:
        session._release_lock()


def _commit(session: Session, status: int) -> list[Header]:
    accessed = session.accessed
    if session._data is None:  # SESSION_SAVE_EVERY_REQUEST, and the app never used the session
        session._load()
        session.accessed = False  # our load is not the app's: it alone adds no Vary
    if session._degraded:  # SESSION_STORE_FAILURE = "anonymous": no save, no cookie change
        return [VARY] if accessed else []
    now = session._ctx.clock()
    wants_save = wants_to_save(session)
    empty = session._key is None and not session._data  # Session.is_empty, without loading again
    outcome = _lifecycle.decide(accessed, wants_save, empty, session._had_cookie, status)  # positional: faster
    headers: list[Header] = []
    saved_cookie, session._saved_cookie = session._saved_cookie, None  # from session.save() during the request
    if outcome.delete_cookie:
        headers.append(cookies.delete_cookie_header(session._ctx.settings))
    elif outcome.save or (not wants_save and not empty and status < 500 and due_for_touch(session, now)):
        cookie = _write(session, now, touch=not outcome.save) or saved_cookie
        if cookie is not None:
            headers.append(cookie)
    elif saved_cookie is not None and status < 500:
        headers.append(saved_cookie)
    if outcome.vary:
        headers.append(VARY)
    return headers


def commit_late(session: Session, status: int | None, *, late_access: bool = False,
                 headers: list[Header] | None = None) -> None:
    """Save changes made while the body was being sent (no cookie can be set any more).

    ``status`` is the response's status (None if the app never started one): nothing
    is saved for a server error, as at the commit point. ``late_access`` says the app
    first used the session after starting its response, whose ``headers`` were sent
    then: without ``Vary: Cookie`` that is warned about (once per process). Releases a
    lock still held.
    """
    try:
        if late_access and not varies_on_cookie(headers or []):
            _warn_no_vary()
        if session._data is not None and session._saved_cookie is not None:
            session._saved_cookie = None
            logger.warning("session.save() after the response started: its cookie could not be sent")
        if status is None or status >= 500:
            return
        if session._data is None or session._degraded or not _changed_since_commit(session) or session.is_empty():
            return
        if session._key is None or session._key_is_new:
            logger.warning("session changed after the response started, for a key the browser does not hold;"
                           " dropped")
            return
        _write(session, session._ctx.clock(), touch=False)
    finally:
        session._release_lock()


def _changed_since_commit(session: Session) -> bool:
    """Modified or mutated in place since the commit point (which did any save every request asks)."""
    assert session._data is not None
    return session.modified or bool(_changes.mutated(session._ctx.serializer.dumps, session._data,
                                                     session._snapshot, session._dirty))


_warned_no_vary = False


def _warn_no_vary() -> None:
    global _warned_no_vary
    if _warned_no_vary:
        return
    _warned_no_vary = True
    logger.warning("the session was first used after the response started (while its body was sent), so the"
                   " response has no 'Vary: Cookie' and a shared cache may serve it to other users; use the"
                   " session before start_response, or send 'Vary: Cookie' yourself (logged once per process)")


def _write(session: Session, now: float, *, touch: bool) -> Header | None:
    """Save (or only renew the expiry of) the session; the Set-Cookie header to send, if any.

    On a store failure: log it, then raise or (``SESSION_STORE_FAILURE = "anonymous"``) give up the save.
    """
    pending = pending_for(session, now)
    context = session._ctx
    if pending.expires_at <= now:  # set_expiry(-n), a past deadline, SESSION_COOKIE_AGE = 0: Django's "expired"
        return _end_expired(session, pending)
    if not touch:
        check_max_size(pending, context.settings.max_size)
    try:
        value = context.backend.touch(pending) if touch else context.backend.save(pending)
    except StoreError as exc:
        context.events.store_failure(exc)
        if context.settings.store_failure == "raise":
            raise
        return None
    if value is None:
        return None
    max_age = pending.cookie_max_age
    header = cookies.set_cookie_header(context.settings, value, max_age, None if max_age is None else now + max_age)
    session._saved(pending)
    return header


def save_now(session: Session) -> None:
    """``session.save()``: write the session now, so that it has a key inside the request.

    The Set-Cookie header is kept for the commit point, which sends it (status < 500)
    and saves again only what changed since.
    """
    session._load()
    if session._degraded:  # SESSION_STORE_FAILURE = "anonymous": no save
        return
    header = _write(session, session._ctx.clock(), touch=False)
    if header is not None:
        session._saved_cookie = header


def _end_expired(session: Session, pending: Pending) -> Header | None:
    """A session that expires as it is saved: delete what the store holds and the browser's cookie."""
    context = session._ctx
    for key in (None if pending.is_new else pending.key, pending.retired_key):
        if key is not None:
            try:
                context.backend.delete(key)
            except StoreError as exc:
                context.events.store_failure(exc)
                if context.settings.store_failure == "raise":
                    raise
    session._saved(pending)
    session._key = None  # nothing stored under it: the next save starts a new key
    return cookies.delete_cookie_header(context.settings) if session._had_cookie else None


# --- what the session's state asks of a commit ---------------------------------------


def wants_to_save(session: Session) -> bool:
    """Modified, saving every request, or a value changed in place (checked per key)."""
    if session._data is None:
        return False
    if session.modified or session._ctx.settings.save_every_request:
        return True
    return bool(_changes.mutated(session._ctx.serializer.dumps, session._data, session._snapshot, session._dirty))


def pending_for(session: Session, now: float) -> Pending:
    """Everything one save of ``session`` writes; raises SessionDataError before anything is written."""
    data, dumps = session._data, session._ctx.serializer.dumps
    assert data is not None  # loaded by the commit
    key, is_new = session._key, session._key_is_new
    if key is None:
        key, is_new = _lifecycle.new_session_key(), True
    if is_new:
        changed, deleted = _changes.serialize_all(dumps, data), _changes.NO_KEYS
    else:
        changed, deleted = _changes.changes(dumps, data, session._snapshot, session._dirty)
    settings, deadline, expiry = session._ctx.settings, session._deadline(), session._expiry
    browser_close = _lifecycle.expire_at_browser_close(expiry, settings.expire_at_browser_close)
    cookie_max_age = None if browser_close else _lifecycle.expiry_age(expiry, now, settings.cookie_age, deadline)
    expires_at = _lifecycle.expires_at(expiry, now, settings.cookie_age, deadline)
    if settings.new_ttl is not None and created_here(session, is_new):  # SESSION_NEW_TTL
        expires_at = _lifecycle.first_expiry(expires_at, now, settings.new_ttl)
    loaded = None if is_new else session._snapshot
    lock = session._lock
    lock_token = lock[1] if lock is not None and not is_new and lock[0] == key else None
    reusable_cookie = None if is_new else session._reusable_cookie

    def all_data() -> dict[str, str]:
        return _changes.serialize_all(dumps, data)

    # Positional, in field order, each value in a variable named after its field: on
    # CPython 3.11 keyword arguments cost about as much as building the object itself.
    return Pending(key, is_new, changed, deleted, expiry, session._created_at, expires_at, cookie_max_age, loaded,
                   session._version, session._retired_key, lock_token, session._user_id, session._user_changed,
                   reusable_cookie, all_data)


def check_max_size(pending: Pending, limit: int | None) -> None:
    """SESSION_MAX_SIZE: SessionTooLargeError if ``pending`` would leave the session over ``limit`` bytes."""
    _limits.check_size(limit, pending.loaded, pending.changed, pending.deleted, pending.is_new)


def due_for_touch(session: Session, now: float) -> bool:
    """True when an unchanged, stored session's idle expiry is due for renewal."""
    if session._key is None or session._key_is_new:
        return False
    if session._ctx.settings.new_ttl is not None and came_back(session):
        return True
    if isinstance(session._expiry, datetime):
        return False
    renewed = _lifecycle.expires_at(session._expiry, now, session._ctx.settings.cookie_age, session._deadline())
    return renewed - session._expires_at >= session._ctx.settings.touch_interval


def created_here(session: Session, is_new: bool) -> bool:
    """The session began in this request: a new key that replaces none, or no cookie came with the request."""
    return (is_new and session._retired_key is None) or not session._had_cookie


def came_back(session: Session) -> bool:
    """SESSION_NEW_TTL: the browser returned the cookie of a session still on its short first expiry.

    Its first touch (whatever SESSION_TOUCH_INTERVAL says) gives it the normal expiry.
    """
    return session._had_cookie and _lifecycle.awaiting_return(
        session._expires_at, session._expiry, session._created_at, session._ctx.settings.cookie_age,
        session._deadline())
