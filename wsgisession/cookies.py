"""The only module that reads the Cookie header (by werkzeug's rules) or writes Set-Cookie (through werkzeug).

Both run on every request that touches the session, so each has a fast path for the
common case that gives exactly what werkzeug gives (a test compares them on generated
headers): a plain ``name=value; …`` header, and a value that needs no quoting. The Cookie
header is read by werkzeug's rules, but without its backtracking pattern (see ``_PAIR``).
"""

from __future__ import annotations

import functools
import re
import string

from werkzeug.http import dump_cookie, http_date

from .errors import CookieTooLargeError
from .settings import Settings

#: Browsers keep cookies up to 4096 bytes, name, value and attributes included.
BROWSER_COOKIE_LIMIT = 4096

# What werkzeug writes without quotes: our values (keys, signatures, base64) always are.
_UNQUOTED_CHARACTERS = (string.ascii_letters + string.digits + "_!#$%&'()*+-./:<=>?@[]^`{|}~").encode("ascii")
# Markers that a template rendered by werkzeug holds where the per-response parts go.
_VALUE, _MAX_AGE, _EXPIRES_AT = "WSGISESSIONVALUE", 987654321, 4102444800.0


#: How many values of the session cookie are read (and tried) when the browser sends several.
MAX_SESSION_COOKIES = 4

# werkzeug's cookie pattern (werkzeug.sansio.http._cookie_re) with every quantifier possessive
# (and runs of plain characters in a quoted value taken at once). No backtracking into a
# quantifier of that pattern can turn a failed match into a different one (a shorter run
# leaves a character the next part refuses), so the matches are the same; with it, blanks
# between "=" and a character the value refuses cost time quadratic in their number
# ("sessionid=" + 8000 spaces + 'x"': half a second per request).
_PAIR = re.compile(
    r"""
    [ \t]*+
    ([^ \t=";]++)
    (?:[ \t]*+=[ \t]*+
        (
            "(?:[^\\"]++|\\.)*+"
        |
            [^ \t";]*+
        )
    )?
    [ \t]*+
    (?:;|\Z)
    """,
    flags=re.ASCII | re.VERBOSE,
)
# Backslash escapes inside a quoted value, as werkzeug undoes them (an octal byte, or the character).
_ESCAPE = re.compile(rb"\\([0-3][0-7]{2}|.)")


def read_session_cookie(header: str | None, name: str) -> str | None:
    """The first value of the cookie ``name`` in a Cookie header (what werkzeug reads), or None."""
    values = read_session_cookies(header, name)
    return values[0] if values else None


def read_session_cookies(header: str | None, name: str) -> tuple[str, ...]:
    """The values of the cookies named ``name`` in a Cookie header, in order, at most MAX_SESSION_COOKIES.

    Exactly what werkzeug's ``werkzeug.sansio.http.parse_cookie(header).getlist(name)``
    begins with (bytes that are not UTF-8 read as U+FFFD), in time linear in the header's
    length whatever it holds (werkzeug's own pattern backtracks on some headers). Browsers
    send the cookie with the most specific path first (RFC 6265, section 5.4); another site
    of the same domain can add cookies of the same name ("cookie tossing"), so the caller
    decides which to trust.
    """
    if not header or name not in header:
        return ()
    if header.isascii():
        if '"' not in header and "\\" not in header:  # the fast path: split at semicolons
            first = None
            for pair in header.split(";"):
                if name in pair:
                    key, _, value = pair.partition("=")
                    if key.strip(" \t") == name:
                        value = value.strip(" \t")
                        if first is not None or " " in value or "\t" in value:
                            break  # several values, or one werkzeug skips: the whole parser decides
                        first = value
            else:
                return () if first is None else (first,)
    else:
        # WSGI hands over the header's bytes as latin-1; werkzeug's WSGI-level parser
        # raises on bytes that are not UTF-8, so decode leniently here.
        header = header.encode("latin-1", "replace").decode("utf-8", "replace")
    return _parsed_values(header, name)


def _parsed_values(header: str, name: str) -> tuple[str, ...]:
    """werkzeug's parsing loop (``werkzeug.sansio.http.parse_cookie``), on the possessive pattern."""
    values: list[str] = []
    position, match = 0, _PAIR.match
    while len(values) < MAX_SESSION_COOKIES:
        found = match(header, position)
        if found is None:  # skip to the next pair
            position = header.find(";", position) + 1
            if position == 0:
                break
            continue
        position = found.end()
        key, value = found.groups()
        if key == name:
            if value is None:
                value = ""
            elif value.startswith('"') and value.endswith('"'):
                value = _ESCAPE.sub(_unescape, value[1:-1].encode()).decode(errors="replace")
            values.append(value)
    return tuple(values)


def _unescape(escape: re.Match[bytes]) -> bytes:
    text = escape.group(1)
    return text if len(text) == 1 else int(text, 8).to_bytes(1, "big")


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
