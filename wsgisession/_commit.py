"""The commit point: turn a session's state into a store write and response headers."""

from __future__ import annotations

import logging

from . import _lifecycle, cookies
from ._pending import Pending
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
    session._load()
    if session._degraded:  # SESSION_STORE_FAILURE = "anonymous": no save, no cookie change
        return [VARY]
    now = session._ctx.clock()
    wants_save = session._wants_save()
    empty = session.is_empty()
    outcome = _lifecycle.decide(accessed=session.accessed, wants_save=wants_save, empty=empty,
                                had_cookie=session._had_cookie, status=status)
    headers: list[Header] = []
    if outcome.delete_cookie:
        headers.append(cookies.delete_cookie_header(session._ctx.settings))
    elif outcome.save or (not wants_save and not empty and status < 500 and session._due_for_touch(now)):
        cookie = _write_or_degrade(session, now, touch=not outcome.save)
        if cookie is not None:
            headers.append(cookie)
    if outcome.vary:
        headers.append(VARY)
    return headers


def _write_or_degrade(session: Session, now: float, *, touch: bool) -> Header | None:
    """Write; on a store failure log it, then raise or (anonymous policy) give up the save."""
    try:
        return _write(session, now, touch=touch)
    except StoreError as exc:
        session._ctx.events.store_failure(exc)
        if session._ctx.settings.store_failure == "raise":
            raise
        return None


def commit_late(session: Session, status: int | None) -> None:
    """Save changes made while the body was being sent (no cookie can be set any more).

    ``status`` is the response's status (None if the app never started one): nothing
    is saved for a server error, as at the commit point. Releases a lock still held.
    """
    try:
        if status is None or status >= 500:
            return
        if session._data is None or session._degraded or not session._wants_save() or session.is_empty():
            return
        if session._key is None or session._key_is_new:
            logger.warning("session changed after the response started, for a key the browser does not hold;"
                           " dropped")
            return
        _write_or_degrade(session, session._ctx.clock(), touch=False)
    finally:
        session._release_lock()


def _write(session: Session, now: float, *, touch: bool) -> Header | None:
    """Save (or only renew the expiry of) the session; the Set-Cookie header to send, if any."""
    pending = session._pending(now)
    backend = session._ctx.backend
    value = backend.touch(pending) if touch else backend.save(pending)
    if value is None:
        return None
    header = _cookie_header(session, pending, value, now)
    session._saved(pending)
    return header


def _cookie_header(session: Session, pending: Pending, value: str, now: float) -> Header:
    settings = session._ctx.settings
    if pending.cookie_max_age is None:
        return cookies.set_cookie_header(settings, value, None, None)
    return cookies.set_cookie_header(settings, value, pending.cookie_max_age, now + pending.cookie_max_age)
