"""The only module that reads the Cookie header or writes Set-Cookie (through werkzeug)."""

from __future__ import annotations

from werkzeug.http import dump_cookie
from werkzeug.sansio.http import parse_cookie

from .errors import CookieTooLargeError
from .settings import Settings

#: Browsers keep cookies up to 4096 bytes, name, value and attributes included.
BROWSER_COOKIE_LIMIT = 4096


def read_session_cookie(header: str | None, name: str) -> str | None:
    """The session cookie's value from a Cookie header, or None if there is none.

    When the browser sends the name twice, the first value wins: browsers send the
    cookie with the most specific path first (RFC 6265, section 5.4).
    """
    if not header or name not in header:
        return None
    if not header.isascii():
        # WSGI hands over the header's bytes as latin-1; werkzeug's WSGI-level parser
        # raises on bytes that are not UTF-8, so decode leniently here.
        header = header.encode("latin-1", "replace").decode("utf-8", "replace")
    return parse_cookie(header).get(name)


def set_cookie_header(settings: Settings, value: str, max_age: int | None, expires: float | None) -> tuple[str, str]:
    """A ``Set-Cookie`` header for the session cookie; CookieTooLargeError past the browser limit."""
    header = _dump(settings, value, max_age, expires)
    if len(header.encode("latin-1")) > BROWSER_COOKIE_LIMIT:
        raise CookieTooLargeError(len(header.encode("latin-1")), BROWSER_COOKIE_LIMIT)
    return ("Set-Cookie", header)


def delete_cookie_header(settings: Settings) -> tuple[str, str]:
    """A ``Set-Cookie`` header that makes the browser drop the session cookie."""
    return ("Set-Cookie", _dump(settings, "", 0, 0))


def _dump(settings: Settings, value: str, max_age: int | None, expires: float | None) -> str:
    return dump_cookie(
        settings.cookie_name, value, max_age=max_age, expires=expires, path=settings.cookie_path,
        domain=settings.cookie_domain, secure=settings.cookie_secure, httponly=settings.cookie_httponly,
        samesite=settings.cookie_samesite, sync_expires=False, max_size=0,
    )
