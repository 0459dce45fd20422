"""The exceptions wsgisession raises: one tree under :class:`WSGISessionError`."""

from __future__ import annotations

import re
from dataclasses import dataclass

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"]*")
_QUERY_VALUE = re.compile(r"=[^&;#]*")
_WITH_AT = re.compile(r"[^\s'\"]*@[^\s'\"]*")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:/*")


def mask_urls(text: str) -> str:
    """``text`` with the userinfo (``user:password@``) and the query values of every URL in it shown as ``***``.

    Every query value goes, not only ``password=``: redis-py, SQLAlchemy and the drivers
    take credentials in the query under several names. A mistyped URL (``redis:/:pw@host``,
    ``user:pw@host``) loses everything before its last ``@`` too, bar its scheme.
    """
    return _WITH_AT.sub(_mask_before_at, _URL.sub(_mask_url, text))


def mask_value(value: object) -> str:
    """``repr(value)`` masked as :func:`mask_urls` does, a string (or each string of a list) taken whole as one URL.

    So a blank or a quote inside a password or a query value, which ends a URL in free
    text, cannot leave the part of it before the blank or quote shown.
    """
    if isinstance(value, (list, tuple)):
        return mask_urls(repr(type(value)(_mask_whole(item) if isinstance(item, str) else item for item in value)))
    return mask_urls(repr(_mask_whole(value) if isinstance(value, str) else value))


def mask_url(url: str) -> str:
    """One URL masked as :func:`mask_urls` does, taken whole: a blank or a quote in its password masks on."""
    return mask_urls(_mask_whole(url))


def _mask_whole(text: str) -> str:
    if "@" in text:
        text = _before_last_at_masked(text)
    base, question, query = text.partition("?")
    return f"{base}?{_QUERY_VALUE.sub('=***', query)}" if question and "://" in base else text


def _mask_url(match: re.Match[str]) -> str:
    scheme, _, rest = match.group().partition("://")
    if "@" in rest:  # up to the last "@": a password may hold "@", "/", "?" or "#"
        rest = "***@" + rest.rpartition("@")[2]
    rest, hash_, fragment = rest.partition("#")
    rest, question, query = rest.partition("?")
    return f"{scheme}://{rest}{question}{_QUERY_VALUE.sub('=***', query)}{hash_}{fragment and '***'}"


def _mask_before_at(match: re.Match[str]) -> str:
    return _before_last_at_masked(match.group())


def _before_last_at_masked(text: str) -> str:
    head, _, host = text.rpartition("@")
    scheme = _SCHEME.match(head)
    return f"{scheme.group() if scheme else ''}***@{host}"


class WSGISessionError(Exception):
    """Base class of every error this package raises."""


@dataclass(frozen=True)
class SettingProblem:
    """One thing wrong with the settings dict."""

    #: The settings key the problem is about.
    key: str
    #: What the key should hold, in words.
    expected: str
    #: ``repr`` of what it held (never the value of a secret; URLs shown by :func:`mask_urls`).
    received: str
    #: The closest valid key, for a key that looks like a typo.
    suggestion: str | None = None

    def __post_init__(self) -> None:
        # Masked here, once, so that no code path building a problem can show a URL's password.
        object.__setattr__(self, "received", mask_urls(self.received))

    def __str__(self) -> str:
        text = f"{self.key}: expected {self.expected}, got {self.received}"
        if self.suggestion:
            text += f" (did you mean {self.suggestion}?)"
        return text


class ConfigurationError(WSGISessionError, ValueError):
    """The settings are wrong; raised when the middleware is built.

    Every problem found is listed at once in ``problems`` (a list of :class:`SettingProblem`).
    """

    def __init__(self, problems: list[SettingProblem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid wsgisession settings:\n{lines}")


class StoreError(WSGISessionError):
    """The session store failed (unreachable, refused, out of space).

    Raised ``from`` the store's own exception. Missing or expired sessions are
    never a ``StoreError``: they read as an empty session.
    """

    def __init__(self, store: str, operation: str, detail: str) -> None:
        self.store = store
        self.operation = operation
        super().__init__(f"session store {store!r} failed to {operation}: {detail}")


class StoreMisconfigured(StoreError):
    """The store refused the configuration: authentication failed, no such database or table, permission denied.

    Unlike an outage it will not pass by itself, so the middleware answers 500 (not 503
    with ``Retry-After``) and logs it once per worker and kind. ``setting`` names the
    setting to fix, ``server`` where the store is (never with a password), ``problem``
    the kind in a few words and ``fix`` what to do.
    """

    def __init__(self, store: str, operation: str, detail: str, *, setting: str, server: str, problem: str,
                 fix: str) -> None:
        self.store = store
        self.operation = operation
        self.setting = setting
        self.server = mask_url(server)
        self.problem = problem
        self.fix = fix
        #: The driver's or server's own words.
        self.detail = detail
        WSGISessionError.__init__(self, f"session store {store!r} at {self.server} is misconfigured ({problem}),"
                                        f" so it cannot {operation}: {detail}; fix {setting}: {fix}")


class LockTimeoutError(StoreError):
    """``SESSION_LOCKING``: another request held the session longer than ``SESSION_LOCK_TIMEOUT``."""

    def __init__(self, store: str, waited: float) -> None:
        super().__init__(store, "lock the session", f"another request held it for more than {waited:g} s")


class LockLostError(StoreError):
    """``SESSION_LOCKING``: the request's lock on its session ran out before the save; nothing was saved."""

    def __init__(self, store: str) -> None:
        super().__init__(store, "save under the session lock",
                         "the lock expired (the request outlived SESSION_LOCK_TIMEOUT); nothing was saved")


class SessionDataError(WSGISessionError, TypeError):
    """A session value cannot be serialized; nothing was written."""

    def __init__(self, key: str, detail: str) -> None:
        self.key = key
        super().__init__(f"session value for key {key!r} cannot be saved: {detail}")


class SessionTooLargeError(SessionDataError):
    """The session's data would exceed ``SESSION_MAX_SIZE`` once saved; nothing was written.

    ``size`` and ``limit`` are in bytes; ``largest`` lists the (up to three) largest keys
    with their sizes, largest first, and ``key`` is the largest. Values are never shown.
    """

    def __init__(self, size: int, limit: int, largest: list[tuple[str, int]]) -> None:
        self.key = largest[0][0] if largest else ""
        self.size = size
        self.limit = limit
        self.largest = largest
        keys = ", ".join(f"{_short(key)!r} ({bytes_:,} bytes)" for key, bytes_ in largest)
        WSGISessionError.__init__(self, f"the session would hold {size:,} bytes of data, over SESSION_MAX_SIZE"
                                        f" ({limit:,}); nothing was saved; largest keys: {keys}")


def _short(key: str) -> str:
    """A key as an error shows it: at most 60 characters (a key may be built from data)."""
    return key if len(key) <= 60 else f"{key[:57]}..."


class CookieTooLargeError(WSGISessionError, ValueError):
    """The session cookie would exceed what browsers keep, or carry more data than a signed cookie may; nothing sent."""

    def __init__(self, size: int, limit: int,
                 message: str = "the session cookie would be {size} bytes, over the browser limit of {limit}") -> None:
        self.size = size
        self.limit = limit
        advice = "store less in the session or use a server-side engine"
        super().__init__(f"{message.format(size=size, limit=limit)}: {advice}")


class UnsupportedOperation(WSGISessionError):
    """The configured engine cannot do this (for example, no per-user index of sessions)."""


class MiddlewareMissingError(WSGISessionError, LookupError):
    """``get_session`` was called on an environ the middleware never saw."""
