"""The only module that reads the Cookie header or writes Set-Cookie (through werkzeug).

Both run on every request that touches the session, so each has a fast path for the
common case that gives exactly what werkzeug gives (a test compares them on generated
headers): a plain ``name=value; …`` header, and a value that needs no quoting.
"""

from __future__ import annotations

import functools
import string

from werkzeug.http import dump_cookie, http_date
from werkzeug.sansio.http import parse_cookie

from .errors import CookieTooLargeError
from .settings import Settings

#: Browsers keep cookies up to 4096 bytes, name, value and attributes included.
BROWSER_COOKIE_LIMIT = 4096

# What werkzeug writes without quotes: our values (keys, signatures, base64) always are.
_UNQUOTED_CHARACTERS = (string.ascii_letters + string.digits + "_!#$%&'()*+-./:<=>?@[]^`{|}~").encode("ascii")
# Markers that a template rendered by werkzeug holds where the per-response parts go.
_VALUE, _MAX_AGE, _EXPIRES_AT = "WSGISESSIONVALUE", 987654321, 4102444800.0


def read_session_cookie(header: str | None, name: str) -> str | None:
    """The session cookie's value from a Cookie header, or None if there is none.

    When the browser sends the name twice, the first value wins: browsers send the
    cookie with the most specific path first (RFC 6265, section 5.4).
    """
    if not header or name not in header:
        return None
    if header.isascii() and '"' not in header and "\\" not in header:
        for pair in header.split(";"):
            key, _, value = pair.partition("=")
            if key.strip(" \t") == name:
                value = value.strip(" \t")
                if " " in value or "\t" in value:
                    break  # werkzeug skips such a pair: let it read the whole header
                return value
        else:
            return None
    if not header.isascii():
        # WSGI hands over the header's bytes as latin-1; werkzeug's WSGI-level parser
        # raises on bytes that are not UTF-8, so decode leniently here.
        header = header.encode("latin-1", "replace").decode("utf-8", "replace")
    return parse_cookie(header).get(name)


def set_cookie_header(settings: Settings, value: str, max_age: int | None, expires: float | None) -> tuple[str, str]:
    """A ``Set-Cookie`` header for the session cookie; CookieTooLargeError past the browser limit.

    ``Expires`` is written to the second (``expires`` is truncated, as HTTP dates are).
    """
    if expires is not None:
        expires = float(int(expires))
    # Deleting every allowed byte leaves nothing: half the time of a regular expression.
    if value.isascii() and not value.encode("ascii").translate(None, _UNQUOTED_CHARACTERS):
        header = _from_template(settings, value, max_age, expires)
    else:
        header = _dump(settings, value, max_age, expires)
    size = len(header) if header.isascii() else len(header.encode("latin-1"))
    if size > BROWSER_COOKIE_LIMIT:
        raise CookieTooLargeError(size, BROWSER_COOKIE_LIMIT)
    return ("Set-Cookie", header)


def delete_cookie_header(settings: Settings) -> tuple[str, str]:
    """A ``Set-Cookie`` header that makes the browser drop the session cookie."""
    return ("Set-Cookie", _dump(settings, "", 0, 0))


def _from_template(settings: Settings, value: str, max_age: int | None, expires: float | None) -> str:
    templates = _last_templates
    if templates[0] is not settings:
        # Two slots: SESSION_COOKIE_SECURE = "auto" alternates between an HTTP and an HTTPS variant.
        templates = _other_templates if _other_templates[0] is settings else _templates(settings)
    if max_age is None or expires is None:
        before, after = templates[1]
        return before + value + after
    before, after_value, after_date, after_age = templates[2]
    return f"{before}{value}{after_value}{_date(int(expires))}{after_date}{max_age}{after_age}"


#: The templates of the settings used last (and of the ones before): their identity is checked, so no hashing.
_last_templates: tuple[Settings | None, tuple[str, ...], tuple[str, ...]] = (None, (), ())
_other_templates = _last_templates


def _templates(settings: Settings) -> tuple[Settings, tuple[str, ...], tuple[str, ...]]:
    """The header werkzeug writes for these settings, cut where the value, date and max-age go."""
    global _last_templates, _other_templates
    # Split at the attribute names too (maxsplit 1), so a path or domain holding a marker's text stays whole.
    name_is, after = _dump(settings, _VALUE, None, None).split("=" + _VALUE, 1)
    before, rest = _dump(settings, _VALUE, _MAX_AGE, _EXPIRES_AT).split("=" + _VALUE, 1)
    after_value, rest = rest.split(f"Expires={_date(int(_EXPIRES_AT))}", 1)
    after_date, after_age = rest.split(f"Max-Age={_MAX_AGE}", 1)
    _other_templates, _last_templates = _last_templates, (settings, (name_is + "=", after),
                       (before + "=", after_value + "Expires=", after_date + "Max-Age=", after_age))
    return _last_templates


@functools.lru_cache(maxsize=4)
def _date(when: int) -> str:
    # Responses within one second share their Expires date.
    return http_date(when)


def _dump(settings: Settings, value: str, max_age: int | None, expires: float | None) -> str:
    return dump_cookie(
        settings.cookie_name, value, max_age=max_age, expires=expires, path=settings.cookie_path,
        domain=settings.cookie_domain, secure=bool(settings.cookie_secure), httponly=settings.cookie_httponly,
        samesite=settings.cookie_samesite, sync_expires=False, max_size=0, partitioned=settings.cookie_partitioned,
    )
