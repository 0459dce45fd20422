"""The commit point: turn a session's state into a store write and response headers."""

from __future__ import annotations

import logging

from . import _lifecycle, cookies
from .session import Session

logger = logging.getLogger("wsgisession")

Header = tuple[str, str]


def commit(session: Session, status: int) -> list[Header]:
    """Save the session if it must be, and return the headers the response needs.

    Called when the application calls ``start_response``. Raises StoreError,
    SessionDataError or CookieTooLargeError before any header is sent.
    """
    if not session.accessed and not session._ctx.settings.save_every_request:
        return []
    session._load()
    outcome = _lifecycle.decide(
        accessed=session.accessed, wants_save=session._wants_save(), empty=session.is_empty(),
        had_cookie=session._had_cookie, status=status,
    )
    headers: list[Header] = []
    if outcome.delete_cookie:
        headers.append(cookies.delete_cookie_header(session._ctx.settings))
    elif outcome.save:
        cookie = _save(session)
        if cookie is not None:
            headers.append(cookie)
    if outcome.vary:
        headers.append(("Vary", "Cookie"))
    return headers


def commit_late(session: Session, status: int | None) -> None:
    """Save changes made while the body was being sent (no cookie can be set any more).

    ``status`` is the response's status (None if the app never started one): nothing
    is saved for a server error, as at the commit point.
    """
    if status is None or status >= 500:
        return
    if session._data is None or not session._wants_save() or session.is_empty():
        return
    if session._key is None or session._key_is_new:
        logger.warning("session changed after the response started, for a key the browser does not hold; dropped")
        return
    _save(session)


def _save(session: Session) -> Header | None:
    settings = session._ctx.settings
    now = session._ctx.clock()
    pending = session._pending(now)
    value = session._ctx.backend.save(pending)
    if value is None:
        return None
    if _lifecycle.expire_at_browser_close(pending.expiry, settings.expire_at_browser_close):
        header = cookies.set_cookie_header(settings, value, None, None)
    else:
        max_age = _lifecycle.expiry_age(pending.expiry, now, settings.cookie_age)
        header = cookies.set_cookie_header(settings, value, max_age, now + max_age)
    session._saved(pending)
    return header
